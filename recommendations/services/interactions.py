"""Recording listening interactions: stored, folded into the serving model, cache invalidated."""
from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from audotics.exceptions import ApplicationError
from playlists.models import Track

from ..models import Interaction
from ..signals import interactions_recorded
from . import ranking, results_cache, serving

MAX_BATCH = 500
MAX_SECONDS_LISTENED = 86_400


def _track_ids(items: list[dict[str, Any]]) -> list[uuid.UUID]:
    ids, bad = [], []
    for item in items:
        try:
            ids.append(uuid.UUID(str(item["track_id"])))
        except (KeyError, ValueError):
            bad.append(str(item.get("track_id"))[:64])
    if bad:
        raise ApplicationError("Unknown track ids.", code="unknown_tracks",
                               fields={"trackId": bad})
    known = set(Track.objects.filter(pk__in=set(ids)).values_list("id", flat=True))
    unknown = sorted({str(i) for i in ids if i not in known})
    if unknown:
        raise ApplicationError("Unknown track ids.", code="unknown_tracks",
                               fields={"trackId": unknown})
    return ids


def interactions_record(*, user, items: list[dict[str, Any]], type: str | None = None,
                        context: dict[str, Any] | None = None) -> list[Interaction]:
    """Store interactions ({track_id, type, context?}), fold them in and invalidate the cache.

    `type`/`context` are defaults for items that lack them (e.g. the playlists service records
    `add` for every added track). Other processes fold the rows in on their next cache miss.
    """
    if len(items) > MAX_BATCH:
        raise ApplicationError(f"At most {MAX_BATCH} interactions per request.",
                               code="too_large", status=413)
    if not items:
        return []
    ids = _track_ids(items)
    valid_types = set(Interaction.Type.values)
    rows = []
    for n, (item, track_id) in enumerate(zip(items, ids, strict=False)):
        kind = item.get("type") or type
        if kind not in valid_types:
            raise ApplicationError("Unknown interaction type.", code="validation_error",
                                   fields={"type": [f"item {n}: one of {sorted(valid_types)}"]})
        raw = item.get("context") or context or {}
        ctx = {**ranking.context_parse(raw, prefix="context"), **_playback(raw, n)}
        rows.append(Interaction(id=item.get("id") or uuid.uuid4(), user=user, track_id=track_id,
                                type=kind, context=ctx))
    with transaction.atomic():
        # A client resending a batch whose answer it lost sends the same ids: stored once.
        known = set(Interaction.objects.filter(pk__in=[r.pk for r in rows])
                    .values_list("pk", flat=True))
        rows = [r for r in rows if r.pk not in known]
        Interaction.objects.bulk_create(rows, ignore_conflicts=True)
        interactions_recorded.send(sender=Interaction, user_id=user.pk, interactions=rows)
    user_interactions_apply(user_id=str(user.pk), interactions=rows)
    return rows


def _playback(raw: dict[str, Any], n: int) -> dict[str, Any]:
    """What a player says of a play or skip: its `source` and the seconds actually heard."""
    out: dict[str, Any] = {}
    source = raw.get("source")
    if source is not None:
        if not isinstance(source, str) or not 0 < len(source) <= 32:
            raise ApplicationError("Invalid context.", code="validation_error", fields={
                "context": {"source": [f"item {n}: up to 32 characters"]}})
        out["source"] = source
    seconds = raw.get("secondsListened", raw.get("seconds_listened"))
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not (
                0 <= seconds <= MAX_SECONDS_LISTENED):
            raise ApplicationError("Invalid context.", code="validation_error", fields={
                "context": {"secondsListened": [f"item {n}: a number of seconds, 0..86400"]}})
        out["seconds_listened"] = round(float(seconds), 1)
    return out


def user_interactions_apply(*, user_id: str, interactions: list[Interaction]) -> None:
    """Fold already-stored interactions into this process's model and drop cached lists."""
    served = serving.served_model()
    if served is not None:
        serving.user_fold_in(served, user_id=user_id,
                             rows=[(i.pk, i.track_id, i.type) for i in interactions])
    results_cache.user_cache_invalidate(user_id=user_id)


def interactions_export(*, user) -> dict[str, list[dict[str, Any]]]:
    """The account export's files of this app: likes and every interaction, oldest first."""
    rows = (Interaction.objects.filter(user=user).order_by("created_at", "id")
            .values_list("type", "created_at", "context", "track_id", "track__title",
                         "track__artist"))
    interactions = [{"type": kind, "at": at.isoformat(), "context": context,
                     "track": {"id": str(tid), "title": title, "artist": artist}}
                    for kind, at, context, tid, title, artist in rows.iterator(chunk_size=5000)]
    likes = [{"track": row["track"], "likedAt": row["at"]} for row in interactions
             if row["type"] == Interaction.Type.LIKE]
    return {"likes.json": likes, "interactions.json": interactions}
