"""The demo's music: a few invented artists and albums, rendered and tagged by `synth`.

`make run` writes them (`seed_demo_audio`) and scans them like any library folder, so a new
user can press play at once; nothing here is downloaded or anyone else's. No Django import.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .synth import cover_art, render, write


@dataclass(frozen=True)
class DemoTrack:
    """One invented track of the demo catalog: its tags and how to render it."""

    stem: str
    title: str
    artist: str
    album: str
    albumartist: str
    tracknumber: int
    year: int
    genre: str
    bpm: float
    key: int
    mode: int
    timbre: str
    seed: int
    seconds: float


# Invented artists and albums: (artist, album, year, genre, bpm range, timbres).
_ALBUMS = (
    ("Lumen Drift", "Slow Horizons", 2019, "Ambient", (70, 90), ("pad", "bell")),
    ("The Velvet Ohms", "Warehouse Light", 2021, "House", (120, 128), ("saw", "pluck")),
    ("Kessler Array", "Orbital Decay", 2022, "Techno", (130, 140), ("saw", "organ")),
    ("MC Parallax", "Low End Theory of Everything", 2018, "Hip Hop", (85, 95), ("pluck", "bell")),
    ("Copper Hollow", "Rust & Rivets", 2016, "Rock", (110, 150), ("organ", "pluck")),
    ("Nadia Quill", "Paper Boats", 2020, "Indie Pop", (100, 118), ("pluck", "bell", "pad")),
)
_WORDS = ("Neon Tide Glass Echo Harbor Ember Static Velvet Orbit Meridian Falter Lantern Signal "
          "Cinder Hollow Prism Quiet Engine Paper Mirror Silver North Drift Atlas Fever Bloom "
          "Circuit Willow Ghost Satellite").split()


def demo_catalog(count: int = 36, *, seconds: float = 30.0) -> list[DemoTrack]:
    """`count` invented tracks spread over a few artists/albums, tempos, keys and timbres."""
    rng = np.random.default_rng(2024)
    tracks = []
    per_album: dict[int, int] = {}
    for i in range(count):
        a = i % len(_ALBUMS)
        artist, album, year, genre, (lo, hi), timbres = _ALBUMS[a]
        number = per_album[a] = per_album.get(a, 0) + 1
        words = rng.choice(len(_WORDS), size=2, replace=False)
        title = f"{_WORDS[words[0]]} {_WORDS[words[1]]}"
        stem = f"{artist}-{number:02d}-{title}".lower().replace(" ", "-").replace("&", "and")
        tracks.append(DemoTrack(
            stem=stem, title=title, artist=artist, album=album, albumartist=artist,
            tracknumber=number, year=year, genre=genre,
            bpm=float(rng.integers(lo, hi + 1)), key=int(rng.integers(0, 12)),
            mode=int(rng.integers(0, 2)), timbre=timbres[number % len(timbres)],
            seed=1000 + i, seconds=seconds,
        ))
    return tracks


def write_demo_catalog(
    directory: Path, count: int = 36, seconds: float = 30.0, fmt: str = ".mp3"
) -> list[Path]:
    """Render, encode and tag the demo catalog into `directory`; one cover per album."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    covers: dict[str, bytes] = {}
    paths = []
    for track in demo_catalog(count, seconds=seconds):
        if track.album not in covers:
            covers[track.album] = cover_art(
                seed=len(covers) + 7, text=f"{track.album}\n{track.artist}")
        audio = render(bpm=track.bpm, seconds=track.seconds, key=track.key, mode=track.mode,
                       timbre=track.timbre, seed=track.seed)
        tags = {"title": track.title, "artist": track.artist, "album": track.album,
                "albumartist": track.albumartist, "tracknumber": str(track.tracknumber),
                "discnumber": "1", "date": str(track.year), "genre": track.genre}
        paths.append(write(directory / f"{track.stem}{fmt}", audio, 44100, tags=tags,
                           cover=covers[track.album]))
    return paths
