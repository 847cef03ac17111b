"""Near misses: whether a track is what a mistyped query meant ("beatels", "radiohed").

Plain Python, the same on both databases: the database proposes candidates (pg_trgm word
similarity on PostgreSQL, FTS5 trigram pieces on SQLite, playlists/search.py) and this module
decides. Every word of the query must be found in the track's title, artist or album: as itself,
as the start or a part of a word, or within a few typing mistakes of a word — one for words of
four or five letters, two from six (Damerau–Levenshtein: a swapped pair of letters is one
mistake). Shorter words must be there as typed: a two-letter "typo" matches almost anything.
Accents, case and punctuation do not count (`matching.text_normalise`).
"""
from __future__ import annotations

import re

from .matching import text_normalise

_NOT_WORD = re.compile(r"[^0-9a-z]+")  # matching.text_normalise's rule, for ASCII text

# How good a word's best match is, from exact to a typo; a track's score is the mean.
EXACT, PREFIX, INSIDE = 1.0, 0.9, 0.8
TYPO_BASE, TYPO_STEP = 0.75, 0.15
MAX_QUERY_WORDS = 8


def allowed_typos(word: str) -> int:
    """Mistakes tolerated in a query word of this length (Elasticsearch's "AUTO" fuzziness)."""
    if len(word) < 4:
        return 0
    return 1 if len(word) < 6 else 2


def query_words(query: str) -> list[str]:
    return text_normalise(query).split()[:MAX_QUERY_WORDS]


def typo_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between a and b, or limit + 1 once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[len(b)], limit + 1)


def _word_score(word: str, candidates: list[str]) -> float:
    best = 0.0
    limit = allowed_typos(word)
    for other in candidates:
        if other == word:
            return EXACT
        if other.startswith(word):
            best = max(best, PREFIX)
        elif len(word) >= 3 and word in other:
            best = max(best, INSIDE)
        elif limit and best < TYPO_BASE:
            # A typo in the whole word, or in the part of a longer word typed so far.
            distance = min(typo_distance(word, other, limit),
                           typo_distance(word, other[:len(word)], limit) + 1
                           if len(other) > len(word) + limit else limit + 1)
            if distance <= limit:
                best = max(best, TYPO_BASE - TYPO_STEP * (distance - 1))
    return best


class NearMissScorer:
    """Scores many tracks against one query; a catalog repeats its words, so each (query word,
    track word) pair is judged once."""

    def __init__(self, words: list[str]):
        self.words = words
        self._seen: dict[tuple[str, str], float] = {}

    def _pair(self, word: str, other: str) -> float:
        key = (word, other)
        if key not in self._seen:
            self._seen[key] = _word_score(word, [other])
        return self._seen[key]

    def score(self, *fields: str) -> float | None:
        """0..1 for a track whose fields (title, artist, album, or its search_text) are given,
        or None when some query word is not there even with a typo."""
        if not self.words:
            return None
        text = " ".join(fields)
        target = (text_normalise(text) if not text.isascii() else
                  _NOT_WORD.sub(" ", text.lower()).strip()).split()
        # "acdc" for "AC/DC", "beatles" typed as one word where the catalog has two.
        target = set(target + [a + b for a, b in zip(target, target[1:], strict=False)])
        total = 0.0
        for word in self.words:
            best = max((self._pair(word, other) for other in target), default=0.0)
            if not best:
                return None
            total += best
        return total / len(self.words)


def near_miss_score(words: list[str], *fields: str) -> float | None:
    """How well one track matches the query words (NearMissScorer.score)."""
    return NearMissScorer(words).score(*fields)


def fts_pieces(words: list[str]) -> list[str]:
    """Substrings of the query words, for SQLite to propose candidates that contain any of them.

    One mistake cannot break every 4-letter window of a word of six letters or more, nor every
    3-letter window of a shorter one, so a near miss with one mistake per word is always
    proposed (one with two, usually).
    """
    pieces: list[str] = []
    for word in words:
        if len(word) == 3:
            pieces.append(word)
        elif len(word) > 3:
            size = 3 if len(word) < 6 else 4
            pieces += [word[i:i + size] for i in range(len(word) - size + 1)]
    return list(dict.fromkeys(pieces))[:24]
