"""The Library in a browser: a Spotify history imported on the Imports page shows in History and
changes Discover; Dislike on Discover is undoable; likes are listed and can be undone."""
import json
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, DESKTOP, PHONE, db_rows, shot

pytestmark = pytest.mark.e2e


def ids(page) -> list[str]:
    return page.locator("#recs > li").evaluate_all("els => els.map(e => e.dataset.id)")


def _spotify_history(path, tracks) -> None:
    """Streaming_History_Audio_*.json as Spotify writes it: full plays of `tracks`, one podcast."""
    start = datetime(2024, 5, 1, 18, 0, tzinfo=UTC)
    rows = []
    for n, (title, artist, duration) in enumerate(tracks):
        ended = start + timedelta(minutes=5 * n)
        rows.append({"ts": ended.strftime("%Y-%m-%dT%H:%M:%SZ"), "platform": "android",
                     "ms_played": duration or 200_000, "master_metadata_track_name": title,
                     "master_metadata_album_artist_name": artist,
                     "master_metadata_album_album_name": "", "spotify_track_uri": None,
                     "episode_name": None, "reason_end": "trackdone", "skipped": False})
    rows.append({"ts": "2024-05-02T08:00:00Z", "ms_played": 1_200_000,
                 "master_metadata_track_name": None, "episode_name": "A podcast",
                 "spotify_episode_uri": "spotify:episode:0Q86acNRm6V9GYx55SXKwf"})
    path.write_text(json.dumps(rows))


def test_import_a_spotify_history_and_see_discover_change(open_page, new_listener,
                                                          server_home, tmp_path):
    page = open_page(DESKTOP)
    username = new_listener(page)
    page.goto("/discover")
    page.locator("#recs > li").first.wait_for()
    before = ids(page)
    # A genre's tracks that this new listener was not offered: the history is all of them.
    genre = db_rows(server_home, "SELECT genre FROM playlists_track WHERE genre != '' "
                                 "GROUP BY genre ORDER BY COUNT(*) DESC LIMIT 1")[0][0]
    tracks = db_rows(server_home, "SELECT title, artist, duration_ms FROM playlists_track "
                                  "WHERE genre = ? ORDER BY id LIMIT 12", genre)
    history = tmp_path / "Streaming_History_Audio_2024.json"
    _spotify_history(history, tracks)

    page.goto("/library/imports")
    page.get_by_label("Where it comes from").select_option("spotify")
    page.get_by_label("File").set_input_files(str(history))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-status")).to_contain_text("Imported 12 listens", timeout=30_000)
    expect(page.locator("#import-status")).to_contain_text("100% matched")
    page.wait_for_load_state("load")
    expect(page.locator("#imports-table tbody tr").first).to_contain_text("Done")
    shot(page, "library-imports")

    page.goto("/library/history")
    expect(page.locator("#history-list > li")).to_have_count(12)
    expect(page.locator("#history-list")).to_contain_text("Spotify history import")
    expect(page.locator("#history-list")).to_contain_text(tracks[-1][0])
    shot(page, "library-history")

    page.goto("/discover")
    page.locator("#recs > li").first.wait_for()
    after = ids(page)
    assert after != before
    plays = db_rows(server_home, "SELECT COUNT(*) FROM recommendations_interaction i "
                                 "JOIN users_user u ON u.id = i.user_id "
                                 "WHERE u.username = ? AND i.type = 'play'", username)
    assert plays == [(12,)]


def test_dislike_is_undoable_and_likes_are_listed(open_page, new_listener, server_home):
    page = open_page(PHONE)
    username = new_listener(page)
    page.goto("/discover")
    first = page.locator("#recs > li").first
    first.wait_for()
    title = first.locator(".track-title").inner_text()
    first.get_by_role("button", name=f"Dislike {title}", exact=True).click()
    expect(first.get_by_role("button", name=f"Undo dislike of {title}")).to_be_visible()

    def dislikes() -> int:
        return db_rows(server_home, "SELECT COUNT(*) FROM recommendations_interaction i "
                                    "JOIN users_user u ON u.id = i.user_id "
                                    "WHERE u.username = ? AND i.type = 'dislike'", username)[0][0]

    assert dislikes() == 1
    first.get_by_role("button", name=f"Undo dislike of {title}").click()
    expect(first.get_by_role("button", name=f"Dislike {title}", exact=True)).to_be_visible()
    assert dislikes() == 0

    second = page.locator("#recs > li").nth(1)
    liked_title = second.locator(".track-title").inner_text()
    like = second.get_by_role("button", name=f"Like {liked_title}", exact=True)
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    page.goto("/library/likes")
    row = page.locator("#likes-list > li", has_text=liked_title)
    expect(row).to_have_count(1)
    shot(page, "library-likes")
    row.get_by_role("button", name=f"Unlike {liked_title}").click()
    expect(row.get_by_role("button", name=f"Undo: like {liked_title} again")).to_be_visible()
    page.reload()
    expect(page.locator("#likes-list")).not_to_contain_text(liked_title)
    page.set_viewport_size(DESKTOP)
    shot(page, "library-likes")


def test_export_and_delete_the_account_from_the_account_page(open_page, new_listener,
                                                            server_home):
    page = open_page(PHONE)
    username = new_listener(page)
    page.goto("/account")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    assert download.value.suggested_filename.startswith(f"audotics-{username}-")
    page.locator("summary", has_text="Delete my account").click()
    page.get_by_label("Password").last.fill("wrong password")
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#delete-msg")).to_contain_text("password is not correct")
    shot(page, "account-delete")
    page.get_by_label("Password").last.fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url("**/?deleted=1")
    expect(page.locator(".alert-ok")).to_contain_text("Your account and its data have been "
                                                      "deleted")
    assert db_rows(server_home, "SELECT COUNT(*) FROM users_user WHERE username = ?",
                   username) == [(0,)]
