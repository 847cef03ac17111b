"""Rendering recommendation lists: cached as compact entries, sent as pre-rendered bytes.

The result cache holds `(track id, score, reason)` entries, not rendered JSON, so the batch job
writes about 1 kB per user and never touches track rows. A reason is a string, or
`("liked", track id)` resolved to "because you liked <title> by <artist>" when rendered.

A list is joined from the per-process track fragments of `playlists.rendering` (tens of
microseconds) instead of being camelized and dumped as a whole on every request (milliseconds
for 20 tracks with their features).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from playlists import rendering as track_rendering

Entry = tuple[str, float, Any]  # (track id, score, reason: str | ("liked", track id))


def entries_render(entries: Sequence[Entry], extra: bytes = b"", **tail: Any) -> bytes:
    """`{tracks: [Track + {score, reason}], **tail}` as bytes (tail camelCased, `extra`:
    more members already rendered, as `"key":value`).

    Tracks deleted since the list was computed are left out; a reason naming a deleted liked
    track becomes "recommended for you".
    """
    wanted = {e[0] for e in entries} | {e[2][1] for e in entries if not isinstance(e[2], str)}
    frags = track_rendering.track_fragments(wanted)
    items = []
    for tid, score, reason in entries:
        if tid not in frags:
            continue
        if isinstance(reason, str):
            text = reason
        elif reason[1] in frags:
            _, title, artist = frags[reason[1]]
            text = f"because you liked {title} by {artist}"
        else:
            text = "recommended for you"
        items.append(b'%s,"score":%s,"reason":%s}' % (
            frags[tid][0], track_rendering.number(round(float(score), 4)),
            track_rendering.string(text)))
    rest = track_rendering.camel_dumps(tail)
    if extra:
        rest = rest[:-1] + (b"," if tail else b"") + extra + b"}"
    return b'{"tracks":[' + b",".join(items) + b"]," + rest[1:]


def entries_from_payload(tracks: list[dict[str, Any]]) -> list[Entry]:
    """Entries of a list computed by the per-user path."""
    return [(t["id"], t["score"], t["reason"]) for t in tracks]
