"""History imports: each format's rows become listens, skips, ignored or rejected rows; a second
import adds nothing; a failure stores nothing; listens become interactions."""
import io
import json
import zipfile

import pytest
from django.db import DatabaseError

from listening import services
from listening.models import Listen, ListenImport
from listening.signals import listens_recorded
from playlists.models import Track
from recommendations.models import Interaction
from tests.factories import UserFactory
from tests.listening.conftest import FIXTURES, run_import

pytestmark = pytest.mark.django_db


def _kinds(user) -> dict[str, str]:
    return {f"{lis.track.artist}|{lis.track.title}": lis.kind
            for lis in Listen.objects.filter(user=user).select_related("track")}


def test_spotify_history_counts_plays_skips_and_ignores_podcasts(user, catalog):
    job = run_import(user, "spotify", "Streaming_History_Audio_2023.json")
    assert job.status == "done", job.error
    assert (job.rows, job.listens, job.skips, job.ignored) == (10, 3, 1, 3)
    assert (job.matched, job.created, job.rejected_total) == (3, 1, 3)
    assert [r["line"] for r in job.rejected] == [7, 8, 10]
    assert "unreadable timestamp" in job.rejected[0]["reason"]
    assert _kinds(user) == {"Beyonce|Halo": "play", "The Beatles|Let It Be": "skip",
                            "Sigur Ros|Hoppípolla": "play",
                            "Basement Tapes|Unknown Pleasures Demo": "play"}
    halo = Listen.objects.get(user=user, track=catalog["halo"])
    # `ts` is when the stream ended: the listen began ms_played earlier.
    assert halo.listened_at.isoformat() == "2023-03-05T21:08:02+00:00"
    assert (halo.ms_played, halo.source, halo.client) == (215_000, "spotify", "android")
    made = Track.objects.get(external_id="5ZzZzZzZzZzZzZzZzZzZzZ")
    assert made.metadata["source"] == "listen"
    # Every listen and skip is an interaction the model learns from.
    kinds = sorted(Interaction.objects.filter(user=user).values_list("type", flat=True))
    assert kinds == ["play", "play", "play", "skip"]


def test_the_same_file_twice_adds_nothing(user, catalog):
    first = run_import(user, "spotify", "Streaming_History_Audio_2023.json")
    second = run_import(user, "spotify", "Streaming_History_Audio_2023.json")
    assert (first.listens, first.skips) == (3, 1)
    assert (second.listens, second.skips, second.duplicates, second.created) == (0, 0, 4, 0)
    assert Listen.objects.filter(user=user).count() == 4
    assert Interaction.objects.filter(user=user).count() == 4
    assert second.file_sha256 == first.file_sha256


def test_lastfm_csv_with_header_and_without(user, catalog):
    job = run_import(user, "lastfm", "lastfm_scrobbles.csv")
    assert (job.rows, job.listens, job.duplicates, job.rejected_total) == (7, 3, 1, 3)
    # Matched: Halo (twice: the repeat is counted as a duplicate) and Let It Be, of 4.
    assert (job.matched, job.created) == (3, 1)
    reasons = {r["line"]: r["reason"] for r in job.rejected}
    assert set(reasons) == {5, 6, 7}
    assert "future" in reasons[7]
    assert Track.objects.filter(external_id="mbid:8f9a8b2c-1111-4c0e-9c1d-2f3e4a5b6c7d").exists()
    plain = run_import(user, "lastfm", "lastfm_plain.csv")
    # Beyoncé/Halo at 21:11:00 is a new minute; Drake feat. Rihanna matches "Drake".
    assert (plain.rows, plain.listens, plain.matched, plain.rejected_total) == (3, 2, 2, 1)
    assert plain.rejected[0]["line"] == 3


def test_listenbrainz_jsonl_and_zip_exports(user, catalog, tmp_path):
    lastfm = run_import(user, "lastfm", "lastfm_scrobbles.csv")  # makes the Airbag MBID track
    job = run_import(user, "listenbrainz", "listenbrainz_export.jsonl")
    assert (job.rows, job.listens, job.rejected_total) == (7, 1, 4)
    # Halo and Airbag at these times came with the Last.fm file already: stored once.
    assert job.duplicates == 2 and lastfm.listens == 3
    assert {r["line"] for r in job.rejected} == {4, 5, 6, 7}
    # Airbag matched the track the Last.fm file's MBID made, rather than making another.
    assert Track.objects.filter(title="Airbag").count() == 1
    daft = Listen.objects.get(user=user, track__artist="Daft Punk")
    assert daft.track.external_id == "0DiWol3AO6WpXZgp0goxAV" and daft.client == "Web Scrobbler"
    # The export ZIP ListenBrainz hands out: listens/YYYY/M.jsonl members.
    other = UserFactory()
    archive = tmp_path / "listenbrainz_export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("user.json", json.dumps({"user_name": "someone"}))
        z.writestr("listens/2023/3.jsonl", (FIXTURES / "listenbrainz_export.jsonl").read_text())
    zipped = services.listen_import_run(import_id=str(services.listen_import_from_path(
        user=other, fmt="listenbrainz", path=archive).pk))
    assert (zipped.rows, zipped.listens, zipped.rejected_total) == (7, 3, 4)


def test_a_file_of_the_wrong_format_fails_with_a_reason_and_stores_nothing(user, catalog):
    job = run_import(user, "spotify", "lastfm_scrobbles.csv")
    assert job.status == "failed" and "Streaming_History_Audio" in job.error
    assert not Listen.objects.filter(user=user).exists()


def test_a_failure_midway_leaves_nothing_half_imported(user, catalog):
    def broken(**kwargs):
        raise DatabaseError("disk full")

    listens_recorded.connect(broken, dispatch_uid="test-broken")
    try:
        job = run_import(user, "spotify", "Streaming_History_Audio_2023.json")
    finally:
        listens_recorded.disconnect(dispatch_uid="test-broken")
    assert job.status == "failed" and "stored nothing" in job.error
    assert not Listen.objects.filter(user=user).exists()
    assert not Interaction.objects.filter(user=user).exists()
    assert not Track.objects.filter(external_id="5ZzZzZzZzZzZzZzZzZzZzZ").exists()


def test_upload_through_the_api_runs_the_import(logged_in_api_client, catalog, eager_celery,
                                                django_capture_on_commit_callbacks):
    upload = io.BytesIO((FIXTURES / "Streaming_History_Audio_2023.json").read_bytes())
    upload.name = "Streaming_History_Audio_2023.json"
    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in_api_client.post("/api/imports", {"file": upload, "format": "spotify"},
                                      format="multipart")
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["status"] == "pending" and body["fileName"] == upload.name
    done = logged_in_api_client.get(f"/api/imports/{body['id']}").json()
    assert (done["status"], done["listens"], done["skips"], done["matched"]) == ("done", 3, 1, 3)
    assert done["rejected"][0] == {"line": 7, "reason": done["rejected"][0]["reason"]}
    assert logged_in_api_client.get("/api/imports").json()[0]["id"] == body["id"]
    listens = logged_in_api_client.get("/api/users/me/listens").json()
    assert listens["count"] == 4
    first = listens["results"][0]
    assert first["track"]["title"] == "Unknown Pleasures Demo" and first["source"] == "spotify"
    # The uploaded file is kept only until it is imported.
    assert ListenImport.objects.get(pk=body["id"]).content is None


def test_imports_and_listens_are_private(api_client, catalog):
    owner, other = UserFactory(), UserFactory()
    job = run_import(owner, "spotify", "Streaming_History_Audio_2023.json")
    api_client.force_authenticate(other)
    assert api_client.get(f"/api/imports/{job.pk}").status_code == 404
    assert api_client.get("/api/imports").json() == []
    assert api_client.get("/api/users/me/listens").json()["count"] == 0
    api_client.force_authenticate(None)
    assert api_client.get("/api/users/me/listens").status_code == 401
    owner.delete()  # the account goes, its listens and imports with it
    assert not Listen.objects.exists() and not ListenImport.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"format": "spotify"}, "file"),
    ({"format": "winamp", "file": b"[]"}, "format"),
])
def test_bad_uploads_get_the_error_envelope(logged_in_api_client, body, field):
    if "file" in body:
        body = {**body, "file": io.BytesIO(body["file"])}
        body["file"].name = "x.json"
    r = logged_in_api_client.post("/api/imports", body, format="multipart")
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]
    json_body = logged_in_api_client.post("/api/imports", {"format": "spotify"}, format="json")
    assert json_body.status_code == 415
