"""From a file to a recommendation and back: Essentia's features on an upload, the content path
offering the new track at once, and the player's plays and skips (issue 15, items 2 and 5)."""
from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from library.models import AudioFile
from library.services import analyse
from listening.models import Listen
from playlists.models import Track
from recommendations.models import Interaction

from .audio_files import make_audio

pytestmark = pytest.mark.django_db


def _upload(client, path):
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    response = client.post("/api/library/files", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["track"]


def test_upload_is_analysed_and_becomes_recommendable_by_its_features_at_once(
        tmp_path, media, eager_celery, django_capture_on_commit_callbacks,
        logged_in_api_client):
    for n in range(12):  # a catalog of slow tracks, more popular than anything uploaded
        Track.objects.create(external_id=f"c{n}", title=f"Slow {n}", artist=f"A{n}",
                             genre="ambient", features={"tempo": 70.0 + n, "energy": 0.2},
                             metadata={"popularity": 90})
    path = make_audio(tmp_path / "fast.mp3", title="Fast One", bpm=132.0, seconds=12.0,
                      genre="Techno")
    with django_capture_on_commit_callbacks(execute=True):
        track = _upload(logged_in_api_client, path)
    stored = Track.objects.get(pk=track["id"])
    assert stored.analysis == "done"
    assert abs(stored.features["tempo"] - 132.0) <= 2.0
    assert {"key", "mode", "loudness", "danceability", "energy"} <= set(stored.features)
    assert "valence" not in stored.features  # what the signal cannot tell stays absent
    assert AudioFile.objects.get().analysed_hash == AudioFile.objects.get().content_hash
    detail = logged_in_api_client.get(f"/api/tracks/{track['id']}").json()
    assert detail["analysis"] == "done" and detail["features"]["tempo"] == stored.features[
        "tempo"]
    generated = logged_in_api_client.post("/api/playlists/generate", {
        "context": {"tempo": [125, 140]}, "length": 5}, format="json")
    assert generated.status_code == 200, generated.content
    assert track["id"] in [t["id"] for t in generated.json()["tracks"]]


def test_analysis_is_idempotent_and_a_broken_file_fails_visibly(tmp_path, media, no_analysis,
                                                               logged_in_api_client):
    track = _upload(logged_in_api_client, make_audio(tmp_path / "a.wav", seconds=12.0))
    audio = AudioFile.objects.get()
    assert analyse.audio_file_analyse(audio_file_id=str(audio.pk)) == "done"
    features = Track.objects.get(pk=track["id"]).features
    Track.objects.filter(pk=track["id"]).update(features={"tempo": 1.0})
    assert analyse.audio_file_analyse(audio_file_id=str(audio.pk)) == "done"
    assert Track.objects.get(pk=track["id"]).features == {"tempo": 1.0}  # not redone
    assert features["tempo"] > 0
    AudioFile.objects.filter(pk=audio.pk).update(analysed_hash="")
    audio.path_obj.write_bytes(b"RIFF broken")
    assert analyse.audio_file_analyse(audio_file_id=str(audio.pk)) == "failed"
    assert AudioFile.objects.get().analysis_error
    assert logged_in_api_client.get("/api/library").json() == {"pending": 0, "done": 0,
                                                               "failed": 1}


def test_analysis_resume_sends_what_is_still_waiting(tmp_path, media, no_analysis,
                                                     logged_in_api_client):
    _upload(logged_in_api_client, make_audio(tmp_path / "a.mp3"))
    _upload(logged_in_api_client, make_audio(tmp_path / "b.mp3", title="B", seed=3))
    no_analysis.reset_mock()
    assert analyse.analysis_resume() == 2
    assert no_analysis.call_count == 2


def _report(client, items):
    return client.post("/api/interactions", items, format="json")


def test_player_reports_count_once_and_show_in_history(tmp_path, media, no_analysis,
                                                       logged_in_api_client):
    played = _upload(logged_in_api_client, make_audio(tmp_path / "a.mp3"))
    skipped = _upload(logged_in_api_client, make_audio(tmp_path / "b.mp3", title="B", seed=2))
    batch = [
        {"id": str(uuid.uuid4()), "trackId": played["id"], "type": "play",
         "context": {"source": "player", "secondsListened": 182.5}},
        {"id": str(uuid.uuid4()), "trackId": skipped["id"], "type": "skip",
         "context": {"source": "player", "secondsListened": 7}},
    ]
    first = _report(logged_in_api_client, batch)
    assert first.status_code == 202 and first.json() == {"accepted": 2}
    again = _report(logged_in_api_client, batch)  # the answer was lost; the player resends
    assert again.status_code == 202 and again.json() == {"accepted": 0}
    assert Interaction.objects.count() == 2
    play = Interaction.objects.get(type="play")
    assert play.context == {"source": "player", "seconds_listened": 182.5}
    history = logged_in_api_client.get("/api/users/me/listens").json()["results"]
    assert sorted((h["track"]["id"], h["source"], h.get("msPlayed")) for h in history) == sorted(
        [(skipped["id"], "player", 7000), (played["id"], "player", 182500)])
    assert Listen.objects.count() == 2


@pytest.mark.parametrize("context, field", [
    ({"secondsListened": -1}, "secondsListened"),
    ({"secondsListened": "a lot"}, "secondsListened"),
    ({"source": "x" * 40}, "source"),
])
def test_player_reports_with_bad_playback_context_are_400(tmp_path, media, no_analysis,
                                                          logged_in_api_client, context, field):
    track = _upload(logged_in_api_client, make_audio(tmp_path / "a.mp3"))
    response = _report(logged_in_api_client, {"trackId": track["id"], "type": "play",
                                              "context": context})
    assert response.status_code == 400
    assert field in str(response.json()["error"]["fields"])
    assert not Interaction.objects.exists() and not Listen.objects.exists()


def test_plays_from_elsewhere_are_not_listens_twice(tmp_path, media, no_analysis,
                                                    logged_in_api_client):
    """A like, or a play without the player's source, is a signal only; History is listens."""
    track = _upload(logged_in_api_client, make_audio(tmp_path / "a.mp3"))
    _report(logged_in_api_client, [{"trackId": track["id"], "type": "like"},
                                   {"trackId": track["id"], "type": "play"}])
    assert Interaction.objects.count() == 2 and not Listen.objects.exists()


def test_a_playlist_add_is_one_add_interaction(tmp_path, media, no_analysis,
                                               logged_in_api_client,
                                               django_capture_on_commit_callbacks):
    track = _upload(logged_in_api_client, make_audio(tmp_path / "a.mp3"))
    playlist = logged_in_api_client.post("/api/playlists", {"name": "Mine"},
                                         format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in_api_client.put(f"/api/playlists/{playlist['id']}/tracks",
                                            {"trackIds": [track["id"]]}, format="json")
    assert response.status_code == 200
    assert Interaction.objects.filter(type="add").count() == 1
