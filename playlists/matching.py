"""How a listen names a track and how the catalog is looked up by that name: the one home of the
normalisation rule (issue 14). Players, Last.fm and Spotify spell the same recording in many ways
("Beyoncé" / "Beyonce", "Song - Remastered 2011", "Song (feat. X)", "Artist feat. X"); all of them
come down to one `match_key`, stored on every track (Track.match_key) and computed here only.
"""
from __future__ import annotations

import re
import unicodedata

# "feat." and friends, with what follows, in an artist or a title ("Song (feat. X)", "A ft. B").
_FEATURING = re.compile(r"[\(\[]?\s*\b(?:feat\.?|featuring|ft\.?)\s+[^\)\]]*[\)\]]?",
                        re.IGNORECASE)
# Version suffixes after a dash: "Song - Remastered 2011", "Song - 2009 Remaster", "- Live", ...
_VERSION_WORDS = (r"remaster(?:ed)?|re-?master(?:ed)?|remix|mix|version|edit|live|mono|stereo|"
                  r"demo|acoustic|instrumental|deluxe|bonus|single|radio|explicit|clean|mixed")
_DASH_VERSION = re.compile(rf"\s+-\s+[^-]*\b(?:{_VERSION_WORDS})\b.*$", re.IGNORECASE)
# Bracketed versions anywhere: "Song (Remastered)", "Song [Live at X]", "Song (2011 Mix)".
_BRACKET_VERSION = re.compile(rf"\s*[\(\[][^\)\]]*\b(?:{_VERSION_WORDS})\b[^\)\]]*[\)\]]",
                              re.IGNORECASE)
_NOT_WORD = re.compile(r"[^0-9a-z]+")
MAX_KEY = 300


def text_normalise(value: str) -> str:
    """Lowercase ASCII words separated by single spaces: accents, case and punctuation gone."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_text = ascii_text.casefold().replace("&", " and ")
    return _NOT_WORD.sub(" ", ascii_text).strip()


def artist_normalise(artist: str) -> str:
    """The primary artist: featured artists after "feat."/"ft." and after a comma dropped."""
    main = _FEATURING.sub("", artist or "")
    main = main.split(",")[0]
    return text_normalise(main) or text_normalise(artist)


def title_normalise(title: str) -> str:
    """The title without featured artists and version remarks (remasters, live, mixes)."""
    bare = _FEATURING.sub("", title or "")
    bare = _BRACKET_VERSION.sub("", bare)
    bare = _DASH_VERSION.sub("", bare)
    return text_normalise(bare) or text_normalise(title)


def match_key(artist: str, title: str) -> str:
    """`artist|title`, normalised: equal for every spelling of one recording."""
    return f"{artist_normalise(artist)}|{title_normalise(title)}"[:MAX_KEY]


def mbid_external_id(mbid: str) -> str:
    """The `external_id` of the track of a MusicBrainz recording (listens, tagged files)."""
    return f"mbid:{mbid.lower()}"
