"""Recording listens: decide play or skip (the scrobbling rule), match each to a track, store it
once, and tell the other apps (signals.listens_recorded), all in one transaction."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from playlists.matching import mbid_external_id
from playlists.services.bulk import rows_insert

from ..models import Listen, ListenImport
from ..signals import listens_recorded
from . import matching

# A play counts as a listen from half the track or four minutes on, whichever comes first
# (Last.fm's and ListenBrainz's scrobbling rule); below that, a play left with a skip is a skip.
LISTEN_MAX_THRESHOLD_MS = 240_000
WRITE_BATCH = 5000
PLAYING_NOW_KEY = "listening.playing_now.{}"
PLAYING_NOW_SECONDS = 600


@dataclass
class Heard:
    """One listen as a source reports it, before it is matched to a track."""

    line: int
    artist: str
    title: str
    listened_at: datetime
    album: str = ""
    ms_played: int | None = None  # None: the source counted it as a listen (a scrobble)
    duration_ms: int | None = None
    skipped: bool = False
    played_to_end: bool = False
    spotify_id: str = ""
    mbid: str = ""
    client: str = ""

    def external_ids(self) -> list[str]:
        ids = [self.spotify_id] if self.spotify_id else []
        if self.mbid:
            ids.append(mbid_external_id(self.mbid))
        return ids


def listen_kind(heard: Heard, duration_ms: int | None) -> str | None:
    """`play`, `skip`, or None for a play too short to count either way."""
    if heard.ms_played is None:
        return Listen.Kind.PLAY.value
    duration = duration_ms or heard.duration_ms
    threshold = min(duration // 2, LISTEN_MAX_THRESHOLD_MS) if duration else (
        LISTEN_MAX_THRESHOLD_MS)
    if heard.ms_played >= threshold or (duration is None and heard.played_to_end):
        return Listen.Kind.PLAY.value
    return Listen.Kind.SKIP.value if heard.skipped else None


@dataclass
class ListensResult:
    listens: int = 0
    skips: int = 0
    ignored: int = 0
    duplicates: int = 0
    matched: int = 0
    tracks_created: int = 0
    # The stored listens as plain rows (Listen attnames): what listens_recorded carries.
    new: list[dict] = field(default_factory=list)


@transaction.atomic
def listens_record(*, user, heard: Sequence[Heard], source: str,
                   import_job: ListenImport | None = None,
                   on_progress: Callable[[int], None] | None = None) -> ListensResult:
    """Store what is new among `heard` for `user` (all of it or nothing); returns the counts."""
    result = ListensResult()
    if not heard:
        return result
    # One writer per user at a time: the duplicate check below reads before it writes.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    tracks, result.tracks_created = matching.tracks_resolve(heard)
    now = timezone.now()
    first = min(h.listened_at for h in heard)
    last = max(h.listened_at for h in heard)
    seen = set(Listen.objects.filter(user=user, listened_at__gte=first, listened_at__lte=last)
               .values_list("track_id", "listened_at"))
    for h, track in zip(heard, tracks, strict=True):
        kind = listen_kind(h, track.duration_ms)
        if kind is None:
            result.ignored += 1
            continue
        result.matched += track.in_catalog
        if (track.track_id, h.listened_at) in seen:
            result.duplicates += 1
            continue
        seen.add((track.track_id, h.listened_at))
        result.new.append({
            "user_id": user.pk, "track_id": track.track_id, "listened_at": h.listened_at,
            "kind": kind, "ms_played": h.ms_played, "source": str(source), "client": h.client[:100],
            "import_job_id": import_job.pk if import_job else None, "created_at": now})
        if kind == Listen.Kind.PLAY:
            result.listens += 1
        else:
            result.skips += 1
    for start in range(0, len(result.new), WRITE_BATCH):
        batch = result.new[start:start + WRITE_BATCH]
        rows_insert(Listen, batch)
        if on_progress:
            on_progress(len(batch))
    if result.new:
        listens_recorded.send(sender=Listen, user_id=user.pk, listens=result.new)
    return result


def player_listens_record(*, user_id, interactions: Sequence) -> int:
    """The Audotics player's plays and skips (already interactions) kept as listens for History;
    no `listens_recorded` here, since the recommender has them already."""
    rows = [Listen(user_id=user_id, track_id=i.track_id, listened_at=i.created_at, kind=i.type,
                   source=Listen.Source.PLAYER, client="Audotics",
                   ms_played=(int(i.context["seconds_listened"] * 1000)
                              if "seconds_listened" in i.context else None))
            for i in interactions if i.type in Listen.Kind.values
            and i.context.get("source") == Listen.Source.PLAYER]
    Listen.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def playing_now_set(*, user, heard: Heard) -> None:
    """What a player says is playing now: shown on History for a while, never a listen."""
    cache.set(PLAYING_NOW_KEY.format(user.pk), {
        "artist": heard.artist, "title": heard.title, "album": heard.album,
        "client": heard.client, "since": timezone.now().isoformat()}, PLAYING_NOW_SECONDS)


def playing_now(*, user) -> dict | None:
    """The user's playing-now report, if a player sent one in the last ten minutes."""
    return cache.get(PLAYING_NOW_KEY.format(user.pk))


def listens_list(*, user) -> QuerySet:
    """The user's listens, newest first, with their tracks (History; never another user's)."""
    return Listen.objects.filter(user=user).select_related("track").order_by("-listened_at",
                                                                             "-id")
