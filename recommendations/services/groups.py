"""Playlist continuation, and suggestions that serve every member of a collaborative playlist."""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import numpy as np

from audotics.exceptions import ApplicationError
from mlcore import MlcoreError
from playlists.models import Collaborator, Playlist, PlaylistTrack, Track

from . import fallback, ranking, serving
from .ranking import Profile
from .recommend import MAX_LIMIT, model_candidates

logger = logging.getLogger(__name__)

STRATEGY = "fair_share"
MEMBER_WEIGHT = 0.7  # in a member's turn: their own percentile vs the playlist's continuation
STRATEGY = "fair_share"
MEMBER_WEIGHT = 0.7  # in a member's turn: their own percentile vs the playlist's continuation


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
    return fallback.fallback_scores(rows, profile, None).tolist()


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
            serving.user_catch_up(served, user_id=str(m.pk),
                                  recent=profiles[str(m.pk)].recent)
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
            picks = model_candidates(served, prof, k=limit * 3, context=ctx,
                                      exclude=in_playlist | prof.disliked)
            if picks:
                own += [i for i, _ in picks]
            else:
                pool = fallback.fallback_candidates(prof)
                best = np.argsort(-fallback.fallback_scores(pool, prof, None), kind="stable")
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
        pool = [r for r in fallback.fallback_candidates(pl_profile) if r["id"] not in have]
        pool_scores = fallback.fallback_scores(pool, pl_profile, None)
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
