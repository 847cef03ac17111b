"""Fixtures for the recommendation tests: a genre-structured catalog and serving models.

Most tests serve a model built with `HybridRecommender.from_embeddings` (no TensorFlow, no
fitting): item vectors point along their genre's axis, so "liking rock moves you to rock" is
a property the test can measure. Training itself is covered by test_training.py and the Celery
integration test.
"""
import uuid

import numpy as np
import pytest
import scipy.sparse as sp
from django.utils import timezone

from mlcore import HybridRecommender
from playlists import rendering
from recommendations.models import ModelVersion
from recommendations.services import serving, training
from tests.factories import TrackFactory

GENRES = ["pop", "rock", "rap", "edm", "latin", "r&b"]
# Per-genre energy so that energy filters and arcs have something to work with.
GENRE_ENERGY = {"pop": 0.65, "rock": 0.8, "rap": 0.6, "edm": 0.9, "latin": 0.7, "r&b": 0.45}


@pytest.fixture(autouse=True)
def _serving_isolated(settings, tmp_path):
    """Each test gets its own MODEL_DIR and a process with no model loaded."""
    settings.MODEL_DIR = tmp_path / "models"
    settings.RECO_ACTIVE_CHECK_SECONDS = 0.0
    serving.serving_unload()
    rendering.fragments_forget()
    yield
    serving.serving_unload()


def make_catalog(per_genre: int = 12, artists_per_genre: int = 6) -> list:
    """Tracks of six genres; each artist has several tracks; energy varies within a genre."""
    rng = np.random.default_rng(0)
    tracks = []
    for g in GENRES:
        for i in range(per_genre):
            energy = float(np.clip(GENRE_ENERGY[g] + rng.normal(0, 0.08), 0, 1))
            tracks.append(TrackFactory(
                genre=g, artist=f"{g} artist {i % artists_per_genre}",
                title=f"{g} song {i}",
                features={"danceability": 0.6, "energy": round(energy, 3),
                          "valence": float(rng.uniform(0.2, 0.9)), "acousticness": 0.2,
                          "instrumentalness": 0.0, "liveness": 0.1, "speechiness": 0.05,
                          "loudness": -6.0, "tempo": float(rng.uniform(80, 160)), "key": 5,
                          "mode": 1},
                metadata={"genres": [g], "popularity": int(rng.integers(10, 90))}))
    return tracks


def install_embedding_model(tracks, users=(), user_genres=None, activate=True) -> ModelVersion:
    """Save and activate a serving-only model whose item vectors encode genre."""
    from django.conf import settings

    rng = np.random.default_rng(1)
    d = len(GENRES)
    item_vecs = np.array([np.eye(d)[GENRES.index(t.genre)] + rng.normal(0, 0.05, d)
                          for t in tracks], dtype=np.float32)
    user_genres = user_genres or {}
    user_vecs = np.array([np.eye(d)[GENRES.index(user_genres.get(u.pk, "pop"))]
                          for u in users], dtype=np.float32).reshape(len(users), d)
    # What a trained model knows of its users: their positive history (excluded from their
    # lists) and each track's artist (the batch's artist cap).
    from recommendations.models import Interaction

    col = {str(t.pk): j for j, t in enumerate(tracks)}
    row = {str(u.pk): i for i, u in enumerate(users)}
    hist = np.zeros((len(users), len(tracks)), np.float32)
    for uid, tid in Interaction.objects.filter(
            user__in=list(users), type__in=("like", "add", "play")).values_list("user_id",
                                                                                 "track_id"):
        if str(tid) in col:
            hist[row[str(uid)], col[str(tid)]] = 1.0
    artists = sorted({t.artist for t in tracks})
    model = HybridRecommender.from_embeddings(
        [str(u.pk) for u in users], user_vecs, [str(t.pk) for t in tracks], item_vecs,
        history=sp.csr_matrix(hist), item_groups=np.array([artists.index(t.artist)
                                                           for t in tracks]))
    version = ModelVersion.objects.create(status=ModelVersion.Status.READY,
                                          trained_until=timezone.now(),
                                          metrics={"ndcg@10": 0.1})
    path = settings.MODEL_DIR / str(version.pk)
    model.save(path)
    version.artifact_path = str(path)
    version.save()
    if activate:
        training.model_version_activate(version=version)
        serving.active_version_publish()
    return version


def genre_share(tracks: list[dict], genre: str) -> float:
    from playlists.models import Track

    genres = dict(Track.objects.filter(pk__in=[t["id"] for t in tracks])
                  .values_list("id", "genre"))
    return sum(genres[uuid.UUID(t["id"])] == genre for t in tracks) / max(len(tracks), 1)
