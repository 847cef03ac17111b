"""Near-miss judgement (playlists/fuzzy.py): plain Python, no database."""
import pytest

from playlists import fuzzy


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("beatles", "beatles", 0), ("beatels", "beatles", 1), ("radiohed", "radiohead", 1),
    ("quen", "queen", 1), ("teh", "the", 1), ("abcdef", "badcfe", 3), ("", "abc", 3),
])
def test_typo_distance_counts_a_swapped_pair_as_one(a, b, distance):
    assert fuzzy.typo_distance(a, b, 5) == distance
    assert fuzzy.typo_distance(a, b, 0) == min(distance, 1)


def test_longer_words_tolerate_more_typos_and_short_ones_none():
    assert [fuzzy.allowed_typos(w) for w in ("u2", "abc", "quen", "queen", "radiohed")] == \
        [0, 0, 1, 1, 2]


@pytest.mark.parametrize(("query", "fields"), [
    ("beatels", ("Yesterday", "The Beatles", "Help!")),
    ("radiohed creep", ("Creep", "Radiohead", "Pablo Honey")),
    ("acdc", ("Back in Black", "AC/DC", "")),
    ("beyonce", ("Halo", "Beyoncé", "I Am... Sasha Fierce")),
    ("radioh", ("Creep", "Radiohead", "")),  # typed so far
])
def test_near_misses_are_recognised(query, fields):
    assert fuzzy.near_miss_score(fuzzy.query_words(query), *fields) is not None


@pytest.mark.parametrize(("query", "fields"), [
    ("teh", ("The", "Someone", "")),  # three letters: as typed or not at all
    ("beatels zzzz", ("Yesterday", "The Beatles", "")),  # every word must be there
    ("metallica", ("Yesterday", "The Beatles", "")),
])
def test_what_is_not_a_near_miss(query, fields):
    assert fuzzy.near_miss_score(fuzzy.query_words(query), *fields) is None


def test_closer_scores_higher():
    words = fuzzy.query_words("radiohead")
    exact = fuzzy.near_miss_score(words, "Creep", "Radiohead", "")
    typo = fuzzy.near_miss_score(fuzzy.query_words("radiohed"), "Creep", "Radiohead", "")
    assert exact == 1.0 > typo


def test_pieces_cover_one_mistake_anywhere_in_a_word():
    pieces = fuzzy.fts_pieces(["beatels", "quen", "abc", "ab"])
    assert pieces == ["beat", "eate", "atel", "tels", "que", "uen", "abc"]
    for typo, right in (("beatels", "beatles"), ("radiohed", "radiohead"),
                        ("xadiohead", "radiohead")):
        assert any(p in right for p in fuzzy.fts_pieces([typo]))
