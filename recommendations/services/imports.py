"""Interaction imports: HetRec Last.fm `user_artists.dat` and a simple CSV.

HetRec lists play counts per (user, artist); each artist becomes an artist-level track
(`lastfm-artist-<id>`) and each pair one `play` interaction carrying its count in `context`.
The CSV has `user,track_external_id,type,timestamp`; its tracks must already be in the catalog.
Users are created as needed, with unusable passwords. Re-running an import creates nothing new.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.dateparse import parse_datetime

from playlists.models import Track
from playlists.services.bulk import tables_analyze, tracks_bulk_insert
from playlists.services.catalog import ImportResult, RejectedRow

from ..models import Interaction

USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,50}$")
TYPES = frozenset(Interaction.Type.values)


@dataclass
class InteractionImportResult(ImportResult):
    users_created: int = 0
    tracks_created: int = 0

    def summary(self) -> str:
        return (
            f"created {self.created} interactions, {self.users_created} users, "
            f"{self.tracks_created} tracks; skipped {self.skipped} in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class _Row:
    line: int
    username: str
    track_external_id: str
    type: str
    created_at: datetime | None
    context: dict


def detect_format(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    return "hetrec" if header.startswith("userID\tartistID") else "csv"


def _hetrec_artist_names(path: Path) -> dict[str, str]:
    artists = path.with_name("artists.dat")
    if not artists.exists():
        return {}
    with open(artists, encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader, None)
        return {row[0].strip(): row[1].strip()[:300] for row in reader if len(row) >= 2}


def _hetrec_rows(path: Path, rejected: list[RejectedRow]) -> Iterator[_Row]:
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        next(handle, None)
        for number, line in enumerate(handle, start=2):
            cells = line.rstrip("\r\n").split("\t")
            if len(cells) != 3 or not all(c.strip().isdigit() for c in cells):
                rejected.append(
                    RejectedRow(number, "expected userID, artistID, weight as integers")
                )
                continue
            user, artist, weight = (c.strip() for c in cells)
            yield _Row(
                number,
                f"lastfm_{user}",
                f"lastfm-artist-{artist}",
                "play",
                None,
                {"play_count": int(weight), "source": "hetrec"},
            )


def _parse_time(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d{9,11}(\.\d+)?", value):
        return datetime.fromtimestamp(float(value), tz=UTC)
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"timestamp is neither ISO 8601 nor Unix seconds: {value[:40]!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _csv_rows(path: Path, rejected: list[RejectedRow]) -> Iterator[_Row]:
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"user", "track_external_id", "type"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(
                f"CSV header lacks {', '.join(sorted(missing))}; expected "
                "user,track_external_id,type,timestamp"
            )
        for row in reader:
            line = reader.line_num
            username = (row.get("user") or "").strip()
            kind = (row.get("type") or "").strip().lower()
            track = (row.get("track_external_id") or "").strip()
            if not USERNAME_RE.match(username):
                rejected.append(RejectedRow(line, "user must be 3-50 letters, digits or ._-"))
            elif kind not in TYPES:
                rejected.append(
                    RejectedRow(line, f"type must be one of {', '.join(sorted(TYPES))}")
                )
            elif not track:
                rejected.append(RejectedRow(line, "missing track_external_id"))
            else:
                try:
                    created_at = _parse_time(row.get("timestamp") or "")
                except ValueError as exc:
                    rejected.append(RejectedRow(line, str(exc)))
                    continue
                yield _Row(line, username, track, kind, created_at, {"source": "csv"})


def interactions_import(
    *, path: Path, fmt: str | None = None, on_progress: Callable[[int], None] | None = None
) -> InteractionImportResult:
    """Import interactions from `path`; bad rows are reported, good ones kept."""
    started = time.monotonic()
    fmt = fmt or detect_format(path)
    result = InteractionImportResult()
    rows_iter = (
        _hetrec_rows(path, result.rejected) if fmt == "hetrec" else _csv_rows(path, result.rejected)
    )
    rows = list(rows_iter)
    with transaction.atomic():
        users = _ensure_users({r.username for r in rows}, result)
        if fmt == "hetrec":
            _ensure_artist_tracks({r.track_external_id for r in rows}, path, result)
        tracks = dict(
            Track.objects.filter(external_id__in={r.track_external_id for r in rows}).values_list(
                "external_id", "id"
            )
        )
        seen = set(
            Interaction.objects.filter(user_id__in=users.values()).values_list(
                "user_id", "track_id", "type", "created_at"
            )
        )
        seen_untimed = {(u, t, k) for u, t, k, _ in seen}
        new: list[Interaction] = []
        for row in rows:
            track_id = tracks.get(row.track_external_id)
            if track_id is None:
                result.rejected.append(
                    RejectedRow(row.line, f"unknown track {row.track_external_id!r}")
                )
                continue
            user_id = users[row.username]
            key = (user_id, track_id, row.type)
            if (row.created_at is None and key in seen_untimed) or (*key, row.created_at) in seen:
                continue
            seen_untimed.add(key)
            seen.add((*key, row.created_at))
            interaction = Interaction(
                user_id=user_id, track_id=track_id, type=row.type, context=row.context
            )
            if row.created_at is not None:
                interaction.created_at = row.created_at
            new.append(interaction)
        for start in range(0, len(new), 5000):
            Interaction.objects.bulk_create(new[start : start + 5000])
            if on_progress:
                on_progress(len(new[start : start + 5000]))
    tables_analyze(Interaction)
    result.created = len(new)
    result.skipped = len(result.rejected)
    result.seconds = time.monotonic() - started
    return result


def _ensure_users(usernames: set[str], result: InteractionImportResult) -> dict[str, object]:
    user_model = get_user_model()
    existing = dict(user_model.objects.filter(username__in=usernames).values_list("username", "id"))
    unusable = make_password(None)
    missing = [
        user_model(username=name, password=unusable) for name in sorted(usernames - existing.keys())
    ]
    user_model.objects.bulk_create(missing, batch_size=2000)
    result.users_created = len(missing)
    existing.update({u.username: u.id for u in missing})
    return existing


def _ensure_artist_tracks(
    external_ids: set[str], path: Path, result: InteractionImportResult
) -> None:
    names = _hetrec_artist_names(path)
    present = set(
        Track.objects.filter(external_id__in=external_ids).values_list("external_id", flat=True)
    )
    rows = []
    for external_id in sorted(external_ids - present):
        artist_id = external_id.rsplit("-", 1)[-1]
        name = names.get(artist_id) or f"Last.fm artist {artist_id}"
        rows.append(
            {
                "external_id": external_id,
                "title": name,
                "artist": name,
                "metadata": {
                    "level": "artist",
                    "source": "lastfm",
                    "lastfm_artist_id": int(artist_id),
                },
            }
        )
    result.tracks_created = tracks_bulk_insert(rows)
