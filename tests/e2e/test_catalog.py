"""Search as you type, genre filter, track page with its audio-feature chart."""
import pytest

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
