"""Serving: fold-in, cache invalidation, cross-process catch-up, reloads, TensorFlow-free."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recommendations.models import ModelVersion
from recommendations.services import serving, training
from tests.factories import InteractionFactory
from tests.recommendations.conftest import genre_share, install_embedding_model, make_catalog

pytestmark = pytest.mark.django_db


def _recs(client, query="?limit=20"):
    r = client.get(f"/api/users/{client.user.pk}/recommendations{query}")
    assert r.status_code == 200
    return r.json()


def test_fold_in_shifts_recommendations_toward_liked_genre(logged_in_api_client):
    tracks = make_catalog(per_genre=20, artists_per_genre=10)
    user = logged_in_api_client.user
    pop = [t for t in tracks if t.genre == "pop"]
    for t in pop[:3]:
        InteractionFactory(user=user, track=t, type="play")
    version = install_embedding_model(tracks, [user], user_genres={user.pk: "pop"})
    before = _recs(logged_in_api_client)
    assert before["modelVersion"] == str(version.pk)
    rock_before = genre_share(before["tracks"], "rock")
    rock = [str(t.pk) for t in tracks if t.genre == "rock"][:6]
    r = logged_in_api_client.post("/api/interactions",
                                  [{"trackId": t, "type": "like"} for t in rock], format="json")
    assert r.status_code == 202
    after = _recs(logged_in_api_client)  # no retrain: the same model version
    assert after["modelVersion"] == str(version.pk)
    rock_after = genre_share(after["tracks"], "rock")
    assert rock_after >= rock_before + 0.4, (rock_before, rock_after)
    assert not {t["id"] for t in after["tracks"]} & set(rock)  # liked ones are not re-offered
    assert any(t["reason"].startswith("because you liked rock song") for t in after["tracks"])


def test_other_process_folds_in_from_the_database(logged_in_api_client):
    tracks = make_catalog(per_genre=20, artists_per_genre=10)
    user = logged_in_api_client.user
    install_embedding_model(tracks, [user], user_genres={user.pk: "pop"})
    # Interactions written by another process (no fold-in here, no cache invalidation).
    for t in [t for t in tracks if t.genre == "latin"][:6]:
        InteractionFactory(user=user, track=t, type="like")
    serving.serving_unload()  # a fresh web process: loads the model, then catches up
    share = genre_share(_recs(logged_in_api_client)["tracks"], "latin")
    assert share >= 0.5
    served = serving.served_model()
    assert len(served.folded[str(user.pk)]) == 6
    _recs(logged_in_api_client, "?limit=21")  # a cache miss again: nothing folded twice
    assert len(served.folded[str(user.pk)]) == 6


def test_new_interactions_invalidate_cached_lists(logged_in_api_client):
    tracks = make_catalog(per_genre=4)
    first = _recs(logged_in_api_client)
    assert _recs(logged_in_api_client) == first  # served from the cache
    disliked = first["tracks"][0]["id"]
    logged_in_api_client.post("/api/interactions", {"trackId": disliked, "type": "dislike"},
                              format="json")
    assert disliked not in {t["id"] for t in _recs(logged_in_api_client)["tracks"]}
    assert tracks


def test_new_user_after_training_is_folded_in(logged_in_api_client):
    tracks = make_catalog(per_genre=20, artists_per_genre=10)
    install_embedding_model(tracks, [])  # the model has never seen this user
    edm = [str(t.pk) for t in tracks if t.genre == "edm"][:5]
    logged_in_api_client.post("/api/interactions", [{"trackId": t, "type": "like"} for t in edm],
                              format="json")
    body = _recs(logged_in_api_client)
    assert body["modelVersion"] is not None
    assert genre_share(body["tracks"], "edm") >= 0.5


def test_activation_switches_served_version(logged_in_api_client,
                                            django_capture_on_commit_callbacks):
    tracks = make_catalog(per_genre=3)
    user = logged_in_api_client.user
    InteractionFactory(user=user, track=tracks[0], type="like")
    with django_capture_on_commit_callbacks(execute=True):
        v1 = install_embedding_model(tracks, [user])
    assert _recs(logged_in_api_client)["modelVersion"] == str(v1.pk)
    with django_capture_on_commit_callbacks(execute=True):
        v2 = install_embedding_model(tracks, [user])
    assert _recs(logged_in_api_client, "?limit=5")["modelVersion"] == str(v2.pk)
    v1.refresh_from_db()
    assert not v1.is_active and v1.status == ModelVersion.Status.RETIRED
    with django_capture_on_commit_callbacks(execute=True):
        back = training.model_version_rollback()
    assert back.pk == v1.pk
    assert _recs(logged_in_api_client, "?limit=6")["modelVersion"] == str(v1.pk)


def test_broken_artifact_falls_back_instead_of_500(logged_in_api_client, tmp_path):
    make_catalog(per_genre=2)
    ModelVersion.objects.create(status="active", is_active=True,
                                artifact_path=str(tmp_path / "missing"))
    body = _recs(logged_in_api_client)
    assert body["modelVersion"] is None and len(body["tracks"]) == 12


def test_redis_or_cache_outage_does_not_break_recommendations(logged_in_api_client, monkeypatch):
    make_catalog(per_genre=2)

    def boom(*a, **k):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", boom)
    monkeypatch.setattr(cache, "get_many", boom)
    monkeypatch.setattr(cache, "set", boom)
    r = logged_in_api_client.get(f"/api/users/{logged_in_api_client.user.pk}/recommendations")
    # The fallback pools need the cache too; without it, lists are still computed.
    assert r.status_code == 200 and len(r.json()["tracks"]) == 12


PROBE = r"""
import os, sys, json
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "audotics.settings"
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rest_framework.test import APIClient
from tests.factories import UserFactory
from tests.recommendations.conftest import make_catalog, install_embedding_model
from django.conf import settings
settings.ALLOWED_HOSTS = ["testserver"]
tracks = make_catalog(per_genre=3)
user = UserFactory()
install_embedding_model(tracks, [user])
client = APIClient(); client.force_authenticate(user=user)
r = client.get(f"/api/users/{user.pk}/recommendations")
print(json.dumps({"status": r.status_code, "version": r.json().get("modelVersion"),
                  "tensorflow": "tensorflow" in sys.modules}))
"""


def test_serving_never_imports_tensorflow(tmp_path):
    """In a fresh process (this one may have trained): load + serve, then check sys.modules."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "AUDOTICS_REQUIRE_SERVICES")}
    env.update(AUDOTICS_HOME=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr[-3000:]
    import json

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == 200 and result["version"]
    assert result["tensorflow"] is False


def test_adding_tracks_to_a_playlist_feeds_recommendations(
    logged_in_api_client, django_capture_on_commit_callbacks
):
    from tests.factories import PlaylistFactory

    tracks = make_catalog(per_genre=20, artists_per_genre=10)
    user = logged_in_api_client.user
    install_embedding_model(tracks, [user], user_genres={user.pk: "pop"})
    rock_before = genre_share(_recs(logged_in_api_client)["tracks"], "rock")
    playlist = PlaylistFactory(owner=user)
    rock = [str(t.pk) for t in tracks if t.genre == "rock"][:6]
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in_api_client.put(
            f"/api/playlists/{playlist.pk}/tracks", {"trackIds": rock}, format="json"
        )
    assert response.status_code == 200
    rock_after = genre_share(_recs(logged_in_api_client)["tracks"], "rock")  # cache dropped
    assert rock_after >= rock_before + 0.3, (rock_before, rock_after)


def test_generation_catches_up_from_the_interactions_its_profile_read(logged_in_api_client):
    tracks = make_catalog(per_genre=20, artists_per_genre=10)
    user = logged_in_api_client.user
    InteractionFactory(user=user, track=tracks[0], type="play")  # before the model's cutoff
    install_embedding_model(tracks, [user], user_genres={user.pk: "pop"})
    for t in [t for t in tracks if t.genre == "latin"][:6]:  # since, by another process
        InteractionFactory(user=user, track=t, type="like")
    serving.serving_unload()
    with CaptureQueriesContext(connection) as queries:
        r = logged_in_api_client.post("/api/playlists/generate", {"length": 10}, format="json")
    assert r.status_code == 200
    assert len(serving.served_model().folded[str(user.pk)]) == 6
    # The profile's newest interactions reach back past the cutoff: the catch-up reads none.
    mine = [q for q in queries if "recommendations_interaction" in q["sql"]
            and (str(user.pk) in q["sql"] or user.pk.hex in q["sql"])]
    assert len(mine) == 1, [q["sql"] for q in mine]
