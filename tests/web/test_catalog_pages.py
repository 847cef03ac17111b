"""The catalog page renders the search in its URL; artist, album and track pages link up."""
import re

import pytest
from django.test import Client

from playlists import search
from tests.factories import TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


def track(title, artist, album="", popularity=50, **kwargs):
    return TrackFactory(title=title, artist=artist, album=album,
                        metadata={"popularity": popularity}, **kwargs)


def result_titles(html: str) -> list[str]:
    return re.findall(r'class="track-title">([^<]+)</a>', html)


def test_the_search_in_the_url_is_rendered_with_its_page_and_pager():
    for n in range(25):
        track(f"Harbor Song {n:02d}", "Dock Band", popularity=n)
    track("Elsewhere", "Other Band")
    page1 = Client().get("/catalog", {"q": "harbor"}).content.decode()
    assert result_titles(page1)[:2] == ["Harbor Song 24", "Harbor Song 23"]
    assert "25 tracks match “harbor”" in page1
    assert 'value="harbor"' in page1
    assert 'href="/catalog?q=harbor&amp;page=2" rel="next"' in page1
    page2 = Client().get("/catalog", {"q": "harbor", "page": "2"}).content.decode()
    assert result_titles(page2) == [f"Harbor Song {n:02d}" for n in range(4, -1, -1)]
    assert 'href="/catalog?q=harbor" rel="prev"' in page2
    assert "21–25 of 25" in page2
    # A page that is not there shows the first one rather than failing.
    assert result_titles(Client().get("/catalog?q=harbor&page=abc").content.decode()) == \
        result_titles(page1)


def test_a_capped_count_says_so_and_the_pager_goes_on(monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    for n in range(25):
        track(f"Ember {n}", "Fire Band", popularity=n)
    page1 = Client().get("/catalog", {"q": "ember"}).content.decode()
    assert "5+ tracks match “ember”" in page1
    assert "1–20</p>" in page1 and 'href="/catalog?q=ember&amp;page=2" rel="next"' in page1
    page2 = Client().get("/catalog", {"q": "ember", "page": "2"}).content.decode()
    assert result_titles(page2) == [f"Ember {n}" for n in range(4, -1, -1)]
    assert "21–25</p>" in page2 and 'rel="next"' not in page2


def test_results_fragment_for_search_as_you_type():
    track("Lantern Light", "Glow Band")
    body = Client().get("/catalog/results", {"q": "lantern"}).content.decode()
    assert body.lstrip().startswith('<div id="results-body" data-summary="1 track matches')
    assert "<html" not in body and result_titles(body) == ["Lantern Light"]


def test_empty_states_say_what_to_do():
    track("Song", "Band", genre="rock")
    none = Client().get("/catalog", {"q": "zqxw", "genre": "rock"}).content.decode()
    assert "No tracks match “zqxw” with these filters" in none
    assert 'href="/catalog?q=zqxw"' in none  # the same search without the filters
    assert "Check the spelling" in none
    playable = Client().get("/catalog", {"playable": "true"}).content.decode()
    assert "has audio on this server yet" in playable


def test_an_empty_catalog_says_how_to_fill_it():
    staff = UserFactory(is_staff=True)
    client = Client()
    client.force_login(staff)
    html = client.get("/catalog").content.decode()
    assert "The catalog is empty" in html and "import_tracks" in html


def test_a_typo_shows_close_matches_and_the_artist():
    track("Creep", "Radiohead", album="Pablo Honey")
    html = Client().get("/catalog", {"q": "radiohed"}).content.decode()
    assert "closest matches" in html and result_titles(html) == ["Creep"]
    assert '<a class="chip chip-link" href="/artists/radiohead">Radiohead</a>' in html


def test_rows_and_track_page_link_artist_and_album_pages():
    t = track("Creep", "Radiohead", album="Pablo Honey")
    catalog = Client().get("/catalog", {"q": "creep"}).content.decode()
    assert 'href="/artists/radiohead">Radiohead</a>' in catalog
    assert 'href="/albums/radiohead/pablo-honey" class="track-album">Pablo Honey</a>' in catalog
    user = UserFactory()
    client = Client()
    client.force_login(user)
    page = client.get(f"/tracks/{t.pk}").content.decode()
    assert 'href="/artists/radiohead">Radiohead</a>' in page
    assert 'href="/albums/radiohead/pablo-honey">Pablo Honey</a>' in page
    assert 'id="new-playlist-form"' in page and 'id="new-playlist-name"' in page


def test_artist_and_album_pages_render_and_unknown_ones_are_404():
    track("Creep", "Radiohead", album="Pablo Honey", has_cover=True)
    track("Karma Police", "Radiohead", album="OK Computer")
    artist = Client().get("/artists/radiohead")
    assert artist.status_code == 200
    html = artist.content.decode()
    assert "<h1>Radiohead</h1>" in html and "Popular tracks" in html
    assert 'href="/albums/radiohead/ok-computer"' in html
    assert Client().get("/artists/Radiohead").status_code == 200  # a name as written
    album = Client().get("/albums/radiohead/pablo-honey").content.decode()
    assert "<h1>Pablo Honey</h1>" in album and "/cover?size=large" in album
    missing = Client().get("/artists/nobody-at-all")
    assert missing.status_code == 404
    assert "Search the catalog for “nobody-at-all”" in missing.content.decode()
    assert Client().get("/albums/radiohead/kid-a").status_code == 404
