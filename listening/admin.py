from django.contrib import admin

from .models import Listen, ListenImport, ListenToken


@admin.register(ListenToken)
class ListenTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at", "last_used_at"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["token_hash"]


@admin.register(ListenImport)
class ListenImportAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "format", "status", "rows", "listens", "skips", "matched",
                    "created_at"]
    list_filter = ["format", "status"]
    search_fields = ["user__username", "file_name"]


@admin.register(Listen)
class ListenAdmin(admin.ModelAdmin):
    list_display = ["user", "track", "kind", "source", "listened_at"]
    list_filter = ["kind", "source"]
    search_fields = ["user__username", "track__title", "track__artist"]
    raw_id_fields = ["user", "track", "import_job"]
