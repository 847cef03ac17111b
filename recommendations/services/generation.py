"""Playlist generation for a context: hard ranges exact, moods as feature targets, personal."""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from audotics.exceptions import ApplicationError
from mlcore import MlcoreError
from playlists.models import Track

from . import context_targets as ct
from . import fallback, ranking, rendering, serving
from .recommend import MAX_LIMIT

logger = logging.getLogger(__name__)


def generation_context_parse(raw: Any) -> tuple[dict[str, str], dict[str, tuple[float, float]],
                                                list[str]]:
    """PlaylistContext -> (vocabulary context, hard feature ranges, genres); 400 naming fields."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ApplicationError("context must be an object.", code="validation_error",
                               fields={"context": ["not an object"]})
    ctx = ranking.context_parse(raw, prefix="context")
    ranges: dict[str, tuple[float, float]] = {}
    errors: dict[str, list[str]] = {}
    for name, top in (("energy", 1.0), ("tempo", 300.0)):
        v = raw.get(name)
        if v is None:
            continue
        ok = (isinstance(v, (list, tuple)) and len(v) == 2
              and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
              and 0 <= v[0] <= v[1] <= top)
        if ok:
            ranges[name] = (float(v[0]), float(v[1]))
        else:
            errors[name] = [f"a range [lo, hi] with 0 <= lo <= hi <= {top:g}"]
    genres = raw.get("genres") or []
    if not (isinstance(genres, list) and len(genres) <= 20
            and all(isinstance(g, str) and 0 < len(g.strip()) <= 50 for g in genres)):
        errors["genres"] = ["a list of at most 20 genre names"]
        genres = []
    if errors:
        raise ApplicationError("Invalid context.", code="validation_error",
                               fields={"context": errors})
    return ctx, ranges, sorted({g.strip().lower() for g in genres})


def energy_arc(rows: list[tuple[dict[str, Any], float]]) -> list[tuple[dict[str, Any], float]]:
    """Order tracks along a gentle arc: energy rises to a peak ~2/3 through, then eases down.

    The target curve is matched rank to rank: the k-th calmest track takes the k-th lowest point.
    """
    n = len(rows)
    if n < 3:
        return rows
    peak = (2 * n) // 3
    curve = [i / max(peak, 1) if i <= peak else 1.0 - 0.5 * (i - peak) / max(n - 1 - peak, 1)
             for i in range(n)]

    def energy(p: tuple[dict[str, Any], float]) -> float:
        e = (p[0].get("features") or {}).get("energy")
        return float(e) if isinstance(e, (int, float)) else 0.5

    by_energy = sorted(rows, key=energy)
    slots = sorted(range(n), key=lambda i: (curve[i], i))
    out: list[Any] = [None] * n
    for slot, row in zip(slots, by_energy, strict=False):
        out[slot] = row
    return out


# The model's candidates, then filtered by the hard ranges: five per place, at least 100
# (each 100 more costs ~2 ms: reading their rows is most of a generation's time).
GENERATE_MODEL_PER_TRACK, GENERATE_MODEL_MIN = 5, 100
GENERATE_SAMPLE = 120  # plus this many matching tracks of the catalog


def playlist_generate(
    *, user, context: Any = None, length: int = 20, seed_track_ids: list[Any] | None = None,
    save: bool = False, name: str | None = None,
) -> dict[str, Any]:
    """`POST /api/playlists/generate`: hard ranges exact, moods as feature targets, personal.

    Returns {tracks: [(track id, score, reason)], context, model_version, playlist?}: the API
    renders the tracks from fragments (`rendering.entries_render`).
    """
    if not 1 <= length <= MAX_LIMIT:
        raise ApplicationError("length must be 1..100.", code="validation_error",
                               fields={"length": ["an integer from 1 to 100"]})
    ctx, ranges, genres = generation_context_parse(context)
    seeds = _seed_ids(seed_track_ids or [])
    target = ct.context_target(ctx)
    if ranges.get("energy") and target:
        lo, hi = ranges["energy"]
        target = dict(target, energy=min(hi, max(lo, target["energy"])))

    served = serving.served_model()
    uid = str(user.pk)
    profile = ranking.profiles_load([user])[uid]
    model_recs: list[tuple[str, float]] = []
    model_k = max(GENERATE_MODEL_MIN, GENERATE_MODEL_PER_TRACK * length)
    if served is not None:
        serving.user_catch_up(served, user_id=uid, recent=profile.recent)
        model = served.model
        try:
            with served.lock:
                known_seeds = [s for s in seeds if model.has_item(s)]
                if known_seeds:
                    model_recs = model.continue_sequence(known_seeds, k=model_k,
                                                         context=ctx or None, exclude=[])
                elif model.has_user(uid):
                    model_recs = model.recommend(uid, k=model_k, context=ctx or None,
                                                 exclude_seen=False)
        except MlcoreError:
            logger.warning("model candidates failed in generation", exc_info=True)
    rows_, numbers = _candidates(profile, model_recs, genres=genres, ranges=ranges,
                                 drop=set(seeds) | profile.disliked)
    model_score = dict(zip([i for i, _ in model_recs],
                           ranking.minmax([s for _, s in model_recs]), strict=True))
    from_model = np.array([model_score.get(r["id"], np.nan) for r in rows_], float)
    personal = np.where(np.isnan(from_model),
                        0.6 * fallback.fallback_scores(rows_, profile, None, numbers=numbers),
                        from_model)
    values = (0.5 * personal + 0.5 * fallback.closeness_scores(rows_, target, numbers=numbers)
              if target else personal)
    scored = [(rows_[i], float(values[i])) for i in np.argsort(-values, kind="stable")]
    picked = energy_arc(ranking.diversify(scored, limit=length, diversity=True))
    entries = [(row["id"], score, ranking.reason_for(row, profile)) for row, score in picked]
    result: dict[str, Any] = {"tracks": entries, "context": ranking.context_public(ctx),
                              "model_version": served.version_id if served else None}
    if save:
        result["playlist"] = _save_playlist(user=user, name=name, ctx=ctx, ranges=ranges,
                                            genres=genres, track_ids=[e[0] for e in entries])
    return result


def _candidates(profile: ranking.Profile, model_recs: list[tuple[str, float]], *,
                genres: list[str], ranges: dict[str, tuple[float, float]], drop: set[str],
                ) -> tuple[list[dict[str, Any]], fallback.RowNumbers]:
    """The model's candidates, a sample of matching tracks and the popularity pools (each row
    once, the first source's), those in the genres and the ranges (exact: checked on the rows'
    own features, as arrays) and not in `drop`; with their numbers for scoring."""
    rows = {r["id"]: r for r in ranking.candidate_rows([i for i, _ in model_recs])}
    # The sample depends on the context's filters only, not on the listener.
    sample_key = f"generate:sample:{genres}:{sorted(ranges.items())}"
    for r in fallback.pool_local(sample_key, lambda: _catalog_sample(genres, ranges)):
        rows.setdefault(r["id"], r)
    # With genres asked for, the pools of the listener's other genres could add nothing.
    pools = (fallback.fallback_candidates(profile, only_genres=set(genres)) if genres
             else fallback.fallback_candidates(profile))
    for r in pools:
        rows.setdefault(r["id"], r)
    out = [r for r in rows.values() if r["id"] not in drop]
    numbers = fallback.row_numbers(out)
    keep = numbers.in_ranges(ranges)
    if genres:
        keep &= np.fromiter((r.get("genre") in genres for r in out), bool, len(out))
    picked = np.flatnonzero(keep)
    return [out[i] for i in picked], numbers.take(picked)


def _catalog_sample(genres: list[str], ranges: dict[str, tuple[float, float]]) -> list[
        dict[str, Any]]:
    """The first GENERATE_SAMPLE tracks of the catalog in the genres and ranges. No ORDER BY
    (Track's default is artist, title): LIMIT then stops at the first matches instead of
    walking the whole catalog in index order."""
    qs = Track.objects.order_by()
    if genres:
        qs = qs.filter(genre__in=genres)
    for feat, (lo, hi) in ranges.items():
        qs = qs.filter(**{f"features__{feat}__gte": lo, f"features__{feat}__lte": hi})
    return [ranking.candidate_row(v)
            for v in qs.values_list(*ranking.CANDIDATE_FIELDS)[:GENERATE_SAMPLE]]


def _seed_ids(raw: list[Any]) -> list[str]:
    import uuid  # noqa: PLC0415

    if not isinstance(raw, list) or len(raw) > MAX_LIMIT:
        raise ApplicationError("seedTrackIds must be a list of at most 100 ids.",
                               code="validation_error", fields={"seedTrackIds": ["too many"]})
    if not raw:
        return []  # the common case: no query to build (~0.6 ms of a generation)
    ids, bad = [], []
    for v in raw:
        try:
            ids.append(str(uuid.UUID(str(v))))
        except ValueError:
            bad.append(str(v)[:64])
    known = {str(t) for t in Track.objects.filter(pk__in=ids).values_list("id", flat=True)}
    bad += [i for i in ids if i not in known]
    if bad:
        raise ApplicationError("Unknown seed track ids.", code="unknown_tracks",
                               fields={"seedTrackIds": bad})
    return ids


def _save_playlist(*, user, name: str | None, ctx: dict[str, str],
                   ranges: dict[str, tuple[float, float]], genres: list[str],
                   track_ids: list[str]) -> Any:
    """Store the generated list through the playlists engineer's services (issue 4)."""
    from django.db import transaction  # noqa: PLC0415

    from playlists import selectors as playlist_selectors  # noqa: PLC0415
    from playlists import services as playlist_services  # noqa: PLC0415

    label = " ".join(v for v in (ctx.get("mood"), ctx.get("activity"),
                                 ctx.get("time_of_day")) if v) or "Generated"
    stored = {**ctx, **{k: list(v) for k, v in ranges.items()}}
    if genres:
        stored["genres"] = genres
    with transaction.atomic():
        playlist = playlist_services.playlist_create(
            owner=user, name=(name or f"{label.title()} mix")[:200], context=stored)
        if track_ids:
            playlist_services.playlist_tracks_add(playlist=playlist, user=user,
                                                  track_ids=track_ids)
    return playlist_selectors.playlist_get(playlist_id=playlist.pk, user=user)



def playlist_generate_render(result: dict[str, Any]) -> bytes:
    """The answer of `playlist_generate` as response bytes."""
    from playlists import rendering as track_rendering  # noqa: PLC0415

    extra = (b'"playlist":' + track_rendering.playlist_bytes(result["playlist"])
             if "playlist" in result else b"")
    return rendering.entries_render(result["tracks"], extra, context=result["context"],
                                    model_version=result["model_version"])
