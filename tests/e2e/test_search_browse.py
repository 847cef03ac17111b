"""Search kept in the URL (Back returns to the results), typo tolerance and empty states, artist
and album pages, and a new playlist made from the track page."""
import json
import re
import uuid

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, call_api, db_rows, shot

pytestmark = pytest.mark.e2e


def both_sizes(page, name: str) -> None:
    size = page.viewport_size
    shot(page, name)
    page.set_viewport_size(PHONE if size == DESKTOP else DESKTOP)
    shot(page, name)
    page.set_viewport_size(size)


def results(page):
    return page.get_by_role("list", name="Search results").locator(".track-title")


def test_back_from_a_track_returns_to_the_same_page_of_results(open_page, new_listener):
    page = open_page(DESKTOP)
    new_listener(page)
    page.goto("/catalog")
    page.get_by_label("Search tracks").press_sequentially("e", delay=30)
    page.wait_for_url(re.compile(r"/catalog\?q=e$"))
    expect(page.locator("#result-count")).to_contain_text("match “e”")
    first_page = results(page).first.inner_text()

    page.get_by_role("navigation", name="Result pages").get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"/catalog\?q=e&page=2$"))
    expect(results(page).first).not_to_have_text(first_page)
    titles = results(page).all_inner_texts()
    expect(page.get_by_label("Search tracks")).to_have_value("e")
    both_sizes(page, "search-results")

    results(page).nth(3).click()
    page.wait_for_url("**/tracks/**")
    expect(page.get_by_role("heading", level=1)).to_have_text(titles[3])
    back = page.get_by_role("link", name="← Back to the results")
    expect(back).to_have_attribute("href", "/catalog?q=e&page=2")

    page.go_back()
    page.wait_for_url(re.compile(r"/catalog\?q=e&page=2$"))
    expect(page.get_by_label("Search tracks")).to_have_value("e")
    assert results(page).all_inner_texts() == titles
    page.go_back()
    page.wait_for_url(re.compile(r"/catalog\?q=e$"))
    expect(results(page).first).to_have_text(first_page)

    # A reload, or a link someone shared, shows the same results.
    page.goto("/catalog?q=e&page=2")
    assert results(page).all_inner_texts() == titles


def test_a_typo_finds_the_artist_and_an_empty_search_says_what_to_do(open_page):
    page = open_page(DESKTOP)
    page.goto("/catalog")
    page.get_by_label("Search tracks").fill("kesler aray")
    expect(page.locator("#near-miss-note")).to_contain_text("closest matches")
    expect(results(page).first).to_be_visible()
    chip = page.locator(".artist-chips").get_by_role("link", name="Kessler Array")
    both_sizes(page, "search-typo")
    chip.click()
    page.wait_for_url("**/artists/kessler-array")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kessler Array")

    page.goto("/catalog?q=zqxwvy&genre=rock")
    empty = page.get_by_role("heading", name="No tracks match “zqxwvy” with these filters")
    expect(empty).to_be_visible()
    both_sizes(page, "search-empty")
    page.get_by_role("link", name="Search “zqxwvy” in all music").click()
    page.wait_for_url(re.compile(r"/catalog\?q=zqxwvy$"))
    expect(page.get_by_role("heading", name="No tracks match “zqxwvy”")).to_be_visible()
    page.get_by_role("link", name="Clear the search").click()
    page.wait_for_url(re.compile(r"/catalog$"))
    expect(page.locator("#result-count")).to_contain_text("in the catalog")


def test_artist_and_album_pages(open_page, new_listener, server_home):
    rows = db_rows(server_home, "SELECT title, metadata FROM playlists_track "
                                "WHERE artist = 'Lumen Drift' AND album = 'Slow Horizons'")
    assert len(rows) >= 2, "seed_demo_audio made no Lumen Drift album"
    in_order = [t for t, m in sorted(rows, key=lambda r: json.loads(r[1])["track_number"])]
    page = open_page(DESKTOP)
    new_listener(page)
    page.goto("/catalog?q=lumen")
    row = page.get_by_role("list", name="Search results").locator(".track").first
    row.get_by_role("link", name="Lumen Drift").click()
    page.wait_for_url("**/artists/lumen-drift")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lumen Drift")
    popular = page.get_by_role("list", name="Popular tracks by Lumen Drift").locator(".track")
    expect(popular).to_have_count(len(rows))
    albums = page.get_by_role("list", name="Albums by Lumen Drift")
    expect(albums.locator("img.cover-album")).to_have_count(1)  # the demo album has its cover
    both_sizes(page, "artist")

    albums.get_by_role("link", name="Slow Horizons").click()
    page.wait_for_url("**/albums/lumen-drift/slow-horizons")
    expect(page.get_by_role("heading", level=1)).to_have_text("Slow Horizons")
    tracks = page.get_by_role("list", name="Tracks of Slow Horizons")
    assert tracks.locator(".track-title").all_inner_texts() == in_order
    assert tracks.locator('button[data-play][data-audio="1"]').count() == len(rows)
    expect(page.locator(".page-hero img.cover-hero")).to_be_visible()
    both_sizes(page, "album")

    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    crumbs.get_by_role("link", name="Lumen Drift").click()
    page.wait_for_url("**/artists/lumen-drift")
    page.goto("/albums/lumen-drift/no-such-album")
    expect(page.get_by_role("link", name="Search the catalog for “no-such-album”")).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_new_playlist_is_made_from_the_track_page(open_page, new_listener, server_home,
                                                    viewport):
    (track_id,) = db_rows(server_home, "SELECT id FROM playlists_track WHERE has_audio "
                                       "ORDER BY title LIMIT 1")[0]
    track_id = str(uuid.UUID(track_id))
    page = open_page(viewport)
    new_listener(page)
    page.goto(f"/tracks/{track_id}")
    picker = page.get_by_label("Playlist", exact=True)
    expect(picker.locator("option")).to_have_text(["No playlists yet"])

    page.get_by_label("Or start a new playlist with it").fill("Road songs")
    page.get_by_role("button", name="Create and add").click()
    status = page.locator("#add-status")
    expect(status).to_contain_text("Added to “Road songs”.")
    expect(picker.locator("option:checked")).to_have_text("Road songs")
    expect(page.get_by_label("Or start a new playlist with it")).to_have_value("")
    shot(page, "track-new-playlist")

    (playlist,) = call_api(page, "GET", "/api/playlists")["results"]
    assert playlist["name"] == "Road songs"
    assert [t["id"] for t in playlist["tracks"]] == [track_id]
    # The picker now adds to it: a second add of the same track is refused with a reason.
    page.get_by_role("button", name="Add to playlist").click()
    expect(status).to_contain_text("Already in “Road songs”.")
    status.get_by_role("link", name="Open the playlist").click()
    page.wait_for_url(f"**/playlists/{playlist['id']}")
