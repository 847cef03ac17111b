"""The vectorised fallback scores are the per-row scores."""
import numpy as np
import pytest

from recommendations.services import context_targets as ct
from recommendations.services import fallback, ranking
from tests.recommendations.conftest import make_catalog

pytestmark = pytest.mark.django_db


def fallback_score(row, profile, target):
    """The fallback score of one row, written out plainly: the reference for the arrays."""
    pop = max(ranking.popularity_of(row), row.get("_rank_pop", 0.0))
    share = profile.genre_share
    genre = row.get("genre") or ""
    affinity = 0.5 * (genre in profile.pref_genres)
    if share:
        affinity += 0.5 * share.get(genre, 0.0) / max(share.values())
    energy = profile.usual_energy
    feats = row.get("features") or {}
    e_close = (1.0 - min(1.0, abs(float(feats["energy"]) - energy))
               if energy is not None and isinstance(feats.get("energy"), (int, float)) else 0.5)
    score = 0.3 * pop + 0.45 * affinity + 0.1 * e_close
    if target:
        score += 0.15 * ct.closeness(feats, target)
    return score


@pytest.mark.parametrize("context", [{}, {"mood": "happy"}, {"activity": "workout"}])
def test_fallback_scores_equal_fallback_score(context):
    make_catalog(per_genre=6)
    rows = list(ranking.tracks_fetch([str(t) for t in ranking.Track.objects.values_list(
        "id", flat=True)]).values())
    rows[0]["features"] = {}  # a track without features
    rows[1]["metadata"] = {"popularity": "n/a"}
    rows[2]["_rank_pop"] = 0.9
    liked = rows[3:8]
    for profile in (
        ranking.Profile("u1"),
        ranking.Profile("u2", {"genres": ["rock", "edm"], "energy": 0.7}),
        ranking.Profile("u3", liked=[dict(r, type="like") for r in liked]),
    ):
        target = ct.context_target(ranking.context_parse(context)) if context else None
        expected = [fallback_score(r, profile, target) for r in rows]
        np.testing.assert_allclose(fallback.fallback_scores(rows, profile, target), expected,
                                   rtol=1e-12, atol=1e-12)


def test_closeness_scores_equal_closeness():
    make_catalog(per_genre=3)
    rows = list(ranking.tracks_fetch([str(t) for t in ranking.Track.objects.values_list(
        "id", flat=True)]).values())
    rows[0]["features"] = {"energy": 0.5}  # only some target features known
    for target in ({"energy": 0.8, "tempo": 120.0}, {"valence": 0.2}, {"loudness": -5.0}):
        np.testing.assert_allclose(fallback.closeness_scores(rows, target),
                                   [ct.closeness(r["features"], target) for r in rows])
