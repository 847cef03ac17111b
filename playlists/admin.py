from django.contrib import admin

from .models import (
    Collaborator,
    Playlist,
    PlaylistEvent,
    PlaylistShareLink,
    PlaylistTrack,
    Track,
)


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ("title", "artist", "album", "genre", "duration_ms", "created_at")
    list_filter = ("genre",)
    search_fields = ("title", "artist", "album", "external_id")
    readonly_fields = ("id", "created_at", "updated_at")
    show_full_result_count = False  # COUNT(*) over a million rows on every page is wasted work


class PlaylistTrackInline(admin.TabularInline):
    model = PlaylistTrack
    extra = 0
    raw_id_fields = ("track", "added_by")
    readonly_fields = ("added_at",)
    ordering = ("position",)


class CollaboratorInline(admin.TabularInline):
    model = Collaborator
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("added_at",)


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_collaborative", "version", "updated_at")
    list_filter = ("is_collaborative",)
    search_fields = ("name", "owner__username")
    raw_id_fields = ("owner",)
    readonly_fields = ("id", "version", "created_at", "updated_at")
    inlines = [CollaboratorInline, PlaylistTrackInline]


@admin.register(PlaylistTrack)
class PlaylistTrackAdmin(admin.ModelAdmin):
    list_display = ("playlist", "position", "track", "added_by", "added_at")
    list_filter = ("track__genre",)
    search_fields = ("playlist__name", "track__title", "track__artist")
    raw_id_fields = ("playlist", "track", "added_by")
    readonly_fields = ("added_at",)


@admin.register(Collaborator)
class CollaboratorAdmin(admin.ModelAdmin):
    list_display = ("playlist", "user", "role", "added_at")
    list_filter = ("role",)
    search_fields = ("playlist__name", "user__username")
    raw_id_fields = ("playlist", "user")
    readonly_fields = ("added_at",)


@admin.register(PlaylistShareLink)
class PlaylistShareLinkAdmin(admin.ModelAdmin):
    """Links are made and revoked by their owners; staff may revoke one (set `revoked_at`)."""

    list_display = ("playlist", "created_by", "created_at", "revoked_at", "joined_count")
    search_fields = ("playlist__name", "created_by__username")
    raw_id_fields = ("playlist", "created_by")
    readonly_fields = ("id", "playlist", "created_by", "created_at", "joined_count")

    def has_add_permission(self, request):
        return False


@admin.register(PlaylistEvent)
class PlaylistEventAdmin(admin.ModelAdmin):
    """Read-only: the event log is append-only and written by the playlist services."""

    list_display = ("playlist", "version", "type", "user", "created_at")
    list_filter = ("type",)
    search_fields = ("playlist__name", "user__username")
    raw_id_fields = ("playlist", "user")
    readonly_fields = ("playlist", "version", "type", "user", "data", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
