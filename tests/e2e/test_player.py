"""The player: a track played from the catalog keeps playing while the listener moves between
pages (the shell swaps <main>, never the player bar), a listen past its threshold is a play and a
track left early a skip, both in History and both changing Discover; Back and Forward work and
the playlist page's socket closes when it is left."""
import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, SCREENSHOTS, db_rows

pytestmark = pytest.mark.e2e

AUDIO = "document.getElementById('player-audio')"


def ids(page) -> list[str]:
    return page.locator("#recs > li").evaluate_all("els => els.map(e => e.dataset.id)")


def audio_tracks(home) -> list[tuple[str, str]]:
    """(title, artist) of the demo tracks that have audio, distinct titles."""
    rows = db_rows(home, "SELECT title, artist FROM playlists_track WHERE has_audio = 1 "
                         "ORDER BY title")
    seen, out = set(), []
    for title, artist in rows:
        if title not in seen:
            seen.add(title)
            out.append((title, artist))
    return out


def viewport_shot(page, name: str) -> None:
    """The screen as the listener sees it (a full-page shot would draw the fixed bar mid-page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"))


def search_and_play(page, title: str) -> None:
    """The catalog through the nav (a shell page change), a search, the track's play button."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    page.wait_for_url("**/catalog")
    page.get_by_label("Search tracks").fill(title)
    button = page.locator(f'#results button[data-audio="1"][data-title="{title}"]').first
    button.click()
    page.wait_for_function(
        f"t => document.getElementById('player-title').textContent === t"
        f" && !{AUDIO}.paused && {AUDIO}.currentTime > 0.3", arg=title)


def played_seconds(page) -> float:
    return page.evaluate(f"{AUDIO}.currentTime")


def reports_sent(page) -> None:
    page.wait_for_function(
        "() => (sessionStorage.getItem('audotics.player.reports') || '[]') === '[]'")


def test_playback_survives_navigation_and_reports_plays_and_skips(open_page, new_listener,
                                                                   server_home):
    tracks = audio_tracks(server_home)
    assert len(tracks) >= 3, "seed_demo_audio made no playable demo tracks"
    (a_title, _), (b_title, _), (c_title, _) = tracks[:3]
    page = open_page(DESKTOP)
    username = new_listener(page)
    page.goto("/discover")
    page.locator("#recs > li").first.wait_for()
    before = ids(page)
    assert page.locator("#player").is_hidden()  # nothing queued yet

    # Play A from the catalog; it is the queue, the bar shows it.
    search_and_play(page, a_title)
    bar = page.get_by_role("region", name="Player")
    expect(bar).to_be_visible()
    expect(bar.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.locator("#player-live")).to_have_text(f"Now playing: {a_title} by " + page.locator(
        "#player-artist").inner_text())
    audio = page.locator("#player-audio").element_handle()
    page.wait_for_function(f"() => {AUDIO}.currentTime > 2")
    at = played_seconds(page)

    # Another page while it plays: the same <audio> element, still playing, further on.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Discover").click()
    page.wait_for_url("**/discover")
    expect(page.get_by_role("heading", name="Discover", exact=True)).to_be_visible()
    page.locator("#recs > li").first.wait_for()
    page.wait_for_function(f"t => {AUDIO}.currentTime > t + 1", arg=at)
    assert audio.evaluate(f"a => a.isConnected && a === {AUDIO} && !a.paused")
    assert page.evaluate("document.title").startswith("Discover")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Discover")) \
        .to_have_attribute("aria-current", "page")
    viewport_shot(page, "player")

    # The bar never covers the page: at the bottom, <main> ends where the bar starts.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    gap = page.evaluate("document.getElementById('player').getBoundingClientRect().top"
                        " - document.getElementById('main').getBoundingClientRect().bottom")
    assert gap >= -1

    # Past half of the (12 s) track in real listening time: a play. Keys pause and resume.
    page.wait_for_function(f"() => {AUDIO}.currentTime > 7", timeout=15_000)
    page.locator("main h1").click()
    page.keyboard.press("k")
    page.wait_for_function(f"() => {AUDIO}.paused")
    page.keyboard.press("k")
    page.wait_for_function(f"() => !{AUDIO}.paused")

    # B, chosen over A (already a play: no skip), then left for C after 2 s: a skip.
    page.set_viewport_size(PHONE)
    search_and_play(page, b_title)
    page.wait_for_function(f"() => {AUDIO}.currentTime > 2")
    viewport_shot(page, "player")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, "the player makes the phone layout scroll sideways"
    page.get_by_label("Search tracks").fill(c_title)
    page.locator(f'#results button[data-audio="1"][data-title="{c_title}"]').first.click()
    page.wait_for_function("t => document.getElementById('player-title').textContent === t",
                           arg=c_title)
    page.get_by_role("region", name="Player").get_by_role("button", name="Pause").click()
    reports_sent(page)

    kinds = db_rows(server_home,
                    "SELECT t.title, i.type FROM recommendations_interaction i "
                    "JOIN users_user u ON u.id = i.user_id JOIN playlists_track t "
                    "ON t.id = i.track_id WHERE u.username = ? AND i.type IN ('play', 'skip') "
                    "ORDER BY i.created_at", username)
    assert kinds == [(a_title, "play"), (b_title, "skip")]  # once each, nothing for C

    # A reload restores the queue, paused, at the same track.
    page.reload()
    expect(page.locator("#player-title")).to_have_text(c_title)
    assert page.evaluate(f"{AUDIO}.paused")

    # History lists both; Discover learnt from them.
    page.set_viewport_size(DESKTOP)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    page.locator(".subnav").get_by_role("link", name="History").click()
    page.wait_for_url("**/library/history")
    rows = page.locator("#history-list > li")
    expect(rows.filter(has_text=a_title)).to_contain_text("Played")
    expect(rows.filter(has_text=b_title)).to_contain_text("Skipped")
    expect(rows.filter(has_text=a_title).locator("button[data-play]")).to_be_enabled()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Discover").click()
    page.wait_for_url("**/discover")
    page.locator("#recs > li").first.wait_for()
    assert ids(page) != before


def test_back_forward_scroll_and_leaving_the_playlist_page(open_page, new_listener):
    page = open_page(PHONE)
    new_listener(page)
    page.goto("/catalog")
    page.locator("#results > li").nth(10).wait_for()
    page.evaluate("window.scrollTo(0, 600)")
    page.wait_for_function("() => window.scrollY >= 590")
    first = page.locator("#results .track-title").nth(12)
    title = first.inner_text()
    first.click()
    page.wait_for_url("**/tracks/**")
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.activeElement.id") == "main"  # screen readers start there

    page.go_back()
    page.wait_for_url("**/catalog")
    page.wait_for_function("() => window.scrollY >= 590")  # where the listener was
    page.go_forward()
    page.wait_for_url("**/tracks/**")
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()

    # The playlist page's socket lives as long as the page: it closes when the shell leaves it.
    page.goto("/playlists")
    page.get_by_label("Name").fill("Shell test")
    page.get_by_role("button", name="Create playlist").click()
    page.wait_for_url("**/playlists/*")
    page.wait_for_function("() => document.body.dataset.live === 'live'")
    page.evaluate("window.__socket = window.audoticsRoom.ws")
    page.get_by_role("link", name="← Playlists").click()
    page.wait_for_url("**/playlists")
    page.wait_for_function("() => window.__socket.readyState === WebSocket.CLOSED")
    assert page.evaluate("window.audoticsRoom === undefined && !document.body.dataset.live")
