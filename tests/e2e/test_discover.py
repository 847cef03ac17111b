"""Discover: recommendations with reasons; likes change the next list; save as playlist."""
import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, STAFF, shot, sign_in

pytestmark = pytest.mark.e2e


def ids(page) -> list[str]:
    return page.locator("#recs > li").evaluate_all("els => els.map(e => e.dataset.id)")


def test_discover_changes_after_likes_and_saves(open_page):
    page = open_page(DESKTOP)
    sign_in(page, "demo2")
    page.goto("/discover")
    page.locator("#recs > li").first.wait_for()
    assert page.locator("#recs .reason").count() > 0
    shot(page, "discover")
    before = ids(page)
    generation = page.locator("#recs").get_attribute("data-generation")
    for n in range(3):
        page.locator("#recs > li").nth(n).locator("button[data-like]").click()
    page.locator("#recs > li").nth(4).get_by_role("button", name="Skip").click()
    page.wait_for_function(
        "g => document.querySelector('#recs').dataset.generation !== g", arg=generation)
    page.locator("#recs > li").first.wait_for()
    after = ids(page)
    assert after != before

    # Context picker regenerates the list.
    generation = page.locator("#recs").get_attribute("data-generation")
    page.get_by_label("Activity").select_option("workout")
    page.wait_for_function(
        "g => document.querySelector('#recs').dataset.generation !== g", arg=generation)
    page.locator("#recs > li").first.wait_for()

    page.get_by_label("Playlist name").fill("Workout finds")
    page.get_by_role("button", name="Save as playlist").click()
    page.get_by_role("link", name="Open “Workout finds”").click()
    expect(page.get_by_role("heading", name="Workout finds")).to_be_visible()
    expect(page.locator("#tracks > li").first).to_be_visible()

    page.set_viewport_size(PHONE)
    page.goto("/discover")
    page.locator("#recs > li").first.wait_for()
    shot(page, "discover")


def test_every_page_renders_at_phone_and_desktop(open_page):
    page = open_page(PHONE)
    sign_in(page, STAFF[0], STAFF[1])
    track = page.request.get("/api/tracks").json()["results"][0]["id"]
    pages = {"home": "/", "catalog": "/catalog", "track": f"/tracks/{track}",
             "playlists": "/playlists", "discover": "/discover", "account": "/account",
             "staff-model": "/staff/model"}
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        for name, path in pages.items():
            response = page.goto(path)
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{path} scrolls sideways at {size}"
            if name != "account":  # the account screenshot shows the 2FA enrollment instead
                shot(page, name)
    page.goto("/staff/model")
    assert page.get_by_role("link", name="Open the Django admin").is_visible()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.goto("/")
    shot(page, "home-signed-out")
