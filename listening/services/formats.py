"""Reading listening histories: Spotify's extended streaming history (JSON), Last.fm scrobble
exports (CSV) and ListenBrainz exports (JSON, JSON Lines, or the ZIP of JSON Lines files).

Each reader takes the file's bytes and yields Heard listens, and records per row why a row was
ignored (podcasts, audiobooks, zero-length plays) or rejected (unreadable); nothing here touches
the database.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime

from playlists.services.catalog import RejectedRow

from .listens import Heard

# ListenBrainz's floor for listened_at (2002-10-02, Last.fm's first scrobbles) and its allowed
# clock skew into the future.
LISTEN_MINIMUM_TS = 1033430400
FUTURE_SKEW = timedelta(hours=1)
_SPOTIFY_ID = re.compile(r"(?:spotify:track:|open\.spotify\.com/track/)([A-Za-z0-9]{22})")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")
MAX_TEXT = 300


class FileFormatError(ValueError):
    """The file as a whole is not of the format asked for; the message says what to do."""


@dataclass
class Parsed:
    heard: list[Heard] = field(default_factory=list)
    rows: int = 0
    ignored: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


class TooEarly(ValueError):  # noqa: N818 - reads as what the timestamp is
    """Before LISTEN_MINIMUM_TS: not a real listening time."""


class InTheFuture(ValueError):  # noqa: N818
    """Later than now plus the allowed clock skew."""


def time_check(when: datetime, now: datetime) -> datetime:
    """`when` if a listen may have happened then; TooEarly or InTheFuture says why not."""
    if when.timestamp() < LISTEN_MINIMUM_TS:
        raise TooEarly("listened before 2002-10-02: not a real timestamp")
    if when > now + FUTURE_SKEW:
        raise InTheFuture("listened in the future")
    return when


def _timestamp(value: Any) -> datetime:
    if isinstance(value, bool):
        raise ValueError("timestamp is not a number or a date")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(int(value), tz=UTC)
    text = str(value or "").strip()
    if re.fullmatch(r"\d{9,11}", text):
        return datetime.fromtimestamp(int(text), tz=UTC)
    parsed = None
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        for fmt in ("%d %b %Y %H:%M", "%d %b %Y, %H:%M", "%Y-%m-%d %H:%M"):
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(f"unreadable timestamp {text[:40]!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return value.strip()[:MAX_TEXT] if isinstance(value, str) else ""


def mbid_clean(value: Any) -> str:
    return value.lower() if isinstance(value, str) and _UUID.match(value) else ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = int(float(value))
    except ValueError:
        return None
    return number if number >= 0 else None


def _spotify_id(value: Any) -> str:
    match = _SPOTIFY_ID.search(value) if isinstance(value, str) else None
    return match.group(1) if match else ""


# --- Spotify -----------------------------------------------------------------------------

def _spotify_row(n: int, row: Any, now: datetime, out: Parsed) -> None:
    if not isinstance(row, dict):
        out.rejected.append(RejectedRow(n, "entry is not a JSON object"))
        return
    title = _text(row.get("master_metadata_track_name"))
    artist = _text(row.get("master_metadata_album_artist_name"))
    if not title and (row.get("episode_name") or row.get("spotify_episode_uri")
                      or row.get("audiobook_title") or row.get("audiobook_uri")):
        out.ignored += 1  # a podcast episode or an audiobook: not music
        return
    if not title or not artist:
        out.rejected.append(RejectedRow(n, "no track name or artist"))
        return
    ms_played = _int(row.get("ms_played"))
    if ms_played is None:
        out.rejected.append(RejectedRow(n, "ms_played is not a number"))
        return
    if ms_played == 0:
        out.ignored += 1
        return
    try:
        # Spotify's `ts` is when the stream ended; the listen began ms_played earlier.
        ended = _timestamp(row.get("ts"))
        started = time_check((ended - timedelta(milliseconds=ms_played)).replace(microsecond=0),
                             now)
    except ValueError as exc:
        out.rejected.append(RejectedRow(n, str(exc)))
        return
    out.heard.append(Heard(
        line=n, artist=artist, title=title,
        album=_text(row.get("master_metadata_album_album_name")),
        listened_at=started, ms_played=ms_played, skipped=bool(row.get("skipped")),
        played_to_end=row.get("reason_end") == "trackdone",
        spotify_id=_spotify_id(row.get("spotify_track_uri")),
        client=_text(row.get("platform"))[:100] or "Spotify"))


def spotify_read(data: bytes, now: datetime) -> Parsed:
    """Spotify "Extended streaming history" (Streaming_History_Audio_*.json): a JSON array."""
    try:
        rows = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"not a JSON file ({exc}); upload a Streaming_History_Audio_*.json "
                              "file from Spotify's extended streaming history") from exc
    if not isinstance(rows, list):
        raise FileFormatError("expected a JSON array of streams, as in Spotify's "
                              "Streaming_History_Audio_*.json files")
    out = Parsed()
    for n, row in enumerate(rows, start=1):
        out.rows += 1
        _spotify_row(n, row, now, out)
    return out


# --- Last.fm -----------------------------------------------------------------------------

_LASTFM_COLUMNS = {
    "artist": ("artist", "artist_name"),
    "title": ("track", "title", "track_name", "name"),
    "album": ("album", "album_name"),
    "time": ("uts", "timestamp", "date", "utc_time", "time"),
    "mbid": ("track_mbid", "mbid", "recording_mbid"),
}


def _lastfm_columns(header: list[str]) -> dict[str, int] | None:
    names = [h.strip().lower() for h in header]
    found = {}
    for key, aliases in _LASTFM_COLUMNS.items():
        for alias in aliases:
            if alias in names:
                found[key] = names.index(alias)
                break
    return found if {"artist", "title", "time"} <= found.keys() else None


def lastfm_read(data: bytes, now: datetime) -> Parsed:
    """A Last.fm scrobble export as CSV: with a header naming its columns (e.g. uts, artist,
    album, track, track_mbid), or the common header-less `artist,album,track,date`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError("the CSV file is not UTF-8 text") from exc
    reader = csv.reader(io.StringIO(text))
    first = next(reader, None)
    if first is None:
        raise FileFormatError("the file is empty")
    named = _lastfm_columns(first)
    if named:
        columns, rows, start = named, reader, 2
    else:
        columns = {"artist": 0, "album": 1, "title": 2, "time": 3}
        rows, start = itertools.chain([first], reader), 1
    out = Parsed()
    for n, cells in enumerate(rows, start=start):
        if not any(c.strip() for c in cells):
            continue
        out.rows += 1
        if len(cells) <= max(columns.values()):
            out.rejected.append(RejectedRow(n, f"expected at least {max(columns.values()) + 1} "
                                               "columns"))
            continue
        artist, title = _text(cells[columns["artist"]]), _text(cells[columns["title"]])
        if not artist or not title:
            out.rejected.append(RejectedRow(n, "no artist or track name"))
            continue
        try:
            when = time_check(_timestamp(cells[columns["time"]]), now)
        except ValueError as exc:
            out.rejected.append(RejectedRow(n, str(exc)))
            continue
        out.heard.append(Heard(
            line=n, artist=artist, title=title,
            album=_text(cells[columns["album"]]) if "album" in columns else "",
            listened_at=when, mbid=mbid_clean(cells[columns["mbid"]]) if "mbid" in columns else "",
            client="Last.fm"))
    return out


# --- ListenBrainz ------------------------------------------------------------------------

def listenbrainz_heard(n: int, listen: Any, now: datetime) -> Heard:
    """One ListenBrainz listen object as Heard; ValueError says what is wrong with it."""
    if not isinstance(listen, dict):
        raise ValueError("listen is not a JSON object")
    meta = listen.get("track_metadata")
    if not isinstance(meta, dict):
        raise ValueError("no track_metadata object")
    artist, title = meta.get("artist_name"), meta.get("track_name")
    if not isinstance(artist, str) or not artist.strip():
        raise ValueError("track_metadata.artist_name must be a non-empty string")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("track_metadata.track_name must be a non-empty string")
    when = listen.get("listened_at")
    if when is None:
        raise ValueError("no listened_at")
    info = meta.get("additional_info") if isinstance(meta.get("additional_info"), dict) else {}
    mapping = meta.get("mbid_mapping") if isinstance(meta.get("mbid_mapping"), dict) else {}
    duration = _int(info.get("duration_ms"))
    if duration is None and _int(info.get("duration")) is not None:
        duration = _int(info.get("duration")) * 1000
    spotify = _spotify_id(info.get("spotify_id")) or _spotify_id(info.get("origin_url"))
    return Heard(
        line=n, artist=_text(artist), title=_text(title), album=_text(meta.get("release_name")),
        listened_at=time_check(_timestamp(when), now), duration_ms=duration,
        spotify_id=spotify,
        mbid=mbid_clean(info.get("recording_mbid")) or mbid_clean(mapping.get("recording_mbid")),
        client=_text(info.get("submission_client"))[:100] or _text(info.get("music_service")))


def _listenbrainz_documents(raw: bytes) -> Iterator[tuple[int, Any]]:
    """(line or entry number, parsed listen) from a .json array, .jsonl lines or a .zip."""
    if raw[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = sorted(m for m in archive.namelist()
                             if m.endswith((".jsonl", ".json")) and "listens" in m)
            if not members:
                raise FileFormatError("the ZIP holds no listens/*.jsonl files: upload the "
                                      "export ZIP from ListenBrainz's settings")
            # Entries are numbered across the members, in the order of their names.
            numbered = 0
            for member in members:
                for number, item in _json_documents(archive.read(member), start=numbered + 1):
                    numbered = number
                    yield number, item
        return
    yield from _json_documents(raw, start=1)


def _json_documents(raw: bytes, *, start: int) -> Iterator[tuple[int, Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError("the file is not UTF-8 text") from exc
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except ValueError as exc:
            raise FileFormatError(f"not valid JSON ({exc})") from exc
        yield from enumerate(items, start=start)
        return
    for n, line in enumerate(text.splitlines(), start=start):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except ValueError:
            yield n, ValueError("line is not valid JSON")


def listenbrainz_read(data: bytes, now: datetime) -> Parsed:
    """A ListenBrainz export: a JSON array of listens, JSON Lines, or the export ZIP."""
    out = Parsed()
    for n, item in _listenbrainz_documents(data):
        out.rows += 1
        if isinstance(item, ValueError):
            out.rejected.append(RejectedRow(n, str(item)))
            continue
        try:
            out.heard.append(listenbrainz_heard(n, item, now))
        except ValueError as exc:
            out.rejected.append(RejectedRow(n, str(exc)))
    return out


READERS = {"spotify": spotify_read, "lastfm": lastfm_read, "listenbrainz": listenbrainz_read}
