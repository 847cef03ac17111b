"""Artist and album pages: the catalog's tracks grouped by who made them and the record they are on.

The catalog has no artist or album rows, only each track's `artist` and `album` text, so both
are found by name, normalised as listens are matched (playlists/matching.py): case, accents,
punctuation and featured artists do not count, so "Beyoncé", "Beyonce" and "Beyoncé feat. X"
are one artist, found through the indexed `match_key` ("<artist>|<title>"). An album is an
artist's tracks with one (normalised) album name: a compilation tagged with an album artist is
shown under each track's own artist. URLs carry slugs (`/artists/the-beatles`,
`/albums/the-beatles/abbey-road`); a name as written (`/artists/The%20Beatles`) finds the same
page, which is how the browser's scripts link without knowing the rule. Names with nothing
left after normalising (not in Latin script) are found by their exact text instead.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import Http404

from .matching import artist_normalise, text_normalise
from .models import Track

MAX_ARTIST_TRACKS = 2000  # read for one page; an artist with more shows their most popular
TOP_TRACKS = 10


def artist_key(name: str) -> str:
    return artist_normalise(name)


def artist_slug(name: str) -> str:
    """The artist part of artist and album URLs."""
    key = artist_key(name)
    return key.replace(" ", "-") if key else name.replace("/", " ").strip()


def album_slug(name: str) -> str:
    key = text_normalise(name)
    return key.replace(" ", "-") if key else name.replace("/", " ").strip()


@dataclass
class Album:
    name: str
    slug: str
    artist_name: str
    artist_slug: str
    tracks: list[Track] = field(default_factory=list)

    @property
    def year(self) -> int | None:
        years = [y for t in self.tracks
                 if isinstance(y := (t.metadata or {}).get("release_year"), int)]
        return max(years) if years else None

    @property
    def cover(self) -> Track | None:
        """The track whose cover stands for the album."""
        return next((t for t in self.tracks if t.has_cover), None)

    @property
    def duration_ms(self) -> int:
        return sum(t.duration_ms or 0 for t in self.tracks)

    @property
    def playable(self) -> int:
        return sum(1 for t in self.tracks if t.has_audio)


@dataclass
class Artist:
    name: str
    slug: str
    track_count: int
    top_tracks: list[Track]
    albums: list[Album]
    loose_tracks: list[Track]  # tracks without an album name

    @property
    def cover(self) -> Track | None:
        return next((a.cover for a in self.albums if a.cover), None) or next(
            (t for t in self.top_tracks if t.has_cover), None)


def _artist_tracks(name: str) -> tuple[QuerySet[Track], str]:
    """(the artist's tracks, most popular first; the key they were found by)."""
    key = artist_key(name)
    tracks = (Track.objects.filter(match_key__startswith=f"{key}|") if key
              else Track.objects.filter(artist__iexact=name.strip()))
    return tracks.order_by("-search_popularity", "id"), key


def _display_name(tracks: list[Track], key: str) -> str:
    """The spelling the tracks use most, preferring the artist alone to "X feat. Y"."""
    alone = [t.artist for t in tracks if not key or text_normalise(t.artist) == key]
    return Counter(alone or [t.artist for t in tracks]).most_common(1)[0][0]


def _album_order(track: Track) -> tuple:
    meta = track.metadata or {}
    disc, number = meta.get("disc_number"), meta.get("track_number")
    numbered = isinstance(number, int)
    return (not numbered, disc if isinstance(disc, int) else 1, number if numbered else 0,
            track.title.casefold(), str(track.id))


def _albums(tracks: list[Track], artist_name: str, slug: str) -> list[Album]:
    groups: dict[str, list[Track]] = {}
    for track in tracks:
        if track.album.strip():
            groups.setdefault(album_slug(track.album), []).append(track)
    albums = []
    for key, members in groups.items():
        members.sort(key=_album_order)
        name = Counter(t.album for t in members).most_common(1)[0][0]
        albums.append(Album(name=name, slug=key, artist_name=artist_name, artist_slug=slug,
                            tracks=members))
    albums.sort(key=lambda a: (-(a.year or 0), a.name.casefold()))
    return albums


def artist_get(*, name: str) -> Artist:
    """The artist page: top tracks, albums, tracks on no album. Http404 for no tracks."""
    query, key = _artist_tracks(name)
    tracks = list(query[:MAX_ARTIST_TRACKS])
    if not tracks:
        raise Http404("No such artist.")
    display = _display_name(tracks, key)
    slug = artist_slug(display) if key else artist_slug(name)
    return Artist(
        name=display, slug=slug, track_count=query.count() if len(tracks) == MAX_ARTIST_TRACKS
        else len(tracks),
        top_tracks=tracks[:TOP_TRACKS], albums=_albums(tracks, display, slug),
        loose_tracks=[t for t in tracks if not t.album.strip()][:50])


def album_get(*, artist: str, album: str) -> Album:
    """One album of an artist, its tracks in album order. Http404 when there is none."""
    query, key = _artist_tracks(artist)
    wanted = album_slug(album)
    tracks = [t for t in query[:MAX_ARTIST_TRACKS] if t.album.strip()
              and album_slug(t.album) == wanted]
    if not tracks:
        raise Http404("No such album.")
    display = _display_name(tracks, key)
    found = _albums(tracks, display, artist_slug(display) if key else artist_slug(artist))
    return found[0]
