"""Recommendation lists on the wire: cached as compact entries, sent as pre-rendered bytes.

The result cache holds `(track id, score, reason)` entries, not rendered JSON, so the batch job
writes about 1 kB per user and never touches track rows. A reason is a string, or
`("liked", track id)` resolved to "because you liked <title> by <artist>" when rendered.

Each web process keeps every track it has sent as a camelCased JSON fragment. A list is then
joined from fragments (tens of microseconds) instead of being camelized and dumped as a whole on
every request (milliseconds for 20 tracks with their features). Fragments are dropped after
RECO_FRAGMENT_SECONDS, so a renamed track shows its new title within that time.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from djangorestframework_camel_case.settings import api_settings as camel_settings
from djangorestframework_camel_case.util import camelize

from playlists.models import Track

Entry = tuple[str, float, Any]  # (track id, score, reason: str | ("liked", track id))
WIRE_FIELDS = ("id", "title", "artist", "album", "duration_ms", "features", "metadata")
MAX_FRAGMENTS = 300_000

_fragments: dict[str, bytes] = {}
_titles: dict[str, tuple[str, str]] = {}
_born = [time.monotonic()]


def _dumps(value: Any) -> bytes:
    # The same options as DRF's JSONRenderer defaults (compact, UTF-8, strict floats).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _expire() -> None:
    ttl = float(getattr(settings, "RECO_FRAGMENT_SECONDS", 300))
    if time.monotonic() - _born[0] > ttl or len(_fragments) > MAX_FRAGMENTS:
        _fragments.clear()
        _titles.clear()
        _born[0] = time.monotonic()


def fragments_forget() -> None:
    """Drop every cached fragment (tests, and after bulk catalog changes in this process)."""
    _fragments.clear()
    _titles.clear()


def rows_remember(rows: Iterable[dict[str, Any]]) -> None:
    """Render fragments from track rows already at hand (no query)."""
    opts = camel_settings.JSON_UNDERSCOREIZE
    for row in rows:
        tid = str(row["id"])
        body = camelize({k: (tid if k == "id" else row.get(k)) for k in WIRE_FIELDS}, **opts)
        _fragments[tid] = _dumps(body)[:-1]  # without the closing brace: score, reason follow
        _titles[tid] = (row["title"], row["artist"])


def _ensure(ids: set[str]) -> None:
    _expire()
    missing = [i for i in ids if i not in _fragments]
    if missing:
        rows_remember(Track.objects.filter(pk__in=missing).order_by().values(*WIRE_FIELDS))


def _reason_text(reason: Any) -> str | None:
    if isinstance(reason, str):
        return reason
    title = _titles.get(reason[1])
    return f"because you liked {title[0]} by {title[1]}" if title else None


def entries_render(entries: Sequence[Entry], *, context: dict[str, Any],
                   model_version: str | None, source: str) -> bytes:
    """`{tracks: [Track + {score, reason}], context, modelVersion, source}` as bytes.

    Tracks deleted since the list was computed are left out; a reason naming a deleted liked
    track falls back to "recommended for you".
    """
    wanted = {e[0] for e in entries}
    wanted |= {e[2][1] for e in entries if not isinstance(e[2], str)}
    _ensure(wanted)
    items = []
    for tid, score, reason in entries:
        frag = _fragments.get(tid)
        if frag is None:
            continue
        text = _reason_text(reason) or "recommended for you"
        items.append(b"%s,\"score\":%s,\"reason\":%s}" % (frag, _dumps(round(float(score), 4)),
                                                         _dumps(text)))
    tail = {"context": context, "model_version": model_version, "source": source}
    rest = _dumps(camelize(tail, **camel_settings.JSON_UNDERSCOREIZE))
    return b'{"tracks":[' + b",".join(items) + b"]," + rest[1:]


def entries_from_payload(tracks: list[dict[str, Any]]) -> list[Entry]:
    """Entries of a computed list (its track dicts also fill this process's fragments)."""
    rows_remember(tracks)
    return [(t["id"], t["score"], t["reason"]) for t in tracks]
