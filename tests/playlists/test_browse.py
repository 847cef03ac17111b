"""Artist and album pages (playlists/browse.py): grouping by normalised names, album order."""
import pytest
from django.http import Http404

from playlists import browse
from tests.factories import TrackFactory

pytestmark = pytest.mark.django_db


def track(title, artist, album="", popularity=50, **meta):
    return TrackFactory(title=title, artist=artist, album=album,
                        metadata={"popularity": popularity, **meta})


def test_slugs_drop_case_accents_punctuation_and_featured_artists():
    assert browse.artist_slug("Beyoncé feat. Jay-Z") == "beyonce"
    assert browse.artist_slug("AC/DC") == "ac-dc"
    assert browse.album_slug("Rust & Rivets") == "rust-and-rivets"
    assert browse.artist_slug("坂本龍一") == "坂本龍一"  # nothing Latin to normalise: as written


def test_an_artist_page_gathers_every_spelling_and_their_albums():
    track("Halo", "Beyoncé", "I Am", popularity=90, release_year=2008)
    track("Single Ladies", "Beyonce", "I Am", popularity=80, release_year=2008)
    track("Drunk in Love", "Beyoncé feat. Jay-Z", "Beyoncé", popularity=85, release_year=2013)
    track("Loose One", "Beyoncé", popularity=10)
    track("Other", "Someone Else", "I Am")
    for name in ("beyonce", "Beyoncé", "BEYONCE"):
        artist = browse.artist_get(name=name)
        assert artist.name == "Beyoncé" and artist.slug == "beyonce"
        assert artist.track_count == 4
        assert [t.title for t in artist.top_tracks] == ["Halo", "Drunk in Love",
                                                         "Single Ladies", "Loose One"]
        assert [(a.name, a.year, len(a.tracks)) for a in artist.albums] == [
            ("Beyoncé", 2013, 1), ("I Am", 2008, 2)]
        assert [t.title for t in artist.loose_tracks] == ["Loose One"]


def test_an_album_lists_its_tracks_by_disc_and_number_then_by_title():
    for title, number, disc in (("Three", 3, 1), ("One", 1, 1), ("Two", 2, 1), ("B-side", None,
                                                                               None),
                                ("Disc Two Opener", 1, 2)):
        meta = {"track_number": number, "disc_number": disc} if number else {}
        track(title, "Copper Hollow", "Rust & Rivets", **meta)
    album = browse.album_get(artist="copper-hollow", album="rust-and-rivets")
    assert [t.title for t in album.tracks] == ["One", "Two", "Three", "Disc Two Opener", "B-side"]
    assert album.name == "Rust & Rivets" and album.artist_name == "Copper Hollow"
    assert browse.album_get(artist="Copper Hollow", album="Rust & Rivets").tracks == album.tracks


def test_unknown_artists_and_albums_are_404():
    track("Song", "Known")
    for call in (lambda: browse.artist_get(name="unknown"),
                 lambda: browse.album_get(artist="known", album="nothing"),
                 lambda: browse.album_get(artist="known", album="")):
        with pytest.raises(Http404):
            call()
