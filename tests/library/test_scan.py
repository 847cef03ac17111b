"""Library scans: tags into tracks, dedupe by content, updates, matching the catalog, bad files
and paths that leave the folder (issue 15, item 1)."""
from __future__ import annotations

import os
import shutil

import pytest
from django.core.management import call_command

from library.models import AudioFile, LibraryScan
from library.services import files, scan
from playlists.models import Track

from .audio_files import make_audio

pytestmark = pytest.mark.django_db


def _scan(root) -> LibraryScan:
    job = scan.library_scan_create(root=str(root))
    return scan.library_scan_run(scan_id=str(job.pk))


@pytest.mark.parametrize("suffix", [".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav"])
def test_scan_imports_each_format_with_tags_and_cover(tmp_path, media, no_analysis, suffix):
    make_audio(tmp_path / "music" / f"song{suffix}",
               musicbrainz_trackid="8f3471b5-7e6a-48da-86a9-c1c07a0f47ae")
    job = _scan(tmp_path / "music")
    assert (job.files, job.created, job.rejected_total) == (1, 1, 0)
    track = Track.objects.get()
    assert (track.title, track.artist, track.album, track.genre) == (
        "Harbor Lights", "Copper Hollow", "Rust", "rock")
    assert track.metadata["source"] == "library"
    assert track.metadata["release_year"] == 2016 and track.metadata["track_number"] == 3
    assert track.metadata["external_ids"]["musicbrainz_recording"] == (
        "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae")
    assert abs(track.duration_ms - 4000) < 200
    assert track.has_audio and track.has_cover and track.analysis == "pending"
    assert files.cover_path(track.pk, "small").stat().st_size > 0
    assert no_analysis.call_count == 0  # the task is sent on commit, which a test does not reach


def test_rescan_of_the_same_files_imports_nothing_twice(tmp_path, media, no_analysis):
    root = tmp_path / "music"
    make_audio(root / "a.flac")
    shutil.copy(root / "a.flac", root / "copy of a.flac")  # same bytes, another name
    first = _scan(root)
    assert (first.created, first.unchanged) == (1, 1)
    second = _scan(root)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert Track.objects.count() == AudioFile.objects.count() == 1


def test_changed_file_updates_its_track(tmp_path, media, no_analysis):
    root = tmp_path / "music"
    make_audio(root / "a.mp3", title="First Title")
    _scan(root)
    track = Track.objects.get()
    track.features = {"tempo": 99.0}
    track.save()
    make_audio(root / "a.mp3", title="Fixed Title", seconds=5.0, seed=2)
    job = _scan(root)
    assert (job.updated, job.created) == (1, 0)
    track.refresh_from_db()
    assert track.title == "Fixed Title" and abs(track.duration_ms - 5000) < 200
    assert track.features == {} and track.analysis == "pending"  # analysed again
    assert Track.objects.count() == 1


def test_file_of_a_catalog_recording_attaches_to_that_track(tmp_path, media, no_analysis):
    by_name = Track.objects.create(external_id="sp:1", title="Harbor Lights (Remastered 2011)",
                                   artist="Copper Hollow", duration_ms=5000,
                                   features={"valence": 0.3}, metadata={"source": "catalog"})
    by_mbid = Track.objects.create(external_id="mbid:8f3471b5-7e6a-48da-86a9-c1c07a0f47ae",
                                   title="Other", artist="Someone", duration_ms=1000)
    too_long = Track.objects.create(external_id="sp:2", title="Lantern", artist="Copper Hollow",
                                    duration_ms=9000)
    root = tmp_path / "music"
    make_audio(root / "1.mp3", seconds=4.0)  # 1 s from the catalog's 5 s: the same recording
    make_audio(root / "2.ogg", title="x",
               musicbrainz_trackid="8F3471B5-7E6A-48DA-86A9-C1C07A0F47AE")
    make_audio(root / "3.flac", title="Lantern", seconds=4.0)  # 5 s off: another recording
    job = _scan(root)
    assert (job.attached, job.created) == (2, 1)
    by_name.refresh_from_db()
    by_mbid.refresh_from_db()
    too_long.refresh_from_db()
    assert by_name.has_audio and by_name.title == "Harbor Lights (Remastered 2011)"
    assert by_name.features == {"valence": 0.3}  # the catalog's data stays
    assert by_mbid.has_audio
    assert not too_long.has_audio
    assert Track.objects.filter(title="Lantern", metadata__source="library").exists()


def test_bad_files_are_reported_and_skipped_without_touching_what_is_stored(
        tmp_path, media, no_analysis):
    root = tmp_path / "music"
    make_audio(root / "good.mp3")
    _scan(root)
    stored = Track.objects.get()
    (root / "notes.mp3").write_text("this is not audio at all\n" * 50)
    make_audio(root / "cut.flac")
    data = (root / "cut.flac").read_bytes()
    (root / "cut.flac").write_bytes(data[: len(data) // 3])
    (root / "empty.ogg").write_bytes(b"")
    (root / "cover.jpg").write_bytes(b"\xff\xd8 not scanned")
    job = _scan(root)
    rejected = {r["path"]: r["reason"] for r in job.rejected}
    assert set(rejected) == {"notes.mp3", "cut.flac", "empty.ogg"}
    assert all(reason for reason in rejected.values())
    assert (job.unchanged, job.ignored, job.created) == (1, 1, 0)
    assert list(Track.objects.all()) == [stored]


def test_scan_never_leaves_its_folder(tmp_path, media, no_analysis):
    root = tmp_path / "music"
    outside = tmp_path / "elsewhere"
    make_audio(outside / "private.mp3")
    make_audio(root / "inside.mp3", title="Inside")
    os.symlink(outside / "private.mp3", root / "link-out.mp3")
    os.symlink(outside, root / "dir-link")  # a symlinked folder is not followed
    os.symlink(root / "inside.mp3", root / "alias.mp3")  # a link inside the folder is fine
    job = _scan(root)
    assert [r["path"] for r in job.rejected] == ["link-out.mp3"]
    assert "outside" in job.rejected[0]["reason"]
    assert list(Track.objects.values_list("title", flat=True)) == ["Inside"]
    assert not AudioFile.objects.filter(path__startswith=str(outside)).exists()
    # A root given with ".." is resolved first; it is still only that folder that is read.
    job = _scan(root / ".." / "music")
    assert job.root == str(root.resolve()) and job.created == 0


def test_files_gone_from_the_folder_lose_their_audio_not_their_track(tmp_path, media,
                                                                      no_analysis):
    root = tmp_path / "music"
    make_audio(root / "a.mp3")
    _scan(root)
    (root / "a.mp3").unlink()
    job = _scan(root)
    assert job.missing == 1
    track = Track.objects.get()
    assert not track.has_audio and not AudioFile.objects.exists()


def test_scan_library_command_reports_what_it_did(tmp_path, media, no_analysis, capsys):
    root = tmp_path / "music"
    make_audio(root / "a.wav")
    (root / "b.mp3").write_text("nope")
    call_command("scan_library", str(root))
    out, err = capsys.readouterr()
    assert "2 audio files: 1 new tracks" in out and "1 skipped" in out
    assert "b.mp3: skipped:" in err


def test_scan_library_command_refuses_a_missing_folder(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a folder"):
        call_command("scan_library", str(tmp_path / "nowhere"))


def test_the_same_bytes_arriving_twice_at_once_store_one_track(tmp_path, media, no_analysis):
    """Two imports of the same bytes racing (two uploads, or a scan and an upload): the one
    that looked before the other stored them gets the other's row, not an error."""
    from unittest import mock

    root = tmp_path / "music"
    path = make_audio(root / "a.mp3")
    shutil.copy(path, root / "b.mp3")
    first = files.audio_file_import(path=path, origin="scan", root=str(root))
    looked = mock.patch.object(files, "stored_with", side_effect=[None, files.stored_with(
        files.content_hash(path))])
    with looked:
        second = files.audio_file_import(path=root / "b.mp3", origin="scan", root=str(root))
    assert second.outcome == "unchanged" and second.track.pk == first.track.pk
    assert Track.objects.count() == AudioFile.objects.count() == 1
