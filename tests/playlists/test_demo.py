import pytest
from django.core.management import call_command

from playlists.models import Collaborator, Playlist, Track
from playlists.services import demo
from recommendations.models import Interaction


def test_demo_tracks_are_deterministic_for_a_seed_and_chunking():
    whole = demo.demo_tracks(count=40, seed=3)
    assert whole == demo.demo_tracks(count=40, seed=3)
    assert demo.demo_tracks(count=20, seed=3, start=20)[0]["artist"] == whole[20]["artist"]
    assert whole != demo.demo_tracks(count=40, seed=4)


def test_demo_features_follow_their_genre():
    tracks = demo.demo_tracks(count=4000, seed=1)

    def mean(genre, feature):
        values = [t["features"][feature] for t in tracks if t["genre"] == genre]
        return sum(values) / len(values)

    assert mean("classical", "acousticness") > mean("edm", "acousticness") + 0.5
    assert mean("rap", "speechiness") > mean("classical", "speechiness") + 0.15
    artists = {}
    for t in tracks:
        artists.setdefault(t["artist"], set()).add(t["genre"])
    assert len(artists) < len(tracks) / 4  # artists have several tracks
    assert all(len(g) == 1 for g in artists.values())


@pytest.mark.django_db
def test_seed_demo_command_creates_catalog_listeners_and_playlists(capsys):
    call_command("seed_demo", "--tracks", "300", "--users", "4", "--seed", "5")
    assert Track.objects.count() == 300
    assert Interaction.objects.filter(user__username="demo1").exists()
    assert Playlist.objects.filter(owner__username="demo1", entries__isnull=False).exists()
    assert Collaborator.objects.filter(playlist__is_collaborative=True).count() == 2
    call_command("seed_demo", "--tracks", "300", "--users", "4", "--seed", "5")
    assert Track.objects.count() == 300
    call_command("seed_demo", "--if-empty")
    assert "catalog not empty" in capsys.readouterr().out
