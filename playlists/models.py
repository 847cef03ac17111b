"""Catalog and playlists: tracks with audio features, playlists, their tracks and collaborators."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce, Concat, Lower, Upper

from . import matching

# Audio features a track may carry, with the range a valid value lies in.
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "danceability": (0.0, 1.0),
    "energy": (0.0, 1.0),
    "valence": (0.0, 1.0),
    "acousticness": (0.0, 1.0),
    "instrumentalness": (0.0, 1.0),
    "liveness": (0.0, 1.0),
    "speechiness": (0.0, 1.0),
    "loudness": (-60.0, 5.0),
    "tempo": (0.0, 300.0),
    "key": (-1, 11),
    "mode": (0, 1),
    "time_signature": (0, 7),
}
INTEGER_FEATURES = frozenset({"key", "mode", "time_signature"})
DESCRIPTION_MAX_LENGTH = 2000


class Analysis(models.TextChoices):
    """Where the audio analysis of a track stands (SPEC.md §4 `Track.analysis`)."""

    NONE = "none", "No audio"
    PENDING = "pending", "Waiting for analysis"
    DONE = "done", "Analysed"
    FAILED = "failed", "Analysis failed"


class Track(models.Model):
    """One recording in the catalog; `external_id` makes imports idempotent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    external_id = models.CharField(max_length=128, unique=True)
    title = models.CharField(max_length=300)
    artist = models.CharField(max_length=300)
    album = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # The primary genre, lowercase; also in metadata["genres"] with the others. A column of its
    # own because genre filters and model training scan it over the whole catalog.
    genre = models.CharField(max_length=64, blank=True, db_index=True)
    features = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # `artist|title` normalised (playlists/matching.py): how listens from other players find
    # their track. Derived from artist and title on every write path (save, bulk insert, import).
    match_key = models.CharField(max_length=300, blank=True, db_index=True)
    # Whether the server holds audio for the track (library/: scanned or uploaded files), its
    # cover thumbnails, and where Essentia's analysis of that audio stands. Columns of the track,
    # not looked up in library/, because every list of tracks on the wire carries them. Defaults
    # in the database too: bulk imports COPY rows without these columns.
    has_audio = models.BooleanField(default=False, db_default=False)
    has_cover = models.BooleanField(default=False, db_default=False)
    analysis = models.CharField(max_length=8, choices=Analysis.choices, default=Analysis.NONE,
                                db_default=Analysis.NONE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What catalog search reads (playlists/search.py), kept by the database itself so that every
    # write path (save, bulk_create, COPY, update()) keeps it right: " title | artist | album "
    # in lowercase, whose spaces and bars let one LIKE pattern ask for a whole field or a word
    # start, and metadata's popularity (0 when unknown) that orders results within a tier.
    search_text = models.GeneratedField(
        expression=Lower(Concat(Value(" "), "title", Value(" | "), "artist", Value(" | "),
                                "album", Value(" "), output_field=models.TextField())),
        output_field=models.TextField(), db_persist=True)
    search_popularity = models.GeneratedField(
        expression=Coalesce(Cast(KeyTextTransform("popularity", "metadata"),
                                 models.FloatField()), Value(0.0)),
        output_field=models.FloatField(), db_persist=True)

    class Meta:
        ordering = ["artist", "title"]
        indexes = [
            models.Index(Upper("artist"), name="track_artist_upper_idx"),
            # Search's first tier, a query that is a whole title (playlists/search.py).
            models.Index(Upper("title"), name="track_title_upper_idx"),
            models.Index(fields=["artist", "title"], name="track_artist_title_idx"),
            # The recommendation fallback's "most popular" pools (ORDER BY popularity LIMIT n):
            # without it, a sort over every track's JSON (seconds on a million tracks).
            models.Index(Cast(KeyTextTransform("popularity", "metadata"), models.FloatField()),
                         name="track_popularity_idx"),
            # Generation's hard ranges (features__energy__gte=...): the index serves narrow
            # ranges, and its statistics tell the planner how many rows a range keeps (without
            # them it guesses a handful and scans the genre index or the table in parallel).
            models.Index(KeyTransform("energy", "features"), name="track_energy_idx"),
            models.Index(KeyTransform("tempo", "features"), name="track_tempo_idx"),
            # The catalog's "playable only" filter: few of a million tracks have audio.
            models.Index(fields=["artist", "title"], condition=models.Q(has_audio=True),
                         name="track_playable_idx"),
            # Browsing and the results of a common word, most popular first: the planner walks
            # this index and stops after a page instead of sorting every match. On PostgreSQL it
            # carries search_text, so the walk never reads the (wide) table rows it skips.
            models.Index(fields=["-search_popularity", "id"], include=["search_text"],
                         name="track_rank_idx"),
            # The search index itself is not declared here: a trigram GIN index on search_text
            # on PostgreSQL, an FTS5 trigram table on SQLite (playlists/search_indexes.py).
        ]

    def __str__(self) -> str:
        return f"{self.artist} – {self.title}"

    def save(self, *args, **kwargs):
        self.match_key = matching.match_key(self.artist, self.title)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "match_key"}
        super().save(*args, **kwargs)


class Playlist(models.Model):
    """An ordered list of tracks; `version` grows by one on every change (SPEC.md §4)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    # Free text shown under the name; a default in the database too, for rows written in bulk.
    description = models.TextField(max_length=DESCRIPTION_MAX_LENGTH, blank=True, default="",
                                   db_default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists"
    )
    is_collaborative = models.BooleanField(default=False)
    context = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="playlist_owner_idx")]

    def __str__(self) -> str:
        return self.name


class PlaylistTrack(models.Model):
    """A track's place in a playlist and who put it there."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="playlist_entries")
    position = models.PositiveIntegerField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["playlist", "position"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "track"], name="playlist_track_unique"),
            models.UniqueConstraint(
                fields=["playlist", "position"], name="playlist_position_unique"
            ),
        ]
        indexes = [models.Index(fields=["track"], name="playlisttrack_track_idx")]

    def __str__(self) -> str:
        return f"{self.playlist_id}#{self.position}"


class Collaborator(models.Model):
    """A user other than the owner who may read and edit a playlist."""

    class Role(models.TextChoices):
        EDITOR = "editor", "Editor"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collaborations"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "user"], name="collaborator_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.playlist_id}"


class PlaylistShareLink(models.Model):
    """An invitation link to a collaborative playlist: whoever signs in and opens it may join.

    The link's URL carries this row's id signed with SECRET_KEY (playlists/share_tokens.py), so
    the owner can see the link again while the database alone cannot forge one. Revoking keeps
    the row (who shared, when) and kills the link; a playlist has at most one live link.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    joined_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["playlist"], condition=models.Q(revoked_at=None),
                                    name="share_link_one_live_per_playlist"),
        ]

    def __str__(self) -> str:
        return f"share link {self.pk} of {self.playlist_id}"


class PlaylistEvent(models.Model):
    """Append-only log of playlist changes: one row per `version`, written by the services."""

    class Type(models.TextChoices):
        TRACK_ADDED = "TRACK_ADDED", "Tracks added"
        TRACK_REMOVED = "TRACK_REMOVED", "Tracks removed"
        TRACK_MOVED = "TRACK_MOVED", "Track moved"
        PLAYLIST_UPDATED = "PLAYLIST_UPDATED", "Playlist updated"

    id = models.BigAutoField(primary_key=True)
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="events")
    version = models.PositiveIntegerField()
    type = models.CharField(max_length=32, choices=Type.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["playlist", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["playlist", "version"], name="playlist_event_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playlist_id}@{self.version} {self.type}"
