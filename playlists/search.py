"""Catalog search and browsing: which tracks match, in what order, and how many there are.

A track matches when every word of the query is part of its title, artist or album
(`Track.search_text`, case-insensitive; a trigram index serves it on both databases,
playlists/search_indexes.py). Matches are ranked in tiers, then by popularity:

  0. the whole query is the title or the artist ("golden" finds the song "Golden" first);
  1. every word starts a word of the title or the artist ("gold" in "Golden Hour");
  2. every word starts a word, some only in the album ("gold" in the album "Golden Days");
  3. the rest ("olden" in "Golden Hour").

With no query the catalog is browsed most popular first. When fewer than NEAR_MISS_BELOW tracks
match, near misses (a typo: "radiohed", "beatels") follow the matches, best first
(playlists/fuzzy.py decides; the database proposes candidates).

Up to COUNT_CAP matches are all read (id, search_text, popularity), counted exactly and ranked
here. Past that the count is COUNT_CAP with `count_capped` set (shown as "1,000+": counting the
60,000 tracks of a common word costs more than the whole answer may, p95 < 50 ms over a million
tracks, SPEC §7), and the order is: tier 0 (from the title and artist indexes), then the
RANK_WINDOW most popular other matches ranked by tier, then every other match by popularity.
Every result stays reachable: pages go on past the cap for as long as they hold tracks.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from . import fuzzy, search_indexes
from .matching import text_normalise
from .models import Track

COUNT_CAP = 1000
RANK_WINDOW = 100  # five pages ranked by tier even when a word matches half the catalog
EXACT_LIMIT = 1000  # a "title" shared by more tracks than this is no answer in itself
NEAR_MISS_BELOW = 5
NEAR_MISS_CANDIDATES = 300
NEAR_MISS_LIMIT = 100
# pg_trgm similarity from which the vocabulary proposes a correction (fuzzy.py then decides).
PG_SIMILARITY_FLOOR = 0.3
MAX_WORDS = 16
RANK_ORDER = ("-search_popularity", "id")


@dataclass
class TrackResults:
    """Ranked tracks as a paginator wants them: a count and slices, read one page at a time."""

    count_value: int
    count_capped: bool
    fetch: Callable[[int, int], list[Track]]
    near_misses: bool = False
    # How many of them match as typed (the rest are near misses); all of them unless near_misses.
    exact_count: int | None = None
    ordered: bool = field(default=True, init=False)  # read by Django's Paginator

    def __post_init__(self) -> None:
        if self.exact_count is None:
            self.exact_count = self.count_value

    def count(self) -> int:
        return self.count_value

    @property
    def known_count(self) -> int:
        return self.count_value

    def __len__(self) -> int:
        return self.count_value

    def __getitem__(self, key: slice) -> list[Track]:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("TrackResults takes slices only")
        start, stop = key.start or 0, key.stop
        if stop is None or stop <= start:
            return []
        return self.fetch(start, stop)


def _tracks_in_order(ids: Sequence) -> list[Track]:
    found = Track.objects.in_bulk(list(ids))
    return [found[i] for i in ids if i in found]


def _listed(ids: list, *, exact_count: int | None = None) -> TrackResults:
    near = exact_count is not None and exact_count < len(ids)
    return TrackResults(count_value=len(ids), count_capped=False, near_misses=near,
                        exact_count=exact_count if near else len(ids),
                        fetch=lambda start, stop: _tracks_in_order(ids[start:stop]))


# ---------------------------------------------------------------------------- the query


def query_phrase(q: str) -> str:
    """The query as search_text spells things: lowercase, single spaces."""
    return " ".join(q.lower().split()[:MAX_WORDS])


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _matching(phrase: str) -> Q:
    """Every word of the phrase is somewhere in the track's search_text."""
    words = phrase.split(" ")
    condition = Q()
    if connection.vendor == "sqlite" and search_indexes.sqlite_fts_ready():
        # FTS5's trigram index finds words of three letters or more; shorter ones are checked
        # on the rows it found.
        indexed = [w for w in words if len(w) >= 3]
        if indexed:
            table, keys = search_indexes.FTS_TABLE, search_indexes.FTS_KEYS
            condition &= Q(id__in=RawSQL(
                f"SELECT k.track_id FROM {table} JOIN {keys} k ON k.id = {table}.rowid "
                f"WHERE {table} MATCH %s", [" AND ".join(_fts_phrase(w) for w in indexed)]))
        words = [w for w in words if len(w) < 3]
    for word in words:
        condition &= Q(search_text__contains=word)
    return condition


def tier_of(phrase: str, search_text: str) -> int:
    """The tier (module docstring) of a match, from its search_text " title | artist | album "."""
    if search_text.startswith(f" {phrase} | ") or f" | {phrase} | " in search_text:
        return 0
    before_album = search_text[:search_text.rfind(" | ")]
    words = phrase.split(" ")
    if all(f" {w}" in before_album for w in words):
        return 1
    return 2 if all(f" {w}" in search_text for w in words) else 3


def _ranked(phrase: str, rows: list[tuple]) -> list:
    """Ids of (id, search_text, popularity) rows by tier, then popularity, then id."""
    return [row[0] for row in sorted(
        rows, key=lambda r: (tier_of(phrase, r[1]), -r[2], str(r[0])))]


# ---------------------------------------------------------------------------- the selector


def track_search(*, q: str = "", artist: str = "", genre: str = "",
                 playable: bool = False) -> TrackResults:
    """Tracks matching a free-text query and the exact artist/genre filters, ranked (see the
    module docstring); `playable`: only tracks with audio on this server."""
    tracks = Track.objects.all()
    if artist:
        tracks = tracks.filter(artist__iexact=artist)
    if genre:
        tracks = tracks.filter(genre=genre.lower())
    if playable:
        tracks = tracks.filter(has_audio=True)
    phrase = query_phrase(q)
    if not phrase:
        count = tracks.order_by()[:COUNT_CAP + 1].count()
        browse = tracks.order_by(*RANK_ORDER)
        return TrackResults(count_value=min(count, COUNT_CAP), count_capped=count > COUNT_CAP,
                            fetch=lambda start, stop: list(browse[start:stop]))

    matches = tracks.filter(_matching(phrase))
    # In no order: the database stops reading at the cap instead of ranking every match.
    rows = list(matches.order_by().values_list("id", "search_text", "search_popularity")
                [:COUNT_CAP + 1])
    if len(rows) <= COUNT_CAP:
        ranked = _ranked(phrase, rows)
        words = fuzzy.query_words(phrase)
        if len(ranked) < NEAR_MISS_BELOW and any(fuzzy.allowed_typos(w) for w in words):
            near = _near_misses(tracks, words, exclude=set(ranked))
            return _listed(ranked + near, exact_count=len(ranked))
        return _listed(ranked)
    return _many_matches(matches, phrase)


def _many_matches(matches: QuerySet[Track], phrase: str) -> TrackResults:
    """More matches than COUNT_CAP: tier 0, then the RANK_WINDOW most popular others ranked by
    tier, then the rest by popularity."""
    # Tier 0 from the title and artist indexes (the popular rows need not hold it all). Sorted
    # here: ORDER BY popularity would tempt the planner to walk the popularity index looking
    # for these few rows instead of asking the two small indexes.
    named = matches.filter(Q(title__iexact=phrase) | Q(artist__iexact=phrase)).order_by()
    exact_rows = [row for row in named.values_list("id", "search_text", "search_popularity")
                  [:EXACT_LIMIT + 1] if tier_of(phrase, row[1]) == 0]
    exact = [row[0] for row in sorted(exact_rows, key=lambda r: (-r[2], str(r[0])))]
    whole = (Q(search_text__startswith=f" {phrase} | ")
             | Q(search_text__contains=f" | {phrase} | "))
    if len(exact_rows) > EXACT_LIMIT:
        exact, whole = [], Q(pk__in=[])  # a "title" this common is no answer in itself
    # Tier 0 is told by search_text here, which the popularity index carries: the planner
    # walks it for a common word without reading a table row it skips.
    others = matches.exclude(whole).order_by(*RANK_ORDER)
    window: list = []  # read when a page reaches past tier 0 (a whole title often fills it)

    def fetch(start: int, stop: int) -> list[Track]:
        if stop <= len(exact):
            return _tracks_in_order(exact[start:stop])
        if not window:
            window.append(_ranked(phrase, list(
                others.values_list("id", "search_text", "search_popularity")[:RANK_WINDOW])))
        head = exact + window[0]
        tracks = _tracks_in_order(head[start:stop])
        if stop > len(head):
            skip = len(window[0]) + max(0, start - len(head))
            tracks += list(others[skip:len(window[0]) + stop - len(head)])
        return tracks

    return TrackResults(count_value=COUNT_CAP, count_capped=True, fetch=fetch)


# ---------------------------------------------------------------------------- near misses


def _corrections(words: list[str]) -> list[list[str]]:
    """PostgreSQL: each query word with the catalog's words it may be a typo of, closest first
    (the vocabulary's trigram index proposes, fuzzy.typo_distance decides)."""
    alternatives = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [PG_SIMILARITY_FLOOR])
        for word in words:
            limit = fuzzy.allowed_typos(word)
            found: list[tuple[int, str]] = []
            if limit:
                cursor.execute(f"SELECT word FROM {search_indexes.WORDS_TABLE} "
                               "WHERE word %% %s ORDER BY word <-> %s, word LIMIT 50",
                               [word, word])
                for (other,) in cursor.fetchall():
                    # Compared without accents: "beyonce" corrects to "beyoncé" at distance 0.
                    plain = text_normalise(other).replace(" ", "")
                    distance = fuzzy.typo_distance(word, plain, limit)
                    if other != word and distance <= limit:
                        found.append((distance, other))
            alternatives.append([word] + [other for _, other in sorted(found)[:5]])
    return alternatives


def _near_miss_candidates(tracks: QuerySet[Track], words: list[str]) -> QuerySet:
    """Tracks the database thinks are close to the query: a superset for fuzzy.py to judge."""
    if connection.vendor == "postgresql":
        condition = Q()
        for options in _corrections(words):
            any_option = Q()
            for option in options:
                any_option |= Q(search_text__contains=option)
            condition &= any_option
        # Popular ones first: a common word's typo has thousands of near misses.
        return tracks.filter(condition).order_by(*RANK_ORDER)
    pieces = fuzzy.fts_pieces(words)
    if not pieces:
        return tracks.none()
    if search_indexes.sqlite_fts_ready():
        table, keys = search_indexes.FTS_TABLE, search_indexes.FTS_KEYS
        proposed = RawSQL(
            f"SELECT k.track_id FROM (SELECT rowid FROM {table} WHERE {table} MATCH %s "
            f"ORDER BY rank LIMIT %s) f JOIN {keys} k ON k.id = f.rowid",
            [" OR ".join(_fts_phrase(p) for p in pieces), NEAR_MISS_CANDIDATES])
        return tracks.filter(id__in=proposed).order_by()
    any_piece = Q()
    for piece in pieces:
        any_piece |= Q(search_text__contains=piece)
    return tracks.filter(any_piece).order_by()


def _near_misses(tracks: QuerySet[Track], words: list[str], *, exclude: set) -> list:
    """Ids of the near misses of the phrase, best first, at most NEAR_MISS_LIMIT."""
    # search_text, not the three fields: the popularity index carries it.
    candidates = list(_near_miss_candidates(tracks, words)
                      .values_list("id", "search_text", "search_popularity")[:NEAR_MISS_CANDIDATES])
    scorer = fuzzy.NearMissScorer(words)
    scored = []
    for track_id, search_text, popularity in candidates:
        if track_id in exclude:
            continue
        score = scorer.score(search_text)
        if score is not None:
            scored.append((-score, -popularity, str(track_id), track_id))
    return [row[-1] for row in sorted(scored)[:NEAR_MISS_LIMIT]]
