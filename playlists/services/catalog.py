"""Catalog import: Spotify-style CSV (plain or gzip) and JSON Lines into `Track` rows.

A track appears once per playlist in the Spotify file; rows with the same external id are merged
into one Track whose metadata lists every genre, subgenre and playlist it appears in. Imports are
idempotent: a track already present is updated only when the file says something new about it.
Malformed rows are rejected with their line and reason; they never abort the import and never
half-write a track (every row is validated in full before anything is written).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.db import connection, transaction
from django.utils import timezone

from ..matching import match_key
from ..models import FEATURE_RANGES, INTEGER_FEATURES, Track
from ..search_indexes import trigram_indexes_deferred
from .bulk import tables_analyze, tracks_bulk_insert

MAX_TEXT = 300
# Rejected rows printed by the import commands; the rest are counted (or written with --rejects).
SHOWN_REJECTS = 50
# Columns of the Spotify CSV that feed each Track field; JSON Lines may use either spelling.
_ALIASES = {
    "external_id": ("external_id", "track_id", "id"),
    "title": ("title", "track_name", "name"),
    "artist": ("artist", "track_artist"),
    "album": ("album", "track_album_name"),
    "duration_ms": ("duration_ms", "durationMs"),
}
_MISSING = frozenset({"", "NA", "NaN", "nan", "null", "None"})
# Files bigger than this (about 100,000 tracks) rebuild the search indexes once at the end.
DEFER_INDEXES_ABOVE_BYTES = 50 * 1024 * 1024
_TRACK_FIELDS = ["title", "artist", "album", "duration_ms", "genre", "features", "metadata"]


class RowError(ValueError):
    """A row that cannot become a track; the message says why."""


@dataclass
class RejectedRow:
    line: int
    reason: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    seconds: float = 0.0
    rejected: list[RejectedRow] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, skipped {self.skipped} "
            f"in {self.seconds:.1f} s"
        )

    def rejected_lines(self, file_name: str, shown: int = SHOWN_REJECTS) -> list[str]:
        """`file:line: skipped: reason` for the first `shown` rejects, then how many more."""
        lines = [f"{file_name}:{r.line}: skipped: {r.reason}" for r in self.rejected[:shown]]
        if len(self.rejected) > shown:
            lines.append(f"... and {len(self.rejected) - shown} more rejected rows")
        return lines


@dataclass
class ParsedTrack:
    """One validated row, or several rows of one track merged."""

    external_id: str
    title: str
    artist: str
    album: str
    duration_ms: int | None
    features: dict[str, float | int]
    metadata: dict[str, Any]

    def merge(self, other: ParsedTrack) -> None:
        """Fold in a later row of this track: its scalars win, memberships are unioned."""
        memberships = _union_memberships(self.metadata, other.metadata)
        self.title, self.artist, self.album = other.title, other.artist, other.album
        self.duration_ms = other.duration_ms or self.duration_ms
        self.features = {**self.features, **other.features}
        self.metadata = {**self.metadata, **other.metadata, **memberships}

    def track_fields(self) -> dict[str, Any]:
        genres = self.metadata.get("genres") or []
        return {
            "title": self.title,
            "artist": self.artist,
            "album": self.album,
            "duration_ms": self.duration_ms,
            "genre": genres[0] if genres else "",
            "features": self.features,
            "metadata": self.metadata,
        }


_LIST_KEYS = ("genres", "subgenres")


def _union_memberships(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Genres, subgenres and playlists of both, in first-seen order, without repeats."""
    merged: dict[str, Any] = {}
    for key in _LIST_KEYS:
        values = list(old.get(key) or [])
        values += [v for v in new.get(key) or [] if v not in values]
        if values:
            merged[key] = values
    playlists = list(old.get("playlists") or [])
    seen = {p.get("id") for p in playlists}
    playlists += [p for p in new.get("playlists") or [] if p.get("id") not in seen]
    if playlists:
        merged["playlists"] = playlists
    return merged


def _pick(raw: dict[str, Any], name: str) -> Any:
    for key in _ALIASES[name]:
        if key in raw:
            return raw[key]
    return None


def _text(value: Any, name: str, *, required: bool) -> str:
    if value.__class__ is not str:
        if value is None:
            if required:
                raise RowError(f"missing {name}")
            return ""
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise RowError(f"{name} must be text")
        value = str(value)
    text = value.strip()
    if text in _MISSING:
        if required:
            raise RowError(f"missing {name}")
        return ""
    if len(text) > MAX_TEXT:
        raise RowError(f"{name} longer than {MAX_TEXT} characters")
    return text


def _number(value: Any, name: str) -> float | None:
    # Hot path of big imports: try float() first and look at why only when it fails.
    if value.__class__ is str:
        try:
            number = float(value)
        except ValueError:
            if value.strip() in _MISSING:
                return None
            raise RowError(f"{name} is not a number: {value[:40]!r}") from None
        if not math.isfinite(number):
            if value.strip() in _MISSING:
                return None
            raise RowError(f"{name} is not a finite number")
        return number
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RowError(f"{name} is not a number: {str(value)[:40]!r}")
    if not math.isfinite(value):
        raise RowError(f"{name} is not a finite number")
    return float(value)


def parse_track_row(raw: dict[str, Any]) -> ParsedTrack:
    """Validate one row (CSV columns or JSON keys) into a ParsedTrack, or raise RowError."""
    external_id = _text(_pick(raw, "external_id"), "track id", required=True)
    if len(external_id) > 128:
        raise RowError("track id longer than 128 characters")
    title = _text(_pick(raw, "title"), "title", required=True)
    artist = _text(_pick(raw, "artist"), "artist", required=True)
    album = _text(_pick(raw, "album"), "album", required=False)

    duration = _number(_pick(raw, "duration_ms"), "duration_ms")
    if duration is not None and not (0 < duration < 2**31):
        raise RowError(f"duration_ms out of range: {duration:g}")

    nested = raw.get("features") if isinstance(raw.get("features"), dict) else {}
    features: dict[str, float | int] = {}
    for name, (low, high) in FEATURE_RANGES.items():
        value = _number(nested.get(name, raw.get(name)), name)
        if value is None:
            continue
        if not low <= value <= high:
            raise RowError(f"{name} out of range [{low:g}, {high:g}]: {value:g}")
        if name in INTEGER_FEATURES:
            if value != int(value):
                raise RowError(f"{name} must be a whole number: {value:g}")
            value = int(value)
        features[name] = value

    return ParsedTrack(
        external_id=external_id,
        title=title,
        artist=artist,
        album=album,
        duration_ms=int(duration) if duration is not None else None,
        features=features,
        metadata=_metadata(raw, external_id),
    )


def _metadata(raw: dict[str, Any], external_id: str) -> dict[str, Any]:
    given = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    metadata: dict[str, Any] = dict(given)
    popularity = _number(raw.get("track_popularity", given.get("popularity")), "popularity")
    if popularity is not None:
        if not 0 <= popularity <= 100:
            raise RowError(f"popularity out of range [0, 100]: {popularity:g}")
        metadata["popularity"] = int(popularity)
    release = _text(raw.get("track_album_release_date"), "release date", required=False)
    if release:
        metadata["release_date"] = release
        if release[:4].isdigit():
            metadata["release_year"] = int(release[:4])
    genres = list(given.get("genres") or [])
    for key, target in (("playlist_genre", genres), ("genre", genres)):
        value = _text(raw.get(key), key, required=False).lower()
        if value and value not in target:
            target.append(value)
    if genres:
        metadata["genres"] = genres
    subgenre = _text(raw.get("playlist_subgenre"), "subgenre", required=False).lower()
    if subgenre:
        metadata["subgenres"] = [subgenre]
    playlist_id = _text(raw.get("playlist_id"), "playlist id", required=False)
    if playlist_id:
        name = _text(raw.get("playlist_name"), "playlist name", required=False)
        metadata["playlists"] = [{"id": playlist_id, "name": name}]
    album_id = _text(raw.get("track_album_id"), "album id", required=False)
    if album_id:
        metadata["album_id"] = album_id
    metadata.setdefault("external_ids", {"source": external_id})
    return metadata


def _open_binary(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """(raw file, decompressed stream); the raw file's position drives the progress bar."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return raw, gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw, raw


def _csv_rows(stream: BinaryIO) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    reader = csv.DictReader(text)
    for row in reader:
        if None in row:  # more cells than header columns
            yield reader.line_num, RowError("more columns than the header")
        elif any(value is None for value in row.values()):
            yield reader.line_num, RowError("fewer columns than the header")
        else:
            yield reader.line_num, row


def _jsonl_rows(stream: BinaryIO) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace")
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, RowError(f"invalid JSON: {exc.msg}")
            continue
        yield number, value if isinstance(value, dict) else RowError("not a JSON object")


def detect_format(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    return "jsonl" if name.endswith((".jsonl", ".ndjson", ".json")) else "csv"


def tracks_import(
    *,
    path: Path,
    fmt: str | None = None,
    batch_size: int = 5000,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a catalog file; `on_progress(bytes_read, total_bytes)` is called per batch."""
    started = time.monotonic()
    fmt = fmt or detect_format(path)
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown format {fmt!r}: use csv or jsonl")
    result = ImportResult()
    created_ids: set[str] = set()  # a track split across batches is created once, not updated
    total = path.stat().st_size
    raw, stream = _open_binary(path)
    with raw, trigram_indexes_deferred(total > DEFER_INDEXES_ABOVE_BYTES):
        rows = _csv_rows(stream) if fmt == "csv" else _jsonl_rows(stream)
        batch: dict[str, ParsedTrack] = {}
        for line, row in rows:
            try:
                if isinstance(row, RowError):
                    raise row
                parsed = parse_track_row(row)
            except RowError as exc:
                result.skipped += 1
                result.rejected.append(RejectedRow(line=line, reason=str(exc)))
                continue
            if parsed.external_id in batch:
                batch[parsed.external_id].merge(parsed)
            else:
                batch[parsed.external_id] = parsed
            if len(batch) >= batch_size:
                _write_batch(batch, result, created_ids)
                batch = {}
                if on_progress:
                    on_progress(raw.tell(), total)
        if batch:
            _write_batch(batch, result, created_ids)
        if on_progress:
            on_progress(total, total)
    tables_analyze(Track)
    result.seconds = time.monotonic() - started
    return result


def _existing_external_ids(external_ids: list[str]) -> list[str]:
    if connection.vendor != "postgresql":
        return list(
            Track.objects.filter(external_id__in=external_ids).values_list("external_id", flat=True)
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT external_id FROM playlists_track WHERE external_id = ANY(%s)", [external_ids]
        )
        return [row[0] for row in cursor.fetchall()]


@transaction.atomic
def _write_batch(
    batch: dict[str, ParsedTrack], result: ImportResult, created_ids: set[str]
) -> None:
    # Most rows of a big import are new: ask which ids exist (one array parameter, not an
    # IN list of thousands) and load full rows only for those.
    present = _existing_external_ids(list(batch))
    existing = (
        {t.external_id: t for t in Track.objects.filter(external_id__in=present)} if present else {}
    )
    to_create: list[dict[str, Any]] = []
    to_update: list[Track] = []
    for external_id, parsed in batch.items():
        track = existing.get(external_id)
        if track is None:
            to_create.append({"external_id": external_id, **parsed.track_fields()})
            continue
        current = ParsedTrack(
            external_id=external_id,
            title=track.title,
            artist=track.artist,
            album=track.album,
            duration_ms=track.duration_ms,
            features=track.features,
            metadata=track.metadata,
        )
        current.merge(parsed)
        changes = current.track_fields()
        if any(getattr(track, name) != value for name, value in changes.items()):
            for name, value in changes.items():
                setattr(track, name, value)
            track.match_key = match_key(track.artist, track.title)
            track.updated_at = timezone.now()  # bulk_update skips auto_now
            to_update.append(track)
    tracks_bulk_insert(to_create)
    if to_update:
        Track.objects.bulk_update(to_update, fields=[*_TRACK_FIELDS, "match_key", "updated_at"],
                                  batch_size=500)
    created_ids.update(row["external_id"] for row in to_create)
    result.created += len(to_create)
    result.updated += sum(1 for t in to_update if t.external_id not in created_ids)
