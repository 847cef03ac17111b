"""The track page: its playlist picker lists every playlist; a like survives a reload."""
import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, call_api, shot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_playlist_picker_lists_more_than_one_page_of_playlists(open_page, new_listener, viewport):
    page = open_page(viewport)
    new_listener(page)
    names = [f"Mix {n:03d}" for n in range(25)]  # the API's default page holds 20
    ids = {call_api(page, "POST", "/api/playlists", {"name": name})["id"]: name for name in names}
    track = call_api(page, "GET", "/api/tracks")["results"][0]["id"]

    page.goto(f"/tracks/{track}")
    options = page.get_by_label("Playlist", exact=True).locator("option")
    expect(options).to_have_count(25)
    assert sorted(options.all_inner_texts()) == names
    shot(page, "track-picker")

    last = next(pid for pid, name in ids.items() if name == "Mix 024")
    page.get_by_label("Playlist", exact=True).select_option(last)
    page.get_by_role("button", name="Add to playlist").click()
    expect(page.locator("#add-status")).to_contain_text("Added to “Mix 024”.")
    assert [t["id"] for t in call_api(page, "GET", f"/api/playlists/{last}")["tracks"]] == [track]


def test_a_like_is_shown_after_a_reload_and_can_be_undone(open_page, new_listener):
    page = open_page(DESKTOP)
    new_listener(page)
    track = call_api(page, "GET", "/api/tracks")["results"][0]["id"]
    page.goto(f"/tracks/{track}")
    like = page.get_by_role("button", name="Like")
    page.wait_for_load_state("networkidle")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_text("Liked")

    page.reload()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_text("Liked")
    shot(page, "track-liked")
    page.set_viewport_size(PHONE)
    shot(page, "track-liked")

    like.click()  # pressed again: unlike, and that is remembered too
    expect(like).to_have_attribute("aria-pressed", "false")
    assert call_api(page, "GET", f"/api/users/me/likes?trackIds={track}")["count"] == 0
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like).to_have_text("Like")
