"""Playlist edits that go wrong: made offline (sent once the network is back), rejected by the
server (the banner says why and what to do), and the `add` interaction recorded once per add."""

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, call_api, db_rows, open_playlist, shot

pytestmark = pytest.mark.e2e


def search_to_add(page, query: str):
    """Type into the page's catalog search; returns the result rows' Add buttons."""
    page.get_by_label("Search the catalog").fill(query)
    buttons = page.get_by_role("list", name="Tracks to add").get_by_role("button", name="Add")
    buttons.first.wait_for()
    return buttons


def server_track_ids(page, playlist_id: str) -> list[str]:
    return [t["id"] for t in call_api(page, "GET", f"/api/playlists/{playlist_id}")["tracks"]]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_add_made_offline_is_sent_when_the_network_is_back(open_page, new_listener, viewport):
    page = open_page(viewport)
    new_listener(page)
    found = call_api(page, "GET", "/api/tracks?q=a")["results"]
    pid = open_playlist(page, found[1:5])
    buttons = search_to_add(page, "a")

    # The network goes; the open socket does not notice (Chromium keeps it), the add fails.
    page.context.set_offline(True)
    buttons.first.click()
    banner = page.locator("#conn-banner")
    expect(banner).to_contain_text("will be sent when the connection is back")
    expect(page.locator("#tracks > li")).to_have_count(5)  # shown at once, marked unsent
    expect(page.locator("#tracks > li").last).to_contain_text("not sent yet")
    shot(page, "playlist-offline-edit")

    page.context.set_offline(False)
    expect(banner).to_be_hidden()
    expect(page.locator("#tracks > li").last).to_contain_text("added by you")
    assert server_track_ids(page, pid) == [t["id"] for t in found[1:5]] + [found[0]["id"]]

    # Another page of the same account agrees with the server.
    page.reload()
    expect(page.locator("#tracks > li")).to_have_count(5)


def test_edits_queued_offline_are_sent_in_order(open_page, new_listener):
    page = open_page(DESKTOP)
    new_listener(page)
    found = call_api(page, "GET", "/api/tracks?q=a")["results"]
    pid = open_playlist(page, found[2:5])
    buttons = search_to_add(page, "a")

    page.context.set_offline(True)
    # An added track's button turns into a mark at once: the next "Add" is the next track.
    buttons.first.click()
    expect(page.get_by_role("list", name="Tracks to add").locator("li").first).to_contain_text(
        "In playlist")
    buttons.first.click()
    page.locator("#tracks > li").first.get_by_role("button", name="Remove").click()
    expect(page.locator("#conn-banner")).to_contain_text("3 changes")
    page.context.set_offline(False)
    expect(page.locator("#conn-banner")).to_be_hidden()
    expected = [t["id"] for t in found[3:5]] + [found[0]["id"], found[1]["id"]]
    assert server_track_ids(page, pid) == expected
    assert page.locator("#tracks > li").evaluate_all("els => els.map(e => e.dataset.id)") \
        == expected


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_rejected_add_says_why_not_reconnected(open_page, new_listener, viewport):
    page = open_page(viewport)
    new_listener(page)
    found = call_api(page, "GET", "/api/tracks?q=a")["results"]
    pid = open_playlist(page, found[:3])
    buttons = search_to_add(page, "a")  # the first addable result is found[3]
    # Another member adds that very track and this page clicks before the news arrives (the
    # page's socket drops the event here): its Add meets a 409 duplicate_track.
    page.evaluate("window.audoticsRoom.handlers.onEvent = () => {}")
    call_api(page, "PUT", f"/api/playlists/{pid}/tracks", {"trackIds": [found[3]["id"]]})
    version = call_api(page, "GET", f"/api/playlists/{pid}")["version"]

    buttons.first.click()
    banner = page.locator("#conn-banner")
    expect(banner).to_contain_text("already in this playlist")
    expect(banner).to_contain_text("Pick another track")
    expect(banner).to_have_attribute("data-kind", "error")
    # The page resyncs after a rejection; that SNAPSHOT is no reconnection.
    page.wait_for_timeout(1000)
    expect(banner).not_to_contain_text("Reconnected")
    expect(banner).to_contain_text("already in this playlist")
    # The page takes the server's list (with the other member's track), which is unchanged.
    expect(page.locator("#tracks > li")).to_have_count(4)
    assert call_api(page, "GET", f"/api/playlists/{pid}")["version"] == version
    shot(page, "playlist-rejected-add")


def test_one_add_from_the_page_records_one_add_interaction(open_page, new_listener, server_home):
    page = open_page(DESKTOP)
    username = new_listener(page)
    found = call_api(page, "GET", "/api/tracks?q=a")["results"]
    open_playlist(page, [])
    posted = []
    page.on("request", lambda r: r.method == "POST" and "/api/interactions" in r.url
            and posted.append(r.url))

    search_to_add(page, "a").first.click()
    expect(page.locator("#tracks > li")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    rows = db_rows(server_home, """
        SELECT count(*) FROM recommendations_interaction i JOIN users_user u ON u.id = i.user_id
        WHERE u.username = ? AND i.track_id = replace(?, '-', '') AND i.type = 'add'""",
                   username, found[0]["id"])
    assert rows == [(1,)]
    assert posted == []  # the playlist service records it; the page posts none of its own
