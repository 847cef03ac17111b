"""Playlists: add from search, remove, reorder (buttons, keyboard, drag and drop), and two
members editing one collaborative playlist live."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, shot, sign_in

pytestmark = pytest.mark.e2e


def order(page) -> list[str]:
    return page.locator("#tracks > li").evaluate_all("els => els.map(e => e.dataset.id)")


def titles(page) -> list[str]:
    return page.locator("#tracks .track-title").all_inner_texts()


def row_action(page, row, action: str) -> None:
    """A row's action as a person on that screen reaches it: its button on a wide screen, the
    row's ⋯ menu on a phone (where the buttons are folded away)."""
    if page.viewport_size["width"] <= 600:
        row.get_by_role("button", name="More actions").click()
        page.get_by_role("menuitem", name=action, exact=True).click()
    else:
        row.get_by_role("button", name=action).click()


def add_from_search(page, query: str, n: int) -> None:
    box = page.get_by_label("Search the catalog")
    box.fill(query)
    buttons = page.get_by_role("list", name="Tracks to add").get_by_role("button", name="Add")
    buttons.first.wait_for()
    before = page.locator("#tracks > li").count()
    for i in range(n):
        buttons.nth(i).click()
        expect(page.locator("#tracks > li")).to_have_count(before + i + 1)


def test_two_members_edit_one_playlist_live(open_page):
    alice = open_page(DESKTOP)
    bob = open_page(PHONE)
    sign_in(alice, "demo1")
    sign_in(bob, "demo2")

    name = f"Road trip {uuid.uuid4().hex[:6]}"
    alice.goto("/playlists")
    alice.get_by_label("Name").fill(name)
    alice.get_by_label("Collaborative").check()
    alice.get_by_role("button", name="Create playlist").click()
    alice.wait_for_url(re.compile(r"/playlists/[0-9a-f-]{36}$"))
    url = alice.url
    alice.get_by_label("Invite by username").fill("demo2")
    alice.get_by_role("button", name="Invite").click()
    expect(alice.locator("#invite-msg")).to_contain_text("demo2 can now edit")
    add_from_search(alice, "a", 4)
    expect(alice.locator("#tracks > li").first).to_contain_text("added by you")

    # Bob sees it among the playlists shared with him, opens it, and is present for Alice.
    bob.goto("/playlists")
    bob.get_by_role("region", name="Shared with me").get_by_role("link", name=name).click()
    bob.wait_for_url(url)
    expect(bob.locator("#tracks > li")).to_have_count(4)
    expect(bob.locator("#tracks > li").first).to_contain_text("added by demo1")
    expect(alice.locator("#presence")).to_contain_text("demo2", timeout=1000)
    expect(bob.locator("#presence")).to_contain_text("demo1")

    # A track added by Alice appears for Bob within one second, and the other way round.
    alice.get_by_label("Search the catalog").fill("e")
    alice.get_by_role("list", name="Tracks to add").get_by_role("button", name="Add").nth(5).click()
    expect(alice.locator("#tracks > li")).to_have_count(5)
    expect(bob.locator("#tracks > li")).to_have_count(5, timeout=1000)
    assert order(bob) == order(alice)

    # A move by Alice (button) reaches Bob within one second.
    first = titles(alice)[0]
    alice.locator("#tracks > li").first.get_by_role("button", name="Move down").click()
    expect(alice.locator("#tracks .track-title").nth(1)).to_have_text(first)
    expect(bob.locator("#tracks .track-title").nth(1)).to_have_text(first, timeout=1000)

    # Keyboard: focus a row, Alt+ArrowUp moves it up; Bob follows.
    row = alice.locator("#tracks > li").nth(3)
    moved = row.get_attribute("data-id")
    row.focus()
    alice.keyboard.press("Alt+ArrowUp")
    expect(alice.locator("#tracks > li").nth(2)).to_have_attribute("data-id", moved)
    expect(alice.locator("#tracks > li").nth(2)).to_be_focused()
    expect(bob.locator("#tracks > li").nth(2)).to_have_attribute("data-id", moved, timeout=1000)

    # Bob removes a track; Alice sees it go.
    gone = bob.locator("#tracks > li").last.get_attribute("data-id")
    row_action(bob, bob.locator("#tracks > li").last, "Remove")
    expect(alice.locator("#tracks > li")).to_have_count(4, timeout=1000)
    assert gone not in order(alice)

    # Drag and drop (HTML5) by Alice: last row onto the first; persists after reload.
    last_id = order(alice)[-1]
    alice.locator("#tracks > li").last.locator(".handle").drag_to(
        alice.locator("#tracks > li").first, target_position={"x": 40, "y": 4})
    expect(alice.locator("#tracks > li").first).to_have_attribute("data-id", last_id)
    expect(bob.locator("#tracks > li").first).to_have_attribute("data-id", last_id, timeout=1000)
    expected = order(alice)
    alice.reload()
    expect(alice.locator("#tracks > li").first).to_have_attribute("data-id", last_id)
    assert order(alice) == expected
    shot(alice, "playlist")
    shot(bob, "playlist")

    # The connection drops: a banner says so; Bob's change made meanwhile is there afterwards.
    alice.wait_for_function("document.body.dataset.live === 'live'")
    alice.evaluate("window.audoticsRoom.stopped = false; window.audoticsRoom.drop()")
    expect(alice.locator("#conn-banner")).to_contain_text("Connection lost")
    row_action(bob, bob.locator("#tracks > li").first, "Move down")
    expect(alice.locator("#conn-banner")).to_contain_text("Reconnected", timeout=8000)
    expect(alice.locator("#tracks > li").nth(1)).to_have_attribute("data-id", last_id)

    # A version gap (an event from the future) makes the client ask for a fresh SNAPSHOT
    # instead of applying it; the list stays right and catches up to the server's version.
    version = int(alice.locator("#tracks").get_attribute("data-version"))
    alice.evaluate("""() => { const room = window.audoticsRoom, send = room.send.bind(room);
        window.sentFrames = [];
        room.send = f => { window.sentFrames.push(f.type); return send(f); }; }""")
    alice.evaluate("""v => window.audoticsRoom.handlers.onEvent({type: "TRACK_REMOVED",
        version: v + 5, data: {trackIds: [document.querySelector('#tracks li').dataset.id]}})""",
                   version)
    alice.wait_for_function("window.sentFrames.includes('RESYNC')")
    expect(alice.locator("#tracks > li")).to_have_count(4)
    assert int(alice.locator("#tracks").get_attribute("data-version")) == version

    # Export links.
    jspf = alice.get_by_role("link", name="Export JSPF").get_attribute("href")
    m3u = alice.get_by_role("link", name="Export M3U").get_attribute("href")
    body = alice.request.get(jspf).json()
    assert len(body["playlist"]["track"]) == 4
    assert alice.request.get(m3u).text().startswith("#EXTM3U")

    # Suggestions for everyone show each member's taste match.
    alice.get_by_role("button", name="Show suggestions").click()
    expect(alice.locator("#sugg-members")).to_contain_text("demo2")
    expect(alice.locator("#suggestions > li").first).to_be_visible()
    shot(alice, "playlist-suggestions")

    alice.goto("/playlists")
    shot(alice, "playlists")
    bob.goto("/playlists")
    shot(bob, "playlists")
