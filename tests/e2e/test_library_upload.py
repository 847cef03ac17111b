"""Library → Your music in a browser: several files uploaded at once, each with its outcome (a
bad one refused with its reason), analysed by Essentia, then listed with a cover and a tempo."""
import re

import pytest
from playwright.sync_api import expect

from library import synth

from .conftest import DESKTOP, PHONE, db_rows, shot

pytestmark = pytest.mark.e2e


def _files(folder):
    cover = synth.cover_art(seed=5, text="Field Notes", size=300)
    good = synth.write(folder / "kite-song.mp3",
                       synth.render(bpm=124.0, seconds=12.0, seed=9, timbre="saw"), 44100,
                       tags={"title": "Kite Song", "artist": "Field Notes",
                             "album": "Weather", "genre": "House"}, cover=cover)
    bad = folder / "not-audio.flac"
    bad.write_text("a shopping list, not a song\n" * 20)
    return good, bad


def test_upload_files_and_follow_their_analysis(open_page, new_listener, server_home,
                                                tmp_path):
    page = open_page(DESKTOP)
    new_listener(page)
    page.goto("/library/music")
    good, bad = _files(tmp_path)
    page.get_by_label("Audio files (MP3, FLAC, Ogg/Opus, M4A, WAV)").set_input_files(
        [str(good), str(bad)])
    page.get_by_role("button", name="Upload", exact=True).click()
    rows = page.locator("#upload-rows > li")
    expect(rows.nth(0)).to_contain_text("Added: Kite Song by Field Notes")
    expect(rows.nth(1)).to_contain_text("Nothing was stored")
    expect(rows.nth(1)).to_have_class("upload-row upload-failed")
    expect(page.locator("#analysis-status")).not_to_contain_text("waiting")
    stored = db_rows(server_home, "SELECT analysis, has_cover, features FROM playlists_track "
                                  "WHERE title = 'Kite Song'")
    assert len(stored) == 1 and stored[0][:2] == ("done", 1)
    shot(page, "library-upload")
    page.goto("/library/music")
    listed = page.locator("#uploads-list > li", has_text="Kite Song")
    expect(listed).to_contain_text("Analysed")
    expect(listed).to_contain_text(re.compile(r"12[3-5] BPM"))
    expect(listed.locator("img.cover")).to_have_count(1)
    page.set_viewport_size(PHONE)
    shot(page, "library-music")


def test_catalog_can_show_only_music_with_audio(open_page, new_listener):
    page = open_page(PHONE)
    new_listener(page)
    page.goto("/catalog")
    page.get_by_label("Only music I can play").check()
    expect(page).to_have_url(re.compile(r"playable=true"))
    rows = page.locator("#results > li")
    expect(rows.first).to_be_visible()
    expect(page.locator("#results .no-audio")).to_have_count(0)
    expect(page.locator("#results button[aria-label^='Play']").first).to_be_visible()
    shot(page, "catalog-playable")
