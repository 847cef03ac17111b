"""Catalog search (playlists/search.py): relevance tiers, typo tolerance, true totals and paging
that reaches every result, on SQLite (FTS5) and PostgreSQL (pg_trgm) alike."""
import pytest
from django.core.paginator import EmptyPage
from django.db import connection

from audotics.pagination import KnownCountPaginator
from playlists import search, search_indexes
from playlists.models import Track
from tests.factories import TrackFactory

pytestmark = pytest.mark.django_db


def track(title, artist, album="", popularity=50, **kwargs):
    return TrackFactory(title=title, artist=artist, album=album,
                        metadata={"popularity": popularity}, **kwargs)


def titles(results, start=0, stop=50):
    return [t.title for t in results[start:stop]]


def every_page(results, per_page):
    """Every track the paginator serves, page after page, as far as pages go."""
    paginator, number, seen = KnownCountPaginator(results, per_page), 1, []
    while True:
        page = paginator.page(number)
        seen += [t.pk for t in page.object_list]
        if not page.has_next():
            return seen
        number += 1


def test_exact_title_first_then_word_starts_then_albums_then_inside_words():
    inside = track("Marigolden Fields", "Zyx Orchestra", popularity=99)
    album_only = track("Quiet Morning", "Lumo Band", album="Golden Years", popularity=90)
    word_start = track("Golden Hour", "Jvke Kappa", popularity=80)
    popular_word_start = track("The Golden Road", "Pell Mell", popularity=85)
    exact = track("Golden", "Nobody Famous", popularity=1)
    track("Unrelated", "Somebody Else")
    results = search.track_search(q="golden")
    assert titles(results) == [exact.title, popular_word_start.title, word_start.title,
                               album_only.title, inside.title]
    assert results.count() == 5 and not results.count_capped and not results.near_misses


def test_an_artist_name_ranks_their_tracks_first_and_case_does_not_matter():
    by_them = track("Creep", "Radiohead", popularity=10)
    mention = track("Radiohead Covers Medley", "Tribute Act", popularity=95)
    results = search.track_search(q="RADIOHEAD")
    assert titles(results) == [by_them.title, mention.title]


def test_every_word_must_match_somewhere_across_title_artist_and_album():
    both = track("Yesterday", "The Beatles", album="Help!")
    track("Yesterday Once More", "Carpenters")
    assert titles(search.track_search(q="beatles yesterday")) == [both.title]
    assert titles(search.track_search(q="yesterday help")) == [both.title]


@pytest.mark.parametrize(("typo", "artist"), [("beatels", "The Beatles"),
                                              ("radiohed", "Radiohead"),
                                              ("quen", "Queen")])
def test_a_typo_still_finds_the_artist(typo, artist):
    wanted = track("Some Song", artist)
    track("Other Song", "Unrelated Ensemble")
    results = search.track_search(q=typo)
    assert [t.pk for t in results[0:10]] == [wanted.pk]
    assert results.near_misses and results.exact_count == 0 and results.count() == 1


def test_near_misses_come_after_the_exact_matches():
    exact = track("Radiohed Bootleg", "Fan Club")
    near = track("Creep", "Radiohead")
    results = search.track_search(q="radiohed")
    assert [t.pk for t in results[0:10]] == [exact.pk, near.pk]
    assert results.exact_count == 1 and results.count() == 2


def test_accents_and_punctuation_do_not_hide_a_track():
    halo = track("Halo", "Beyoncé")
    acdc = track("Thunderstruck", "AC/DC")
    assert [t.pk for t in search.track_search(q="beyonce")[0:5]] == [halo.pk]
    assert [t.pk for t in search.track_search(q="ac/dc")[0:5]] == [acdc.pk]


def test_short_words_and_no_typo_for_them():
    u2 = track("One", "U2")
    track("Two", "Uz Quartet")
    assert [t.pk for t in search.track_search(q="u2")[0:5]] == [u2.pk]
    assert search.track_search(q="u3").count() == 0  # two letters: no near misses


def test_filters_apply_to_matches_and_near_misses():
    rock = track("Golden Rock", "Amp Band", genre="rock")
    track("Golden Pop", "Amp Band", genre="pop")
    playable = track("Golden Live", "Amp Band", genre="rock", has_audio=True)
    assert {t.pk for t in search.track_search(q="golden", genre="ROCK")[0:5]} == {rock.pk,
                                                                                playable.pk}
    assert [t.pk for t in search.track_search(q="goldne", playable=True)[0:5]] == [playable.pk]
    assert search.track_search(q="golden", artist="amp band").count() == 3


def test_browsing_without_a_query_is_most_popular_first():
    low, high, unknown = track("A", "X", popularity=5), track("B", "Y", popularity=70), \
        TrackFactory(title="C", metadata={})
    assert [t.pk for t in search.track_search()[0:3]] == [high.pk, low.pk, unknown.pk]


def test_the_count_is_exact_up_to_the_cap_and_every_result_stays_reachable(monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 6)
    monkeypatch.setattr(search, "RANK_WINDOW", 4)
    exact = track("Echo", "Solo Act", popularity=1)
    others = [track(f"Echo Number {n}", f"Band {n}", popularity=n) for n in range(12)]
    inside = track("Xecho Dance", "Reptiles", popularity=100)
    results = search.track_search(q="echo")
    assert results.count_capped and results.count() == 6
    served = every_page(results, per_page=5)
    # Tier 0 first even with the lowest popularity; then the RANK_WINDOW most popular others
    # ranked by tier (word starts before "xecho"); then the rest by popularity.
    assert served == ([exact.pk, others[11].pk, others[10].pk, others[9].pk, inside.pk]
                      + [t.pk for t in others[8::-1]])
    paginator = KnownCountPaginator(results, 5)
    with pytest.raises(EmptyPage):
        paginator.page(4)  # 14 results: page 3 is the last


def test_an_exact_count_under_the_cap_pages_like_any_list():
    made = [track(f"Lullaby {n}", "Sleepy Band", popularity=n) for n in range(7)]
    results = search.track_search(q="lullaby")
    assert results.count() == 7 and not results.count_capped
    assert every_page(results, per_page=3) == [t.pk for t in made[::-1]]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table is SQLite's")
def test_sqlite_search_index_follows_inserts_updates_and_deletes():
    assert search_indexes.sqlite_fts_ready()
    t = track("Original Name", "Someone")
    assert search.track_search(q="original").count() == 1
    Track.objects.filter(pk=t.pk).update(title="Renamed Thing")
    assert search.track_search(q="original").count() == 0
    assert search.track_search(q="renamed").count() == 1
    t.delete()
    assert search.track_search(q="renamed").count() == 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {search_indexes.FTS_KEYS}")
        assert cursor.fetchone()[0] == Track.objects.count()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table is SQLite's")
def test_sqlite_triggers_dropped_by_a_table_rebuild_come_back_after_migrate():
    kept = track("Kept Before", "Someone")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER playlists_track_fts_insert")
    added = track("Added Meanwhile", "Someone")  # not indexed while the trigger is gone
    assert not search_indexes.sqlite_fts_ready()
    search_indexes.search_index_ensure()  # what post_migrate runs
    assert search_indexes.sqlite_fts_ready()
    assert [t.pk for t in search.track_search(q="meanwhile")[0:5]] == [added.pk]
    assert [t.pk for t in search.track_search(q="before")[0:5]] == [kept.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the vocabulary is PostgreSQL's")
def test_postgresql_vocabulary_learns_the_words_of_new_and_renamed_tracks():
    t = track("Zephyrine", "Quillon")
    Track.objects.filter(pk=t.pk).update(album="Marmalade")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT word FROM {search_indexes.WORDS_TABLE} "
                       "WHERE word IN ('zephyrine', 'quillon', 'marmalade') ORDER BY word")
        assert [w for (w,) in cursor.fetchall()] == ["marmalade", "quillon", "zephyrine"]
    assert [x.pk for x in search.track_search(q="zephyrin")[0:5]] == [t.pk]
