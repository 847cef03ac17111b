from django.contrib import admin

from .models import Interaction


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("user", "type", "track", "created_at")
    list_filter = ("type", "track__genre")
    search_fields = ("user__username", "track__title", "track__artist")
    raw_id_fields = ("user", "track")
    readonly_fields = ("id", "created_at")
    date_hierarchy = "created_at"
