"""The vectorised fallback scores and range checks are the per-row ones; candidate rows."""
import uuid

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def in_ranges(row, ranges):
    """The range rule for one row, written out plainly: the reference for the arrays."""
    feats = row.get("features") or {}
    return all(isinstance(feats.get(name), (int, float)) and lo <= feats[name] <= hi
               for name, (lo, hi) in ranges.items())


def test_range_checks_on_row_numbers_equal_the_rule():
    make_catalog(per_genre=6)
    rows = ranking.candidate_rows([str(t) for t in ranking.Track.objects.values_list(
        "id", flat=True)])
    rows[0] = dict(rows[0], features={})  # a track without features
    rows[1] = dict(rows[1], features={"energy": "high", "tempo": 120})
    rows[2] = dict(rows[2], features={"energy": 0.5})  # no tempo
    numbers = fallback.row_numbers(rows)
    for ranges in ({}, {"energy": (0.3, 0.7)}, {"energy": (0.0, 1.0), "tempo": (90.0, 140.0)},
                   {"tempo": (100.0, 100.0)}):
        assert numbers.in_ranges(ranges).tolist() == [in_ranges(r, ranges) for r in rows]


def test_candidate_rows_are_the_tracks_and_kept_a_little_while(settings):
    tracks = make_catalog(per_genre=2)
    ids = [str(t.pk) for t in tracks[:5]]
    with CaptureQueriesContext(connection) as first:
        rows = ranking.candidate_rows(ids + [str(uuid.uuid4())])  # an id not in the catalog
    assert len(first) == 1
    by_id = {t.pk: t for t in tracks}
    assert sorted(r["id"] for r in rows) == sorted(ids)
    for r in rows:
        track = by_id[uuid.UUID(r["id"])]
        assert (r["title"], r["artist"], r["genre"], r["features"]) == (
            track.title, track.artist, track.genre, track.features)
        assert r["metadata"] == {"popularity": track.metadata["popularity"]}
    with CaptureQueriesContext(connection) as again:
        kept = ranking.candidate_rows(ids[:3])
    assert sorted(kept, key=lambda r: r["id"]) == sorted(
        (r for r in rows if r["id"] in ids[:3]), key=lambda r: r["id"])
    assert len(again) == 0  # kept for RECO_POOL_LOCAL_SECONDS

    settings.RECO_POOL_LOCAL_SECONDS = 0
    ranking.candidate_rows_forget()
    ranking.candidate_rows(ids)
    with CaptureQueriesContext(connection) as expired:
        ranking.candidate_rows(ids)
    assert len(expired) == 1
