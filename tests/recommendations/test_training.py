"""Training, activation rules, batch precompute and evaluation (in-process; imports TensorFlow)."""
from collections import Counter

import numpy as np
import pytest
from django.core.cache import cache
from django.core.management import call_command

from mlcore import HybridRecommender
from recommendations.models import ModelVersion
from recommendations.services import serving, training
from tests.factories import InteractionFactory, UserFactory
from tests.recommendations.conftest import GENRES, install_embedding_model, make_catalog

pytestmark = pytest.mark.django_db


def make_listeners(tracks, n_users=12, per_user=10, seed=0):
    """Users who each like two genres: the model has structure to learn."""
    rng = np.random.default_rng(seed)
    by_genre = {g: [t for t in tracks if t.genre == g] for g in GENRES}
    users = []
    for n in range(n_users):
        user = UserFactory()
        users.append(user)
        liked = [GENRES[n % len(GENRES)], GENRES[(n + 1) % len(GENRES)]]
        pool = [t for g in liked for t in by_genre[g]]
        for i in rng.choice(len(pool), size=min(per_user, len(pool)), replace=False):
            InteractionFactory(user=user, track=pool[i], type="like" if i % 3 else "play",
                               context={"mood": "happy"} if i % 2 else {})
    return users


def test_train_model_command_creates_and_activates_a_version(settings, capsys):
    tracks = make_catalog(per_genre=8)
    users = make_listeners(tracks)
    settings.RECO_TRAIN_HEADS = 2
    call_command("train_model", "--epochs", "1")
    version = ModelVersion.objects.get()
    assert version.is_active and version.status == ModelVersion.Status.ACTIVE
    assert {"ndcg@10", "recall@20", "popularity_ndcg@10"} <= set(version.metrics)
    assert version.trained_on_users == len(users)
    assert version.trained_on_tracks == len(tracks)
    assert (settings.MODEL_DIR / str(version.pk) / "meta.json").exists()
    model = HybridRecommender.load(version.artifact_path)
    assert model.has_user(str(users[0].pk))
    assert version.config["head_count"] == len(model._heads) == 2
    # The API serves it.
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=users[0])
    with_model = client.get(f"/api/users/{users[0].pk}/recommendations").json()
    assert with_model["modelVersion"] == str(version.pk) and with_model["tracks"]
    assert version.pk and "ndcg@10" in capsys.readouterr().out


def test_train_model_if_none_trains_once_then_reuses(capsys):
    """`make run` trains a first model on the demo data; later runs keep serving it."""
    tracks = make_catalog(per_genre=8)
    make_listeners(tracks)
    call_command("train_model", "--epochs", "1", "--if-none")
    first = ModelVersion.objects.get()
    assert first.is_active
    capsys.readouterr()
    call_command("train_model", "--epochs", "1", "--if-none")
    assert ModelVersion.objects.get() == first
    assert f"model version {first.pk} is active" in capsys.readouterr().out


def test_after_an_upgrade_of_the_artifact_format_the_next_run_trains_and_activates(capsys):
    """An active version an older release saved cannot be served: `--if-none` trains again and
    the new version replaces it whatever the old one's score."""
    tracks = make_catalog(per_genre=8)
    make_listeners(tracks)
    call_command("train_model", "--epochs", "1", "--if-none")
    old = ModelVersion.objects.get()
    meta = old.artifact_path + "/meta.json"
    with open(meta) as f:
        text = f.read()
    with open(meta, "w") as f:
        f.write(text.replace('"format_version": ', '"format_version": -1, "was": '))
    ModelVersion.objects.filter(pk=old.pk).update(metrics={"ndcg@10": 1.0})  # unbeatable
    capsys.readouterr()
    call_command("train_model", "--epochs", "1", "--if-none")
    assert "saved by an older release" in capsys.readouterr().out
    new = ModelVersion.objects.get(is_active=True)
    assert new.pk != old.pk and training.active_version_servable() == str(new.pk)


def test_failed_training_leaves_the_active_version(monkeypatch):
    tracks = make_catalog(per_genre=4)
    make_listeners(tracks, n_users=6, per_user=6)
    active = install_embedding_model(tracks, [])

    def killed(self, *args, **kwargs):  # what a worker dying mid-fit looks like from here
        raise KeyboardInterrupt("worker lost")

    monkeypatch.setattr(HybridRecommender, "fit", killed)
    with pytest.raises(KeyboardInterrupt):
        training.model_train(epochs=1)
    failed = ModelVersion.objects.exclude(pk=active.pk).get()
    assert failed.status == ModelVersion.Status.FAILED and "worker lost" in failed.error
    assert not failed.artifact_path
    active.refresh_from_db()
    assert active.is_active
    assert serving.active_version()["id"] == str(active.pk)


def test_train_without_data_is_refused():
    with pytest.raises(Exception) as exc:
        training.model_train(epochs=1)
    assert getattr(exc.value, "code", "") == "not_enough_data"
    assert ModelVersion.objects.get().status == ModelVersion.Status.FAILED


@pytest.mark.parametrize("new, old, ok", [(0.10, 0.10, True), (0.096, 0.10, True),
                                          (0.09, 0.10, False), (0.2, None, True)])
def test_activation_tolerance(new, old, ok):
    if old is not None:
        ModelVersion.objects.create(is_active=True, status="active", metrics={"ndcg@10": old})
    candidate = ModelVersion.objects.create(status="ready", metrics={"ndcg@10": new})
    assert training.model_version_is_acceptable(version=candidate) is ok


def test_recommend_batch_fills_the_cache(logged_in_api_client):
    tracks = make_catalog(per_genre=5)
    users = make_listeners(tracks, n_users=4, per_user=5)
    # Active, but unknown to the model (and nothing since its cutoff to fold in): the batch
    # gives them the per-user path and its fallback.
    newcomer = UserFactory()
    InteractionFactory(user=newcomer, track=tracks[0], type="play")
    install_embedding_model(tracks, users)
    call_command("recommend_batch", "--days", "7")
    assert [k for k in _cache_keys() if k.startswith(f"reco:u:{newcomer.pk}:")]
    user = users[0]
    keys = [k for k in _cache_keys() if k.startswith(f"reco:u:{user.pk}:")]
    assert keys, "precomputed list missing"
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=user)
    body = client.get(f"/api/users/{user.pk}/recommendations").json()
    _, cached = cache.get(keys[0])  # (generation token, entries)
    assert [t["id"] for t in body["tracks"]] == [e[0] for e in cached["tracks"]]


def test_batch_lists_keep_the_rules_of_the_per_user_path():
    """The vectorised batch: no seen or disliked tracks, <= 2 per artist, named reasons."""
    from rest_framework.test import APIClient

    from recommendations.models import Interaction

    tracks = make_catalog(per_genre=12, artists_per_genre=4)
    users = make_listeners(tracks, n_users=6, per_user=8)
    disliked = {}
    for u in users:
        pop_tracks = [t for t in tracks if t.genre == "pop"]
        seen = set(Interaction.objects.filter(user=u).values_list("track_id", flat=True))
        victim = next(t for t in pop_tracks if t.pk not in seen)
        Interaction.objects.create(user=u, track=victim, type="dislike")
        disliked[u.pk] = str(victim.pk)
    install_embedding_model(tracks, users)
    call_command("recommend_batch", "--days", "7")
    client = APIClient()
    by_id = {str(t.pk): t for t in tracks}
    for u in users:
        client.force_authenticate(user=u)
        body = client.get(f"/api/users/{u.pk}/recommendations").json()
        ids = [t["id"] for t in body["tracks"]]
        assert len(ids) == 20 and body["source"] == "model"
        seen = {str(t) for t in Interaction.objects.filter(user=u).exclude(type="dislike")
                .values_list("track_id", flat=True)}
        assert not seen & set(ids)
        assert disliked[u.pk] not in ids
        per_artist = Counter(by_id[i].artist for i in ids)
        assert max(per_artist.values()) <= 2
        liked_titles = {by_id[i].title for i in seen}
        named = [t["reason"] for t in body["tracks"] if t["reason"].startswith("because")]
        assert named and all(any(f"liked {title} by" in r for title in liked_titles)
                             for r in named)
        # Scores min-max scaled per list, as the per-user path does: best 1, worst 0.
        scores = [t["score"] for t in body["tracks"]]
        assert scores == sorted(scores, reverse=True)
        assert scores[0] == 1.0 and scores[-1] == 0.0


def test_a_cache_miss_computes_the_list_the_batch_computes():
    """With the trained model (the head's path), a missing default list is the batch's own:
    same tracks, order, scores and reasons; a playlist being edited is left out of it too."""
    from rest_framework.test import APIClient

    from recommendations.services import results_cache
    from tests.factories import PlaylistFactory, PlaylistTrackFactory

    tracks = make_catalog(per_genre=8)
    users = make_listeners(tracks)
    call_command("train_model", "--epochs", "1")
    user = users[0]
    client = APIClient()
    client.force_authenticate(user=user)
    url = f"/api/users/{user.pk}/recommendations"
    missed = client.get(url).json()
    assert missed["source"] == "model" and len(missed["tracks"]) == 20
    results_cache.user_cache_invalidate(user_id=str(user.pk))
    call_command("recommend_batch", "--days", "7")
    assert client.get(url).json()["tracks"] == missed["tracks"]

    playlist = PlaylistFactory(owner=user)
    top = [t for t in tracks if str(t.pk) in {x["id"] for x in missed["tracks"][:3]}]
    for n, t in enumerate(top):
        PlaylistTrackFactory(playlist=playlist, track=t, position=n)
    editing = client.get(f"{url}?playlistId={playlist.pk}").json()
    ids = [t["id"] for t in editing["tracks"]]
    assert len(ids) == 20 and not {str(t.pk) for t in top} & set(ids)
    assert editing["source"] == "model"


def _cache_keys():
    if hasattr(cache, "keys"):
        return [k for k in cache.keys("reco:u:*")]
    return [k.split(":", 2)[-1] for k in cache._cache]  # locmem: ":1:<key>"


def test_evaluate_model_command(capsys):
    tracks = make_catalog(per_genre=5)
    users = make_listeners(tracks, n_users=6, per_user=6)
    install_embedding_model(tracks, users)
    call_command("evaluate_model")
    assert "leave_out" in capsys.readouterr().out


def test_admin_lists_versions_and_activates(admin_client, django_capture_on_commit_callbacks,
                                            settings):
    # Without collectstatic there is no manifest (DEBUG off on PostgreSQL): plain storage.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    tracks = make_catalog(per_genre=2)
    v1 = install_embedding_model(tracks, [])
    v2 = install_embedding_model(tracks, [], activate=False)
    page = admin_client.get("/admin/recommendations/modelversion/")
    assert page.status_code == 200 and b"NDCG@10" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/recommendations/modelversion/",
                          {"action": "activate", "_selected_action": [str(v2.pk)]})
    v2.refresh_from_db()
    assert v2.is_active
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/recommendations/modelversion/",
                          {"action": "roll_back", "_selected_action": [str(v2.pk)]})
    v1.refresh_from_db()
    assert v1.is_active


def test_training_reports_its_progress_and_records_it_on_the_version(client):
    """Stages reach the caller (progress bars, Celery state) and the version row (the staff
    model page), with an ETA while a stage runs."""
    tracks = make_catalog(per_genre=8)
    make_listeners(tracks)
    seen = []
    version = training.model_train(epochs=2, on_progress=lambda *a: seen.append(a))
    stages = {s for s, _, _ in seen}
    assert {"prepare", "item-item models", "towers (epochs)", "re-ranker"} <= stages
    assert ("towers (epochs)", 1, 2) in seen
    assert version.progress["done"] == version.progress["total"] > 0

    staff = UserFactory(is_staff=True)
    running = ModelVersion.objects.create(progress={
        "stage": "towers (epochs)", "done": 3, "total": 10, "eta_seconds": 420.0,
        "at": "2026-12-01T06:00:00+00:00"})
    client.force_login(staff)
    page = client.get("/staff/model").content.decode()
    assert "Training now" in page and str(running.pk) in page
    assert "3 of 10" in page and "about 7 min left" in page
