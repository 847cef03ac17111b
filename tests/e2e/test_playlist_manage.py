"""Managing a playlist (issue 16): rename and describe it in place, set its mood, see its length
and cover, delete it after a confirmation, take back a removal, invite people by searching
their names or with a link; and the phone layout: compact rows with a ⋯ menu (at least six
tracks to a screen), folding filters on Discover, no keyboard hints on touch screens."""
import re

import pytest
from playwright.sync_api import expect

from web.selectors import duration_words

from .conftest import (
    DEMO_PASSWORD,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    call_api,
    open_playlist,
    shot,
    sign_in,
)

pytestmark = pytest.mark.e2e

TOUCH_PHONE = {"has_touch": True, "is_mobile": True}


def order(page) -> list[str]:
    return page.locator("#tracks > li").evaluate_all("els => els.map(e => e.dataset.id)")


def server_order(page, pid: str) -> list[str]:
    return [t["id"] for t in call_api(page, "GET", f"/api/playlists/{pid}")["tracks"]]


def screen_shot(page, name: str) -> None:
    """What the screen shows now (a menu, a toast): no scrolling, not the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_owner_renames_describes_and_sets_the_mood_live_for_members(
        open_page, new_listener, listeners, viewport):
    owner = open_page(viewport)
    new_listener(owner)
    found = call_api(owner, "GET", "/api/tracks?q=a")["results"][:5]
    pid = open_playlist(owner, found, isCollaborative=True)
    friend_name = listeners.take()
    call_api(owner, "POST", f"/api/playlists/{pid}/collaborators", {"username": friend_name})
    friend = open_page(DESKTOP)
    sign_in(friend, friend_name)
    friend.goto(f"/playlists/{pid}")
    expect(friend.locator("body")).to_have_attribute("data-live", "live")

    # Length: the sum of the tracks' durations, in words.
    total = sum(t["durationMs"] or 0 for t in found)
    expect(owner.locator("#pl-duration")).to_have_text(f" · {duration_words(total)}")
    expect(owner.locator(".pl-meta")).to_contain_text("5 tracks")

    # Rename in place: Enter saves; the member's page follows at once.
    owner.get_by_role("button", name="Rename playlist").click()
    box = owner.get_by_label("Playlist name")
    expect(box).to_be_focused()
    box.fill("Sunday drive")
    box.press("Enter")
    expect(owner.locator("#pl-name")).to_have_text("Sunday drive")
    expect(box).to_be_hidden()
    expect(friend.locator("#pl-name")).to_have_text("Sunday drive", timeout=2000)
    expect(friend).to_have_title(re.compile("^Sunday drive"))
    # Escape abandons a rename.
    owner.get_by_role("button", name="Rename playlist").click()
    box.fill("Not this")
    box.press("Escape")
    expect(owner.locator("#pl-name")).to_have_text("Sunday drive")

    # The description, over two lines.
    owner.get_by_role("button", name="Add a description").click()
    owner.get_by_label("Description").fill("Windows down.\nNo skipping.")
    owner.get_by_role("button", name="Save").click()
    expect(owner.locator("#pl-desc")).to_have_text("Windows down.\nNo skipping.")
    expect(friend.locator("#pl-desc")).to_have_text("Windows down.\nNo skipping.", timeout=2000)
    expect(owner.get_by_role("button", name="Edit description")).to_be_visible()

    # Mood and activity from the recommender's vocabulary.
    mood = owner.get_by_label("Mood")
    value = mood.locator("option").nth(1).get_attribute("value")
    mood.select_option(value)
    expect(friend.locator("#pl-mood")).to_have_text(value, timeout=2000)
    playlist = call_api(owner, "GET", f"/api/playlists/{pid}")
    assert playlist["name"] == "Sunday drive"
    assert playlist["description"] == "Windows down.\nNo skipping."
    assert playlist["context"]["mood"] == value
    # A member cannot edit the details: no controls on their page.
    expect(friend.get_by_role("button", name="Rename playlist")).to_have_count(0)
    expect(friend.get_by_role("button", name="Delete playlist")).to_have_count(0)

    owner.reload()
    expect(owner.locator("#pl-name")).to_have_text("Sunday drive")
    expect(owner.get_by_label("Mood")).to_have_value(value)

    # Tracks already in the playlist are marked in the add panel and cannot be added again.
    owner.get_by_label("Search the catalog").fill("a")
    results = owner.get_by_role("list", name="Tracks to add")
    first = results.locator("li").first
    expect(first).to_contain_text("In playlist")
    expect(first.get_by_role("button")).to_be_disabled()
    expect(results.locator("li").nth(len(found)).get_by_role("button", name="Add")).to_be_enabled()
    shot(owner, "playlist-manage")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_delete_asks_first_then_deletes(open_page, new_listener, viewport):
    page = open_page(viewport)
    new_listener(page)
    pid = open_playlist(page, call_api(page, "GET", "/api/tracks?q=e")["results"][:2])
    name = page.locator("#pl-name").inner_text()

    page.get_by_role("button", name="Delete playlist").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Delete “{name}”?")
    expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
    screen_shot(page, "playlist-delete-dialog")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    assert call_api(page, "GET", f"/api/playlists/{pid}")["id"] == pid
    # Escape also keeps it.
    page.get_by_role("button", name="Delete playlist").click()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.get_by_role("button", name="Delete playlist").click()
    dialog.get_by_role("button", name="Delete playlist").click()
    page.wait_for_url(re.compile(r"/playlists$"))
    expect(page.locator("#toast")).to_contain_text(f"Deleted “{name}”")
    expect(page.get_by_role("link", name=name)).to_have_count(0)
    gone = page.request.get(f"/api/playlists/{pid}")
    assert gone.status == 404


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_removal_can_be_undone(open_page, new_listener, viewport):
    page = open_page(viewport)
    new_listener(page)
    found = call_api(page, "GET", "/api/tracks?q=a")["results"][:5]
    pid = open_playlist(page, found)
    before = order(page)
    third = page.locator("#tracks > li").nth(2)
    title = found[2]["title"]

    if viewport is PHONE:
        # Phones: the row's buttons are folded into its ⋯ menu.
        expect(third.get_by_role("button", name="Remove")).to_be_hidden()
        third.get_by_role("button", name="More actions").click()
        menu = page.get_by_role("menu")
        expect(menu).to_be_visible()
        expect(menu.get_by_role("menuitem", name="Move to top")).to_be_focused()
        screen_shot(page, "playlist-row-menu")
        menu.get_by_role("menuitem", name="Remove").click()
    else:
        third.get_by_role("button", name="Remove").click()
    toast = page.locator("#toast")
    expect(toast).to_contain_text(f"Removed “{title}”")
    expect(page.locator("#tracks > li")).to_have_count(4)
    screen_shot(page, "playlist-undo")
    toast.get_by_role("button", name="Undo").click()
    expect(page.locator("#tracks > li")).to_have_count(5)
    expect(page.locator("#tracks > li").nth(2)).to_have_attribute("data-id", found[2]["id"])
    # Sent and confirmed: no row is waiting any more, and the server has the old order.
    expect(page.locator("#tracks .added-by", has_text="not sent")).to_have_count(0)
    assert server_order(page, pid) == before

    # From the keyboard: Delete on a focused row, then Ctrl+Z.
    row = page.locator("#tracks > li").first
    row.focus()
    page.keyboard.press("Delete")
    expect(page.locator("#tracks > li")).to_have_count(4)
    expect(toast).to_contain_text("Undo")
    page.keyboard.press("Control+z")
    expect(page.locator("#tracks > li")).to_have_count(5)
    expect(page.locator("#tracks > li").first).to_have_attribute("data-id", before[0])
    expect(page.locator("#tracks .added-by", has_text="not sent")).to_have_count(0)
    assert server_order(page, pid) == before


def test_invite_by_searching_usernames(open_page, new_listener, listeners):
    page = open_page(DESKTOP)
    new_listener(page)
    invitee = listeners.take()
    open_playlist(page, [], isCollaborative=True)

    box = page.get_by_label("Invite by username")
    box.press_sequentially(invitee[:9], delay=30)
    people = page.get_by_role("listbox", name="People")
    option = people.get_by_role("option", name=invitee)
    expect(option).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    shot(page, "playlist-invite-search")
    # Keyboard: ↓ picks the first suggestion, Enter takes it.
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "invite-opt-0")
    box.press("Enter")
    expect(box).to_have_value(re.compile("^e2e_"))
    box.fill(invitee[:9])
    option.click()
    expect(box).to_have_value(invitee)
    expect(people).to_be_hidden()
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.locator("#invite-msg")).to_contain_text(f"{invitee} can now edit")
    expect(page.locator("#collaborators")).to_contain_text(invitee)
    # Members are not suggested again; too short a query suggests nobody.
    box.press_sequentially(invitee[:9], delay=30)
    page.wait_for_timeout(600)
    expect(option).to_have_count(0)
    box.fill("e")
    page.wait_for_timeout(400)
    expect(people).to_be_hidden()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_join_by_share_link(open_page, new_listener, listeners, viewport):
    owner = open_page(DESKTOP)
    new_listener(owner)
    found = call_api(owner, "GET", "/api/tracks?q=o")["results"][:3]
    pid = open_playlist(owner, found, isCollaborative=True, description="Bring your best")

    owner.get_by_role("button", name="Create a link").click()
    link = owner.get_by_label("Link to send")
    expect(link).to_have_value(re.compile(r"/playlists/join/[0-9a-f]{32}\.[\w-]+$"))
    url = link.input_value()

    # Someone signed out opens it: sign in first, then the invitation, then the playlist.
    guest_name = listeners.take()
    guest = open_page(viewport)
    guest.goto(url)
    guest.wait_for_url(re.compile(r"/signin\?next="))
    guest.get_by_label("Username or email").fill(guest_name)
    guest.get_by_label("Password").fill(DEMO_PASSWORD)
    guest.get_by_role("button", name="Sign in", exact=True).click()
    guest.wait_for_url(url)
    expect(guest.get_by_role("heading", level=1)).to_have_text(
        owner.locator("#pl-name").inner_text())
    expect(guest.locator("main")).to_contain_text("Bring your best")
    expect(guest.locator("main")).to_contain_text("3 tracks")
    shot(guest, "playlist-join")
    guest.get_by_role("button", name="Join playlist").click()
    guest.wait_for_url(re.compile(f"/playlists/{pid}$"))
    expect(guest.locator("#tracks > li")).to_have_count(3)
    expect(owner.locator("#collaborators")).to_contain_text(guest_name, timeout=2000)
    # Opening it again says they are in already.
    guest.goto(url)
    expect(guest.locator("main")).to_contain_text("already in this playlist")

    # The owner turns the link off: it lets nobody else in.
    owner.get_by_role("button", name="Turn off link").click()
    expect(owner.get_by_role("button", name="Create a link")).to_be_visible()
    late = open_page(viewport)
    new_listener(late)
    response = late.goto(url)
    assert response.status == 404
    expect(late.locator("main")).to_contain_text("does not work")
    assert late.request.get(f"/api/playlists/{pid}").status == 404


def test_phone_shows_six_tracks_a_screen_with_touch_hints(open_page, new_listener):
    page = open_page(PHONE, **TOUCH_PHONE)
    new_listener(page)
    found = call_api(page, "GET", "/api/tracks?q=e")["results"][:12]
    assert len(found) == 12
    open_playlist(page, found)
    # Touch screens get the touch hint, not the keyboard one.
    expect(page.locator("#reorder-help")).to_be_hidden()
    expect(page.locator(".touch-hint")).to_be_visible()
    expect(page.locator("#tracks > li").first.get_by_role("button", name="More actions")) \
        .to_be_visible()

    # Scroll the list's top to just under the sticky header; count the rows wholly visible
    # between the header and the player bar, shown as when something plays (the worst case).
    visible = page.evaluate("""() => {
        const player = document.getElementById('player');
        player.hidden = false;
        const header = document.querySelector('header.top').getBoundingClientRect().bottom;
        const first = document.querySelector('#tracks > li');
        window.scrollTo(0, first.getBoundingClientRect().top + window.scrollY - header - 4);
        const top = document.querySelector('header.top').getBoundingClientRect().bottom;
        const bottom = player.getBoundingClientRect().top;
        return [...document.querySelectorAll('#tracks > li')].filter(li => {
            const r = li.getBoundingClientRect();
            return r.top >= top - 1 && r.bottom <= bottom + 1;
        }).length;
    }""")
    assert visible >= 6, f"only {visible} rows fit on a 375x812 screen"
    screen_shot(page, "playlist-phone-rows")
    page.evaluate("document.getElementById('player').hidden = true")

    # The player's keyboard hints are not shown either.
    expect(page.locator(".player-keys")).to_be_hidden()


def test_desktop_keeps_the_keyboard_hint(open_page, new_listener):
    page = open_page(DESKTOP)
    new_listener(page)
    open_playlist(page, call_api(page, "GET", "/api/tracks?q=e")["results"][:2])
    expect(page.locator("#reorder-help")).to_be_visible()
    expect(page.locator(".touch-hint")).to_be_hidden()


def test_discover_filters_fold_away_on_a_phone(open_page, new_listener):
    phone = open_page(PHONE, **TOUCH_PHONE)
    new_listener(phone)
    phone.goto("/discover")
    form = phone.locator("#context-form")
    toggle = phone.get_by_role("button", name="Filters")
    expect(form).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(phone.locator("#recs > li").first).to_be_visible()
    shot(phone, "discover-filters")
    toggle.click()
    expect(form).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    mood = phone.get_by_label("Mood")
    value = mood.locator("option").nth(1).get_attribute("value")
    mood.select_option(value)
    expect(toggle).to_contain_text(value.capitalize())
    toggle.click()
    expect(form).to_be_hidden()

    desktop = open_page(DESKTOP)
    new_listener(desktop)
    desktop.goto("/discover")
    expect(desktop.locator("#context-form")).to_be_visible()
    expect(desktop.get_by_role("button", name="Filters")).to_be_hidden()
    shot(desktop, "discover-filters")


def test_playlist_cards_show_covers_and_length(open_page, new_listener):
    page = open_page(DESKTOP)
    new_listener(page)
    covered = [t for t in call_api(page, "GET", "/api/tracks?playable=true&pageSize=50")["results"]
               if t["hasCover"]]
    albums = {(t["artist"].lower(), t["album"].lower()) for t in covered}
    assert len(albums) >= 4
    pid = open_playlist(page, covered[:8], name="Covers")
    expect(page.locator("#pl-cover .mosaic-4 img")).to_have_count(4)
    page.goto("/playlists")
    card = page.locator(".pl-card", has=page.get_by_role("link", name="Covers"))
    expect(card.locator(".mosaic-4 img")).to_have_count(4)
    total = sum(t["durationMs"] or 0 for t in covered[:8])
    expect(card).to_contain_text(f"8 tracks · {duration_words(total)}")
    # An empty playlist gets the neutral square.
    call_api(page, "DELETE", f"/api/playlists/{pid}/tracks",
             {"trackIds": [t["id"] for t in covered[:8]]})
    page.reload()
    expect(card.locator(".mosaic-0")).to_have_count(1)
    shot(page, "playlists-covers")
