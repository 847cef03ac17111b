"""Uploads, streams with Range requests, covers and who may read them (issue 15, items 1 and 3)."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from library.models import AudioFile
from library.services import files
from playlists.models import Track

from .audio_files import make_audio

pytestmark = pytest.mark.django_db


def _upload(client, path, name=None):
    upload = SimpleUploadedFile(name or path.name, path.read_bytes())
    return client.post("/api/library/files", {"file": upload}, format="multipart")


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def uploaded(tmp_path, media, no_analysis, logged_in_api_client):
    path = make_audio(tmp_path / "up.mp3", seconds=3.0)
    response = _upload(logged_in_api_client, path)
    assert response.status_code == 201, response.content
    return response.json()["track"], path.read_bytes()


def test_upload_creates_a_track_and_a_second_upload_of_it_changes_nothing(
        tmp_path, media, no_analysis, logged_in_api_client):
    path = make_audio(tmp_path / "a.flac")
    first = _upload(logged_in_api_client, path)
    assert first.status_code == 201
    body = first.json()
    assert body["created"] is True and body["outcome"] == "created"
    track = body["track"]
    assert (track["title"], track["hasAudio"], track["hasCover"], track["analysis"]) == (
        "Harbor Lights", True, True, "pending")
    again = _upload(logged_in_api_client, path, name="renamed.flac")
    assert again.status_code == 201
    assert again.json()["outcome"] == "unchanged"
    assert again.json()["track"]["id"] == track["id"]
    assert AudioFile.objects.count() == 1
    stored = AudioFile.objects.get()
    assert stored.uploaded_by == logged_in_api_client.user
    assert stored.path.startswith(str(media / "uploads"))


def test_upload_names_never_become_paths(tmp_path, media, no_analysis, logged_in_api_client):
    path = make_audio(tmp_path / "x.ogg")
    response = _upload(logged_in_api_client, path, name="../../../../etc/evil.ogg")
    assert response.status_code == 201
    stored = AudioFile.objects.get()
    assert stored.path.startswith(str(media / "uploads")) and "evil" not in stored.path
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize("name, content, code", [
    ("notes.txt", b"hello", "unsupported_audio"),
    ("fake.mp3", b"not audio " * 100, "unsupported_audio"),
])
def test_bad_uploads_get_a_clear_error_and_store_nothing(media, no_analysis,
                                                         logged_in_api_client, name, content,
                                                         code):
    response = logged_in_api_client.post(
        "/api/library/files", {"file": SimpleUploadedFile(name, content)}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and "Nothing was stored" in error["message"]
    assert not Track.objects.exists()
    assert not any((media / "uploads").rglob("*.*"))


def test_upload_without_a_file_or_too_large_is_refused(settings, tmp_path, media, no_analysis,
                                                        logged_in_api_client):
    missing = logged_in_api_client.post("/api/library/files", {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["error"]["fields"]
    settings.UPLOAD_MAX_BYTES = 1000
    path = make_audio(tmp_path / "big.wav")
    too_big = _upload(logged_in_api_client, path)
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "request_too_large"


def test_upload_needs_a_signed_in_user(tmp_path, media, no_analysis):
    path = make_audio(tmp_path / "a.mp3")
    assert _upload(APIClient(), path).status_code == 401


def test_stream_whole_file(uploaded, logged_in_api_client):
    track, data = uploaded
    response = logged_in_api_client.get(f"/api/tracks/{track['id']}/stream")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(data))
    assert _body(response) == data


@pytest.mark.parametrize("header, start, stop", [
    ("bytes=0-99", 0, 100),  # the first bytes
    ("bytes=1000-1999", 1000, 2000),  # the middle
    ("bytes=-500", -500, None),  # the last 500 (suffix)
    ("bytes=2000-", 2000, None),  # from an offset to the end
])
def test_stream_ranges(uploaded, logged_in_api_client, header, start, stop):
    track, data = uploaded
    response = logged_in_api_client.get(f"/api/tracks/{track['id']}/stream", HTTP_RANGE=header)
    assert response.status_code == 206
    part = data[start:stop]
    first = start if start >= 0 else len(data) + start
    assert response["Content-Range"] == f"bytes {first}-{first + len(part) - 1}/{len(data)}"
    assert response["Content-Length"] == str(len(part))
    assert _body(response) == part


def test_stream_unsatisfiable_range_is_416(uploaded, logged_in_api_client):
    track, data = uploaded
    response = logged_in_api_client.get(f"/api/tracks/{track['id']}/stream",
                                        HTTP_RANGE=f"bytes={len(data) + 10}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(data)}"
    assert response.json()["error"]["code"] == "range_not_satisfiable"


@pytest.mark.parametrize("header", ["bytes=abc", "lines=0-10", "bytes=0-1,5-9"])
def test_stream_malformed_or_multiple_ranges_send_the_whole_file(uploaded, logged_in_api_client,
                                                                  header):
    track, data = uploaded
    response = logged_in_api_client.get(f"/api/tracks/{track['id']}/stream", HTTP_RANGE=header)
    assert response.status_code == 200 and _body(response) == data


def test_stream_if_range_with_another_version_sends_the_whole_file(uploaded,
                                                                    logged_in_api_client):
    track, data = uploaded
    url = f"/api/tracks/{track['id']}/stream"
    etag = logged_in_api_client.get(url)["ETag"]
    same = logged_in_api_client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    other = logged_in_api_client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')
    assert (same.status_code, other.status_code) == (206, 200)
    assert logged_in_api_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_stream_needs_sign_in_and_answers_404_without_audio(uploaded, logged_in_api_client):
    track, _ = uploaded
    assert APIClient().get(f"/api/tracks/{track['id']}/stream").status_code == 401
    silent = Track.objects.create(external_id="x", title="t", artist="a")
    for tid in (silent.pk, "not-a-uuid"):
        response = logged_in_api_client.get(f"/api/tracks/{tid}/stream")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_stream_through_nginx_sends_only_the_redirect(settings, uploaded, logged_in_api_client):
    track, _ = uploaded
    settings.AUDIO_ACCEL_PREFIX = "/_audio"
    response = logged_in_api_client.get(f"/api/tracks/{track['id']}/stream",
                                        HTTP_RANGE="bytes=0-9")
    stored = AudioFile.objects.get()
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == "/_audio" + stored.path
    assert response["Content-Type"] == "audio/mpeg"
    assert "Accept-Ranges" not in response  # nginx adds its own


def test_stream_of_a_file_removed_from_disk_is_404_not_500(uploaded, logged_in_api_client):
    track, _ = uploaded
    AudioFile.objects.get().path_obj.unlink()
    response = logged_in_api_client.get(f"/api/tracks/{track['id']}/stream")
    assert response.status_code == 404 and "missing" in response.json()["error"]["message"]


def test_covers_in_two_sizes(uploaded):
    track, _ = uploaded
    client = APIClient()  # covers are as public as the catalog
    small = client.get(f"/api/tracks/{track['id']}/cover?size=small")
    large = client.get(f"/api/tracks/{track['id']}/cover?size=large")
    assert small.status_code == large.status_code == 200
    assert small["Content-Type"] == "image/jpeg"
    from io import BytesIO

    from PIL import Image

    sizes = [Image.open(BytesIO(_body(r))).size for r in (small, large)]
    assert sizes == [(files.COVER_SIZES["small"],) * 2, (files.COVER_SIZES["large"],) * 2]
    bad = client.get(f"/api/tracks/{track['id']}/cover?size=huge")
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["size"]
    silent = Track.objects.create(external_id="x", title="t", artist="a")
    assert client.get(f"/api/tracks/{silent.pk}/cover").status_code == 404


def test_tracks_on_the_wire_say_whether_they_can_be_played(uploaded, logged_in_api_client):
    track, _ = uploaded
    Track.objects.create(external_id="x", title="Silent", artist="a")
    listed = {t["title"]: t for t in logged_in_api_client.get("/api/tracks").json()["results"]}
    assert listed["Harbor Lights"]["hasAudio"] is True
    assert listed["Silent"]["hasAudio"] is False and listed["Silent"]["analysis"] == "none"
    detail = logged_in_api_client.get(f"/api/tracks/{track['id']}").json()
    assert detail["hasCover"] is True and detail["analysis"] == "pending"


def test_catalog_can_list_only_playable_tracks(uploaded, logged_in_api_client):
    track, _ = uploaded
    Track.objects.create(external_id="x", title="Silent", artist="a")
    everything = logged_in_api_client.get("/api/tracks").json()
    playable = logged_in_api_client.get("/api/tracks?playable=true").json()
    assert everything["count"] == 2
    assert [t["id"] for t in playable["results"]] == [track["id"]]
    bad = logged_in_api_client.get("/api/tracks?playable=maybe")
    assert bad.status_code == 400 and "playable" in bad.json()["error"]["fields"]


def test_uploads_are_in_the_account_export(uploaded, logged_in_api_client):
    import io
    import json
    import zipfile

    track, data = uploaded
    export = logged_in_api_client.get("/api/users/me/export")
    files = zipfile.ZipFile(io.BytesIO(export.content))
    uploads = json.loads(files.read("uploads.json"))
    assert [(u["track"]["id"], u["bytes"]) for u in uploads] == [(track["id"], len(data))]
    assert "uploads.json" in files.read("README.txt").decode()
