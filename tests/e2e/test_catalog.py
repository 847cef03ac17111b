"""Search as you type, genre filter, track page with its audio-feature chart."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, shot

pytestmark = pytest.mark.e2e


def test_search_as_you_type_filter_and_track_page(open_page):
    page = open_page(DESKTOP)
    page.goto("/catalog")
    results = page.get_by_role("list", name="Search results").get_by_role("listitem")
    results.first.wait_for()
    first_title = results.first.locator(".track-title").inner_text()
    word = first_title.split()[0]
    page.get_by_label("Search tracks").press_sequentially(word[:4], delay=40)
    page.wait_for_function(
        "w => { const li = document.querySelector('#results .track');"
        " return location.search.includes('q=') && li"
        " && li.textContent.toLowerCase().includes(w); }",
        arg=word[:4].lower())
    assert page.url.endswith(f"?q={word[:4]}")
    page.get_by_label("Search tracks").fill("")

    genre_select = page.get_by_label("Genre")
    genre = genre_select.locator("option").nth(1).get_attribute("value")
    genre_select.select_option(genre)
    page.wait_for_function(
        "g => { const t = [...document.querySelectorAll('#results .tag')];"
        " return t.length > 0 && t.every(x => x.textContent.includes(g)); }", arg=genre)
    shot(page, "catalog")
    page.set_viewport_size(PHONE)
    shot(page, "catalog")

    page.locator("#results .track-title").first.click()
    page.wait_for_url("**/tracks/**")
    chart = page.get_by_role("list", name="Audio features")
    assert chart.get_by_text("Danceability").is_visible()
    assert chart.get_by_text("how suitable for dancing").is_visible()
    # Essentia-analysed demo tracks (the genre may start with one) have four of the bars.
    assert chart.locator("svg rect.chart-bar").count() >= 4
    shot(page, "track")
    page.set_viewport_size(DESKTOP)
    shot(page, "track")


def test_a_search_typed_while_the_page_script_loads_is_not_lost(open_page, new_listener):
    """The shell shows the catalog before its script runs: what was typed meanwhile is searched
    once the script is there (the player test's flaky failure in CI)."""
    page = open_page(DESKTOP)
    new_listener(page)
    page.goto("/discover")
    held = []
    page.route(re.compile(r"/js/catalog\.[^/]*js"), lambda route: held.append(route))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    page.wait_for_url("**/catalog")
    word = page.locator("#results .track-title").first.inner_text().split()[0]
    page.get_by_label("Search tracks").fill(word)
    while not held:  # the module's request reaches the route (events run while Playwright waits)
        page.wait_for_timeout(20)
    held[0].continue_()
    page.wait_for_url(re.compile(rf"/catalog\?q={re.escape(word)}$"))
    titles = page.locator("#results .track-title")
    expect(titles.first).to_contain_text(word, ignore_case=True)
    expect(page.locator("#result-count")).to_contain_text(f"match “{word}”")
