"""The vectorised fallback scores are the per-row scores."""
import numpy as np
import pytest

from recommendations.services import context_targets as ct
from recommendations.services import ranking
from tests.recommendations.conftest import make_catalog

pytestmark = pytest.mark.django_db


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
        expected = [ranking.fallback_score(r, profile, target) for r in rows]
        np.testing.assert_allclose(ranking.fallback_scores(rows, profile, target), expected,
                                   rtol=1e-12, atol=1e-12)


def test_closeness_scores_equal_closeness():
    make_catalog(per_genre=3)
    rows = list(ranking.tracks_fetch([str(t) for t in ranking.Track.objects.values_list(
        "id", flat=True)]).values())
    rows[0]["features"] = {"energy": 0.5}  # only some target features known
    for target in ({"energy": 0.8, "tempo": 120.0}, {"valence": 0.2}, {"loudness": -5.0}):
        np.testing.assert_allclose(ranking.closeness_scores(rows, target),
                                   [ct.closeness(r["features"], target) for r in rows])
