import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from playlists.models import Track
from recommendations.models import Interaction
from recommendations.services import imports
from tests.factories import TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


def _hetrec(tmp_path, rows):
    (tmp_path / "artists.dat").write_text(
        "id\tname\turl\tpictureURL\r\n1\tMALICE MIZER\thttp://x\thttp://y\r\n2\tDiary\tu\tp\r\n",
        encoding="utf-8",
    )
    path = tmp_path / "user_artists.dat"
    path.write_text("userID\tartistID\tweight\r\n" + "".join(r + "\r\n" for r in rows))
    return path


def test_hetrec_import_creates_users_artist_tracks_and_plays(tmp_path):
    path = _hetrec(tmp_path, ["2\t1\t13883", "2\t2\t11690", "3\t1\t5", "x\t1\t3"])
    result = imports.interactions_import(path=path)
    assert (result.created, result.users_created, result.tracks_created) == (3, 2, 2)
    assert [(r.line, r.reason) for r in result.rejected] == [
        (5, "expected userID, artistID, weight as integers")
    ]
    track = Track.objects.get(external_id="lastfm-artist-1")
    assert track.title == track.artist == "MALICE MIZER"
    play = Interaction.objects.get(user__username="lastfm_2", track=track)
    assert play.type == "play" and play.context["play_count"] == 13883
    assert not get_user_model().objects.get(username="lastfm_2").has_usable_password()


def test_hetrec_import_twice_creates_nothing_new(tmp_path):
    path = _hetrec(tmp_path, ["2\t1\t13883", "3\t2\t7"])
    imports.interactions_import(path=path)
    again = imports.interactions_import(path=path)
    assert (again.created, again.users_created, again.tracks_created) == (0, 0, 0)
    assert Interaction.objects.count() == 2


def test_csv_import_rejects_bad_rows_and_keeps_good_ones(tmp_path, capsys):
    TrackFactory(external_id="sp-1")
    UserFactory(username="alice")
    path = tmp_path / "events.csv"
    path.write_text(
        "user,track_external_id,type,timestamp\n"
        "alice,sp-1,like,2024-05-01T10:00:00Z\n"
        "bob,sp-1,play,1714557600\n"
        "bob,sp-404,play,\n"
        "x,sp-1,play,\n"
        "carol,sp-1,love,\n"
        "carol,sp-1,skip,yesterday\n"
    )
    call_command("import_interactions", str(path))
    out, err = capsys.readouterr()
    assert "created 2 interactions, 1 users" in out
    for line, reason in [
        (4, "unknown track 'sp-404'"),
        (5, "user must be"),
        (6, "type must be one of"),
        (7, "timestamp is neither"),
    ]:
        assert f"events.csv:{line}: skipped: {reason}" in err
    like = Interaction.objects.get(user__username="alice")
    assert like.type == "like" and like.created_at.isoformat() == "2024-05-01T10:00:00+00:00"
    call_command("import_interactions", str(path))
    assert Interaction.objects.count() == 2
