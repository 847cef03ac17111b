"""Matching listens to catalog tracks: the normalisation rule and the lookup order."""
import pytest

from listening.services.listens import Heard
from listening.services.matching import tracks_resolve
from playlists.matching import match_key
from playlists.models import Track
from tests.factories import TrackFactory


@pytest.mark.parametrize(("artist", "title", "catalog_artist", "catalog_title"), [
    ("beyoncé", "HALO", "Beyonce", "Halo"),                              # case and accents
    ("Sigur Rós", "Hoppípolla", "Sigur Ros", "Hoppipolla"),
    ("Drake feat. Rihanna", "Take Care", "Drake", "Take Care"),          # featured artist
    ("Drake", "Take Care (feat. Rihanna)", "Drake", "Take Care"),
    ("Drake, Rihanna", "Take Care", "Drake", "Take Care"),
    ("The Beatles", "Let It Be - Remastered 2009", "The Beatles", "Let It Be"),
    ("The Beatles", "Let It Be (Remastered 2009)", "The Beatles", "Let It Be"),
    ("Queen", "Bohemian Rhapsody - 2011 Mix", "Queen", "Bohemian Rhapsody"),
    ("Simon & Garfunkel", "The Boxer [Live at Central Park]", "Simon and Garfunkel",
     "The Boxer"),
    ("AC/DC", "Back In Black - Live", "AC-DC", "Back in Black"),
])
def test_spellings_of_one_recording_share_a_key(artist, title, catalog_artist, catalog_title):
    assert match_key(artist, title) == match_key(catalog_artist, catalog_title)


@pytest.mark.parametrize(("one", "other"), [
    (("Sam Smith", "Stay With Me"), ("Sam Smith", "Stay")),        # "with" is part of a title
    (("Taylor Swift", "Anti-Hero"), ("Taylor Swift", "Hero")),
    (("Muse", "Defeat"), ("Muse", "De")),                          # "feat" inside a word
    (("Prince", "1999"), ("Prince", "1998")),
])
def test_different_recordings_keep_different_keys(one, other):
    assert match_key(*one) != match_key(*other)


def _heard(artist, title, **extra) -> Heard:
    from datetime import UTC, datetime
    return Heard(line=1, artist=artist, title=title,
                 listened_at=datetime(2024, 1, 1, tzinfo=UTC), **extra)


@pytest.mark.django_db
def test_lookup_prefers_spotify_id_then_mbid_then_key_and_creates_the_rest():
    by_id = TrackFactory(external_id="4JehYebiI9JE8sR8MGiUAo", artist="Someone Else",
                         title="Renamed")
    by_mbid = TrackFactory(external_id="mbid:8f9a8b2c-1111-4c0e-9c1d-2f3e4a5b6c7d",
                           artist="Radiohead", title="Airbag", metadata={"source": "listen"})
    by_key = TrackFactory(external_id="cat-1", artist="Beyonce", title="Halo")
    heard = [
        _heard("Beyoncé", "Halo", spotify_id="4JehYebiI9JE8sR8MGiUAo"),
        _heard("Radiohead", "Airbag", mbid="8f9a8b2c-1111-4c0e-9c1d-2f3e4a5b6c7d"),
        _heard("BEYONCÉ", "Halo - Remastered"),
        _heard("Nobody Known", "Unheard Song", album="Demos"),
        _heard("nobody known", "Unheard Song (feat. Guest)"),
    ]
    resolved, created = tracks_resolve(heard)
    assert [r.track_id for r in resolved[:3]] == [by_id.pk, by_mbid.pk, by_key.pk]
    assert [r.in_catalog for r in resolved] == [True, False, True, False, False]
    assert created == 1 and resolved[3].track_id == resolved[4].track_id
    made = Track.objects.get(pk=resolved[3].track_id)
    assert made.metadata == {"source": "listen"} and made.album == "Demos"
    assert made.match_key == match_key("Nobody Known", "Unheard Song")
    # Nothing new the second time: the made track is found by its key.
    again, created_again = tracks_resolve(heard[3:])
    assert created_again == 0 and again[0].track_id == made.pk
