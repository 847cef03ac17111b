"""Personal recommendations, playlist generation and playlist continuation (issue 6).

Every path works without a trained model (popularity/content fallback) and with an empty catalog
(empty lists), so recommendation endpoints never answer 500 for lack of data.
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import FloatField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from audotics.exceptions import ApplicationError
from mlcore import MlcoreError
from playlists.models import Collaborator, Playlist, PlaylistTrack, Track

from ..models import Interaction
from . import context_targets as ct
from . import ranking, serving, wire
from .ranking import Profile

logger = logging.getLogger(__name__)

MAX_LIMIT = 100
STRATEGY = "fair_share"
MEMBER_WEIGHT = 0.7  # in a member's turn: their own percentile vs the playlist's continuation


# ---------------------------------------------------------------------------- personal


def _model_candidates(served: serving.Served | None, profile: Profile, *, k: int,
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
        pool = [r for r in ranking.fallback_candidates(profile) if r["id"] not in skip]
        values = ranking.fallback_scores(pool, profile, target)
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
) -> dict[str, dict[str, Any]]:
    """Recommendation payloads for several users at once (the API uses one, the batch many)."""
    context = context or {}
    exclude = exclude or set()
    served = serving.served_model()
    uids = [str(u.pk) for u in users]
    if served is not None and catch_up:
        if len(uids) == 1:
            serving.user_catch_up(served, user_id=uids[0])
        else:
            serving.users_catch_up(served, user_ids=uids)
    profiles = ranking.profiles_load(users, per_user=200 if len(uids) == 1 else 60)
    k = max(limit * 4, 40)
    recs = {u: _model_candidates(served, profiles[u], k=k, context=context,
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
    gen, hit = ranking.user_list_get(uid, suffix)
    if hit is None:
        target = _user_row(viewer=viewer, user_id=uid)
        payload = recommendations_compute(users=[target], limit=limit, context=ctx,
                                          exclude=exclude, diversity=diversity)[uid]
        hit = dict(payload, tracks=wire.entries_from_payload(payload["tracks"]))
        ranking.user_lists_set({uid: hit}, suffix, gens={uid: gen})
    return wire.entries_render(hit["tracks"], context=hit["context"],
                               model_version=hit["model_version"], source=hit["source"])


def playlist_generate_render(result: dict[str, Any]) -> bytes:
    """The answer of `playlist_generate` as response bytes."""
    from playlists import rendering  # noqa: PLC0415

    extra = (b'"playlist":' + rendering.playlist_bytes(result["playlist"])
             if "playlist" in result else b"")
    return wire.entries_render(result["tracks"], extra, context=result["context"],
                               model_version=result["model_version"])


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
    out: dict[str, list[str]] = {}
    for uid, tid in qs.values_list("user_id", "track_id").iterator(chunk_size=20_000):
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
    ranking.user_lists_set(lists, _suffix(limit=limit, **DEFAULT_SUFFIX_ARGS), gens=gens)
    return len(lists), [u for u in uids if u not in lists]


def recommendations_precompute_per_user(*, user_ids: list[str], limit: int = 20) -> int:
    """The per-user half of `recommendations_precompute`: fallback and top-ups."""
    if not user_ids:
        return 0
    gens = _generations(user_ids)
    if gens is None:
        return 0
    users = list(get_user_model().objects.filter(pk__in=user_ids).only("id", "preferences"))
    lists = {uid: dict(payload, tracks=wire.entries_from_payload(payload["tracks"]))
             for uid, payload in recommendations_compute(users=users, limit=limit).items()}
    ranking.user_lists_set(lists, _suffix(limit=limit, **DEFAULT_SUFFIX_ARGS), gens=gens)
    return len(lists)


def _generations(user_ids: list[str]) -> dict[str, str] | None:
    """The users' cache generation tokens, read before their lists are computed (None: no
    cache). A list stored under an older token than the user's current one never serves."""
    try:
        got = cache.get_many([ranking.gen_key(u) for u in user_ids])
    except Exception:  # noqa: BLE001 - nothing can be stored without the cache
        return None
    return {u: got.get(ranking.gen_key(u), "0") for u in user_ids}


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


# ---------------------------------------------------------------------------- generation


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
GENERATE_FIELDS = ("id", "title", "artist", "genre", "features", "popularity")


def playlist_generate(
    *, user, context: Any = None, length: int = 20, seed_track_ids: list[Any] | None = None,
    save: bool = False, name: str | None = None,
) -> dict[str, Any]:
    """`POST /api/playlists/generate`: hard ranges exact, moods as feature targets, personal.

    Returns {tracks: [(track id, score, reason)], context, model_version, playlist?}: the API
    renders the tracks from fragments (`wire.entries_render`).
    """
    if not 1 <= length <= MAX_LIMIT:
        raise ApplicationError("length must be 1..100.", code="validation_error",
                               fields={"length": ["an integer from 1 to 100"]})
    ctx, ranges, genres = generation_context_parse(context)
    seeds = _seed_ids(seed_track_ids or [])
    # No ORDER BY (Track's default is artist, title): LIMIT then stops at the first matches
    # instead of walking the whole catalog in index order. Candidates carry only what ranking
    # reads (the answer is rendered from track fragments), popularity instead of all metadata.
    qs = Track.objects.order_by().annotate(
        popularity=Cast(KeyTextTransform("popularity", "metadata"), FloatField()))
    if genres:
        qs = qs.filter(genre__in=genres)
    for feat, (lo, hi) in ranges.items():
        qs = qs.filter(**{f"features__{feat}__gte": lo, f"features__{feat}__lte": hi})
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
        serving.user_catch_up(served, user_id=uid)
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
    # Candidates: the model's (filtered by the database, so ranges are exact) plus a sample of
    # matching tracks and the popularity pools (filtered here with the same ranges).
    cand: dict[str, dict[str, Any]] = {}

    def rows(q):
        for r in q.values(*GENERATE_FIELDS):
            yield str(r["id"]), dict(r, id=str(r["id"]), metadata={"popularity": r["popularity"]})

    if model_recs:
        cand.update(rows(qs.filter(pk__in=[i for i, _ in model_recs])))
    for tid, r in rows(qs[:GENERATE_SAMPLE]):
        cand.setdefault(tid, r)
    for r in ranking.fallback_candidates(profile, extra_genres=set(genres)):
        if (not genres or r.get("genre") in genres) and ranking.in_ranges(r, ranges):
            cand.setdefault(r["id"], r)
    for s in seeds:
        cand.pop(s, None)
    for s in profile.disliked:
        cand.pop(s, None)

    model_score = dict(zip([i for i, _ in model_recs],
                           ranking.minmax([s for _, s in model_recs]), strict=True))
    rows_ = list(cand.values())
    from_model = np.array([model_score.get(r["id"], np.nan) for r in rows_], float)
    personal = np.where(np.isnan(from_model),
                        0.6 * ranking.fallback_scores(rows_, profile, None), from_model)
    values = (0.5 * personal + 0.5 * ranking.closeness_scores(rows_, target) if target
              else personal)
    scored = [(rows_[i], float(values[i])) for i in np.argsort(-values, kind="stable")]
    picked = energy_arc(ranking.diversify(scored, limit=length, diversity=True))
    entries = [(row["id"], score, ranking.reason_for(row, profile)) for row, score in picked]
    result: dict[str, Any] = {"tracks": entries, "context": ranking.context_public(ctx),
                              "model_version": served.version_id if served else None}
    if save:
        result["playlist"] = _save_playlist(user=user, name=name, ctx=ctx, ranges=ranges,
                                            genres=genres, track_ids=[e[0] for e in entries])
    return result


def _seed_ids(raw: list[Any]) -> list[str]:
    import uuid  # noqa: PLC0415

    if not isinstance(raw, list) or len(raw) > MAX_LIMIT:
        raise ApplicationError("seedTrackIds must be a list of at most 100 ids.",
                               code="validation_error", fields={"seedTrackIds": ["too many"]})
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


# ---------------------------------------------------------------------------- continuation


def _fair_share(cand: list[dict[str, Any]], pct: list[list[float]], cont: list[float], *,
                limit: int) -> list[tuple[dict[str, Any], float]]:
    """Members take turns (fewest picks first) taking the candidate they rank best."""
    cap = ranking.artist_cap(limit)
    per_artist: Counter[str] = Counter()
    taken: set[int] = set()
    turns = [0] * len(pct)
    out: list[tuple[dict[str, Any], float]] = []
    while len(out) < min(limit, len(cand)):
        m = min(range(len(pct)), key=lambda j: (turns[j], j))
        best, best_score = -1, -1.0
        for i in range(len(cand)):
            if i in taken or per_artist[cand[i]["artist"]] >= cap:
                continue
            score = MEMBER_WEIGHT * pct[m][i] + (1 - MEMBER_WEIGHT) * cont[i]
            if score > best_score:
                best, best_score = i, score
        if best < 0:  # every artist at its cap: a full list beats an empty one
            cap += 1
            continue
        taken.add(best)
        turns[m] += 1
        per_artist[cand[best]["artist"]] += 1
        out.append((cand[best], sum(p[best] for p in pct) / len(pct)))
    return out


def _percentiles(values: list[float]) -> list[float]:
    """Rank of each value within the list, 0 (worst) .. 1 (best)."""
    n = len(values)
    if n <= 1:
        return [1.0] * n
    order = sorted(range(n), key=lambda i: values[i])
    out = [0.0] * n
    for rank, i in enumerate(order):
        out[i] = rank / (n - 1)
    return out


def _member_scores(served: serving.Served | None, profile: Profile,
                   rows: list[dict[str, Any]]) -> list[float]:
    """One member's score for each candidate: the model's when it knows them, else content."""
    if served is not None and served.model.has_user(profile.user_id):
        model = served.model
        known = [r["id"] for r in rows if model.has_item(r["id"])]
        try:
            with served.lock:
                values = model.score_items(profile.user_id, known).tolist()
                scores = dict(zip(known, values, strict=True))
        except MlcoreError:
            scores = {}
        if scores:
            low = min(scores.values())
            return [scores.get(r["id"], low) for r in rows]
    return ranking.fallback_scores(rows, profile, None).tolist()


def playlist_recommendations(*, playlist_id: Any, user, limit: int = 20) -> dict[str, Any]:
    """`GET /api/playlists/{id}/recommendations`: continue the playlist, fair to every member.

    Candidates: the playlist's continuation plus each member's own top picks (so a playlist
    of one member's genre cannot decide the list for everyone). Each member's scores become
    percentiles within the candidates. Strategy "fair_share": members take turns, each turn
    the member with the fewest picks takes the candidate they rank best (their percentile,
    with the continuation score as a tie-breaker), at most `artist_cap` per artist: two
    members with disjoint tastes get half the list each. tasteMatch = 100 x a member's mean
    percentile over the chosen tracks: what the list is worth to them, not a flattering
    average.
    """
    from playlists import selectors as playlist_selectors  # noqa: PLC0415

    if not 1 <= limit <= MAX_LIMIT:
        raise ApplicationError("limit must be 1..100.", code="validation_error",
                               fields={"limit": ["an integer from 1 to 100"]})
    playlist: Playlist = playlist_selectors.playlist_get(playlist_id=playlist_id, user=user)
    track_ids = [str(t) for t in PlaylistTrack.objects.filter(playlist=playlist)
                 .order_by("position").values_list("track_id", flat=True)]
    members = [playlist.owner] + [c.user for c in Collaborator.objects.filter(playlist=playlist)
                                  .select_related("user").order_by("added_at")]
    profiles = ranking.profiles_load(members, per_user=100)
    served = serving.served_model()
    if served is not None:
        for m in members:
            serving.user_catch_up(served, user_id=str(m.pk))
    ctx = {k: v for k, v in (playlist.context or {}).items()
           if k in ("mood", "activity", "time_of_day")}
    try:
        ctx = ranking.context_parse(ctx)
    except ApplicationError:
        ctx = {}  # playlist contexts are stored leniently; ignore values outside the vocabulary
    in_playlist = set(track_ids)

    cont: list[tuple[str, float]] = []
    if served is not None:
        model = served.model
        seeds = [t for t in track_ids if model.has_item(t)][-50:]
        if seeds:
            try:
                with served.lock:
                    cont = model.continue_sequence(seeds, k=limit * 5, context=ctx or None,
                                                   exclude=[])
            except MlcoreError:
                logger.warning("continue_sequence failed", exc_info=True)
    own: list[str] = []
    if len(members) > 1:
        # Each member's own top picks join the pool (the model's, else their fallback).
        for m in members:
            prof = profiles[str(m.pk)]
            picks = _model_candidates(served, prof, k=limit * 3, context=ctx,
                                      exclude=in_playlist | prof.disliked)
            if picks:
                own += [i for i, _ in picks]
            else:
                pool = ranking.fallback_candidates(prof)
                best = np.argsort(-ranking.fallback_scores(pool, prof, None), kind="stable")
                own += [pool[i]["id"] for i in best[: limit * 3]]
    rows_by_id = ranking.tracks_fetch([i for i, _ in cont] + own)
    cand = [rows_by_id[i] for i, _ in cont if i in rows_by_id and i not in in_playlist]
    seen_ids = {r["id"] for r in cand}
    for i in own:
        if i in rows_by_id and i not in in_playlist and i not in seen_ids:
            cand.append(rows_by_id[i])
            seen_ids.add(i)
    cont_score = dict(zip([i for i, _ in cont], ranking.minmax([s for _, s in cont]), strict=False))
    # The playlist itself is a taste profile: its genres and energy drive the fallback.
    pl_profile = Profile(user_id=str(playlist.pk))
    pl_profile.liked = [
        {"id": str(r["id"]), "title": r["title"], "artist": r["artist"], "genre": r["genre"],
         "features": r["features"] or {}, "type": "add"}
        for r in Track.objects.filter(pk__in=track_ids[-100:]).values(*ranking.TRACK_FIELDS)]
    if len(cand) < limit * 3:
        have = {r["id"] for r in cand} | in_playlist
        pool = [r for r in ranking.fallback_candidates(pl_profile) if r["id"] not in have]
        pool_scores = ranking.fallback_scores(pool, pl_profile, None)
        for i in np.argsort(-pool_scores, kind="stable")[: limit * 5]:
            cand.append(pool[i])
            cont_score.setdefault(pool[i]["id"], 0.5 * float(pool_scores[i]))
    for p in profiles.values():
        cand = [r for r in cand if r["id"] not in p.disliked]

    member_pct = {str(m.pk): _percentiles(_member_scores(served, profiles[str(m.pk)], cand))
                  for m in members}
    cont_of = [cont_score.get(r["id"], 0.0) for r in cand]
    if len(members) > 1:
        picked = _fair_share(cand, [member_pct[str(m.pk)] for m in members], cont_of,
                             limit=limit)
    else:
        mean = member_pct[str(members[0].pk)]
        ranked = sorted(((cand[i], 0.5 * mean[i] + 0.5 * cont_of[i]) for i in range(len(cand))),
                        key=lambda p: -p[1])
        picked = ranking.diversify(ranked, limit=limit, diversity=True)
    index_of = {r["id"]: i for i, r in enumerate(cand)}
    tracks = [ranking.track_payload(row, score, ranking.reason_for(row, pl_profile))
              for row, score in picked]
    chosen = [index_of[t["id"]] for t in tracks]
    member_out = []
    for m in members:
        pct = member_pct[str(m.pk)]
        match = round(100 * sum(pct[i] for i in chosen) / len(chosen)) if chosen else 0
        member_out.append({"user_id": str(m.pk), "username": m.username, "taste_match": match})
    return {"tracks": tracks, "members": member_out,
            "strategy": STRATEGY if len(members) > 1 else "continuation",
            "model_version": served.version_id if served and cont else None}
