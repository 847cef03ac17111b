"""Personal recommendations: one user's list, many users' lists (the batch's precompute).

Generation is `generation.py`, playlist continuation and groups `groups.py`. Every path works
without a trained model (popularity/content fallback) and with an empty catalog (empty lists),
so recommendation endpoints never answer 500 for lack of data.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from audotics.exceptions import ApplicationError
from mlcore import MlcoreError
from playlists import rendering as track_rendering
from playlists.models import PlaylistTrack

from ..models import Interaction
from . import context_targets as ct
from . import fallback, ranking, rendering, results_cache, serving
from .ranking import Profile

logger = logging.getLogger(__name__)

MAX_LIMIT = 100


# ---------------------------------------------------------------------------- personal


def model_candidates(served: serving.Served | None, profile: Profile, *, k: int,
                      context: dict[str, str], exclude: set[str]) -> list[tuple[str, float]]:
    """The model's top-k for a user it knows (after catching up on recent interactions)."""
    if served is None:
        return []
    model = served.model
    if not model.has_user(profile.user_id):
        return []
    ex = [t for t in exclude if model.has_item(t)]
    try:
        with served.lock:
            return model.recommend(profile.user_id, k=k, context=context or None, exclude=ex)
    except MlcoreError:
        logger.warning("model.recommend failed for %s", profile.user_id, exc_info=True)
        return []


def _rank_for(profile: Profile, *, model_recs: list[tuple[str, float]],
              rows: dict[str, dict[str, Any]], limit: int, context: dict[str, str],
              exclude: set[str], diversity: bool) -> list[dict[str, Any]]:
    """Blend model scores with the context target, top up from the fallback, diversify."""
    target = ct.context_target(context)
    ranked: list[tuple[dict[str, Any], float]] = []
    used: set[str] = set(exclude) | profile.disliked
    recs = [(rows[i], s) for i, s in model_recs if i in rows and i not in used]
    if recs:
        norm = ranking.minmax([s for _, s in recs])
        for (row, _), s in zip(recs, norm, strict=False):
            score = 0.7 * s + 0.3 * ct.closeness(row["features"] or {}, target) if target else s
            ranked.append((row, score))
        ranked.sort(key=lambda p: -p[1])
        used |= {r["id"] for r, _ in ranked}
    if len(ranked) < limit * 2:
        # Cold users, new tracks or a short model list: popularity and content fill the rest,
        # always below the model's picks.
        skip = used | profile.seen
        pool = [r for r in fallback.fallback_candidates(profile) if r["id"] not in skip]
        values = fallback.fallback_scores(pool, profile, target)
        scored = [(pool[i], float(values[i])) for i in np.argsort(-values, kind="stable")]
        floor = min((s for _, s in ranked), default=1.0)
        top = max((s for _, s in scored), default=1.0) or 1.0
        ranked += [(r, floor * 0.99 * s / top if ranked else s) for r, s in scored]
    picked = ranking.diversify(ranked, limit=limit, diversity=diversity)
    return [ranking.track_payload(row, score, ranking.reason_for(row, profile))
            for row, score in picked]


def recommendations_compute(
    *, users: list[Any], limit: int = 20, context: dict[str, str] | None = None,
    exclude: set[str] | None = None, diversity: bool = True, catch_up: bool = True,
    remember_rows: bool = False,
) -> dict[str, dict[str, Any]]:
    """Recommendation payloads for several users at once (the API uses one, the batch many).

    ``remember_rows``: the lists are about to be rendered, so the track rows read here become
    the renderer's fragments (instead of being read again).
    """
    context = context or {}
    exclude = exclude or set()
    served = serving.served_model()
    uids = [str(u.pk) for u in users]
    profiles = ranking.profiles_load(users, per_user=200 if len(uids) == 1 else 60)
    if served is not None and catch_up:
        if len(uids) == 1:
            serving.user_catch_up(served, user_id=uids[0], recent=profiles[uids[0]].recent)
        else:
            serving.users_catch_up(served, user_ids=uids)
    k = max(limit * 4, 40)
    recs = {u: model_candidates(served, profiles[u], k=k, context=context,
                                 exclude=exclude | profiles[u].disliked) for u in uids}
    rows = ranking.tracks_fetch(sorted({i for r in recs.values() for i, _ in r}))
    version = served.version_id if served is not None else None
    out = {}
    for u in uids:
        tracks = _rank_for(profiles[u], model_recs=recs[u], rows=rows, limit=limit,
                           context=context, exclude=exclude, diversity=diversity)
        out[u] = {"tracks": tracks, "context": ranking.context_public(context),
                  "model_version": version if recs[u] else None,
                  "source": "model" if recs[u] else "fallback"}
        if remember_rows:
            for t in tracks:
                if t["id"] in rows:
                    track_rendering.track_fragment(rows[t["id"]])
    return out


def _suffix(*, limit: int, context: dict[str, str], playlist: str, diversity: bool) -> str:
    """The cache key part of a list's request, under the active model version."""
    active = serving.active_version()
    ctx = ",".join(f"{k}={v}" for k, v in sorted(context.items()))
    return f"{active['id'] if active else 'none'}:{limit}:{ctx}:{playlist}:{int(diversity)}"


def recommendation_list_for_user(
    *, viewer, user_id: Any, limit: int = 20, context: dict[str, Any] | None = None,
    playlist_id: Any = None, diversity: bool = True,
) -> bytes:
    """`GET /api/users/{id}/recommendations` as response bytes: own list only (staff: anyone's).

    `viewer` may be a token user (id and nothing else): a cached list is answered without
    loading any row; the user row is read only to compute a missing list.
    """
    uid = _target_user_id(viewer=viewer, user_id=user_id)
    if not 1 <= limit <= MAX_LIMIT:
        raise ApplicationError("limit must be 1..100.", code="validation_error",
                               fields={"limit": ["an integer from 1 to 100"]})
    ctx = ranking.context_parse(context or {})
    exclude: set[str] = set()
    playlist_key = "-"
    if playlist_id:
        from playlists import selectors as playlist_selectors  # noqa: PLC0415

        # The playlist being edited must be one the *viewer* may read (404 otherwise).
        playlist = playlist_selectors.playlist_get(playlist_id=playlist_id, user=viewer)
        exclude = {str(t) for t in PlaylistTrack.objects.filter(playlist=playlist)
                   .values_list("track_id", flat=True)}
        playlist_key = f"{playlist.pk}@{playlist.version}"
    suffix = _suffix(limit=limit, context=ctx, playlist=playlist_key, diversity=diversity)
    gen, hit = results_cache.user_list_get(uid, suffix)
    if hit is None:
        target = _user_row(viewer=viewer, user_id=uid)
        hit = _model_list(uid, limit=limit, exclude=exclude) if not ctx and diversity else None
        if hit is None:
            payload = recommendations_compute(users=[target], limit=limit, context=ctx,
                                              exclude=exclude, diversity=diversity,
                                              remember_rows=True)[uid]
            hit = dict(payload, tracks=rendering.entries_from_payload(payload["tracks"]))
        results_cache.user_lists_set({uid: hit}, suffix, gens={uid: gen})
    return rendering.entries_render(hit["tracks"], context=hit["context"],
                                    model_version=hit["model_version"], source=hit["source"])


def _model_list(uid: str, *, limit: int, exclude: set[str]) -> dict[str, Any] | None:
    """A missing list without a context, computed as the batch computes it (artist cap and
    reasons in the model, no track rows read): the same list whichever path fills the cache,
    at about half a miss's cost. None: no model, a user it does not know, or a short list
    (those need the per-user path's fallback)."""
    served = serving.served_model()
    if served is None:
        return None
    serving.user_catch_up(served, user_id=uid)
    ex = disliked_by_user([uid]).get(uid, []) + sorted(exclude)
    return _batch_lists([uid], limit=limit, disliked={uid: ex}).get(uid)


def _target_user_id(*, viewer, user_id: Any) -> str:
    """Whose list is asked for. Others: 403; staff: 404 for unknown/malformed ids."""
    import uuid  # noqa: PLC0415

    if str(user_id) == "me":
        return str(viewer.pk)
    try:
        key = str(uuid.UUID(str(user_id)))
    except ValueError:
        key = None
    if key is not None and key == str(viewer.pk):
        return key
    user_model = get_user_model()
    if not user_model.objects.filter(pk=viewer.pk, is_staff=True, is_active=True).exists():
        # Whether the id exists is not revealed to non-staff: always 403.
        raise ApplicationError("You may only read your own recommendations.",
                               code="permission_denied", status=403)
    if key is None or not user_model.objects.filter(pk=key).exists():
        raise ApplicationError("No such user.", code="not_found", status=404)
    return key


def _user_row(*, viewer, user_id: str):
    """The user model row (a token user carries only the id)."""
    user_model = get_user_model()
    if isinstance(viewer, user_model) and str(viewer.pk) == user_id:
        return viewer
    user = user_model.objects.filter(pk=user_id).first()
    if user is None:
        raise ApplicationError("No such user.", code="not_found", status=404)
    if str(viewer.pk) == user_id and not user.is_active:
        raise ApplicationError("This account is not active; sign in again.",
                               code="not_authenticated", status=401)
    return user


DEFAULT_SUFFIX_ARGS = {"context": {}, "playlist": "-", "diversity": True}


def disliked_by_user(user_ids: list[str] | None = None) -> dict[str, list[str]]:
    """{user id: disliked track ids}; None: every user (one scan of a partial index)."""
    qs = Interaction.objects.filter(type=Interaction.Type.DISLIKE)
    if user_ids is not None:
        qs = qs.filter(user_id__in=user_ids)
    rows = qs.values_list("user_id", "track_id")
    # Every user: stream with a server-side cursor (millions of rows); a few users: one plain
    # query, a cursor's declare/fetch/close round trips cost more than their few rows.
    if user_ids is None:
        rows = rows.iterator(chunk_size=20_000)
    out: dict[str, list[str]] = {}
    for uid, tid in rows:
        out.setdefault(str(uid), []).append(str(tid))
    return out


def recommendations_precompute(*, user_ids: list[str], limit: int = 20,
                               disliked: dict[str, list[str]] | None = None) -> int:
    """Compute the default list (no context, no playlist) of the users into the result cache.

    Users the model knows go through mlcore's vectorised batch (one index search per chunk,
    artist cap and exclusions as array operations, reasons from the model's geometry);
    the rest (cold users, short lists) take the per-user path with its fallback.
    `disliked` given means the caller has already caught the model up (`recommend_batch`
    does both once per run, not once per chunk).
    """
    stored, rest = recommendations_precompute_model(user_ids=user_ids, limit=limit,
                                                    disliked=disliked)
    return stored + recommendations_precompute_per_user(user_ids=rest, limit=limit)


def recommendations_precompute_model(*, user_ids: list[str], limit: int = 20,
                                     disliked: dict[str, list[str]] | None = None,
                                     ) -> tuple[int, list[str]]:
    """The model's half of `recommendations_precompute`: (lists stored, users left over).

    No database access when `disliked` is given, so `recommend_batch` runs it in threads.
    """
    uids = [str(u) for u in user_ids]
    gens = _generations(uids)
    if gens is None:
        return 0, []
    lists = _batch_lists(uids, limit=limit, disliked=disliked)
    results_cache.user_lists_set(lists, _suffix(limit=limit, **DEFAULT_SUFFIX_ARGS), gens=gens)
    return len(lists), [u for u in uids if u not in lists]


def recommendations_precompute_per_user(*, user_ids: list[str], limit: int = 20) -> int:
    """The per-user half of `recommendations_precompute`: fallback and top-ups."""
    if not user_ids:
        return 0
    gens = _generations(user_ids)
    if gens is None:
        return 0
    users = list(get_user_model().objects.filter(pk__in=user_ids).only("id", "preferences"))
    lists = {uid: dict(payload, tracks=rendering.entries_from_payload(payload["tracks"]))
             for uid, payload in recommendations_compute(users=users, limit=limit).items()}
    results_cache.user_lists_set(lists, _suffix(limit=limit, **DEFAULT_SUFFIX_ARGS), gens=gens)
    return len(lists)


def _generations(user_ids: list[str]) -> dict[str, str] | None:
    """The users' cache generation tokens, read before their lists are computed (None: no
    cache). A list stored under an older token than the user's current one never serves."""
    try:
        got = cache.get_many([results_cache.gen_key(u) for u in user_ids])
    except Exception:  # noqa: BLE001 - nothing can be stored without the cache
        return None
    return {u: got.get(results_cache.gen_key(u), "0") for u in user_ids}


def _batch_lists(uids: list[str], *, limit: int, disliked: dict[str, list[str]] | None,
                 ) -> dict[str, dict[str, Any]]:
    served = serving.served_model()
    if served is None:
        return {}
    if disliked is None:
        serving.users_catch_up(served, user_ids=uids)
        disliked = disliked_by_user(uids)
    model = served.model
    options = {"k": limit, "exclude": disliked, "max_per_group": ranking.artist_cap(limit),
               "ef_search": settings.RECO_BATCH_EF_SEARCH, "explain": True}
    try:
        # Only the plan reads per-user state; the ranking runs outside the lock, so the batch's
        # threads overlap one chunk's index search with another's array work.
        with served.lock:
            plan = model.batch_plan(uids, **options)
        recs = model.batch_run(plan)
    except MlcoreError:
        logger.warning("batch recommend failed; using the per-user path", exc_info=True)
        return {}
    context = ranking.context_public({})
    out = {}
    for uid, r in recs.items():
        if len(r) < limit:
            continue  # a short list needs the fallback's top-up: per-user path
        # `ranking.minmax` of the scores, which come best first: one pass, no score list.
        hi, lo = r[0][1], r[-1][1]
        scale = 1.0 / (hi - lo) if hi - lo >= 1e-12 else 0.0
        out[uid] = {"tracks": [(i, (s - lo) * scale if scale else 1.0,
                                ("liked", b) if b else "recommended for you") for i, s, b in r],
                    "context": context, "model_version": served.version_id, "source": "model"}
    return out


