from django.contrib import admin

from .models import AudioFile, LibraryScan


@admin.register(AudioFile)
class AudioFileAdmin(admin.ModelAdmin):
    list_display = ("path", "origin", "format", "duration_ms", "size", "created_at")
    list_filter = ("origin", "format")
    search_fields = ("path", "content_hash")
    raw_id_fields = ("track", "uploaded_by")


@admin.register(LibraryScan)
class LibraryScanAdmin(admin.ModelAdmin):
    list_display = ("root", "status", "files", "created", "attached", "updated",
                    "rejected_total", "created_at", "finished_at")
    list_filter = ("status",)
