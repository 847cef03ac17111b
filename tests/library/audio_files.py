"""Generated, tagged audio files for the library tests (library/synth.py makes the sound)."""
from __future__ import annotations

from pathlib import Path

from library import synth


def make_audio(path: Path, *, title="Harbor Lights", artist="Copper Hollow", album="Rust",
               seconds=4.0, bpm=120.0, seed=1, cover: bool = True, **extra) -> Path:
    """A tagged audio file at `path` (format from its suffix)."""
    tags = {"title": title, "artist": artist, "album": album, "albumartist": artist,
            "tracknumber": "3", "discnumber": "1", "date": "2016", "genre": "Rock", **extra}
    art = synth.cover_art(seed=seed, text=album, size=200) if cover else None
    audio = synth.render(bpm=bpm, seconds=seconds, seed=seed, samplerate=22050)
    path.parent.mkdir(parents=True, exist_ok=True)
    return synth.write(path, audio, 22050, tags={k: v for k, v in tags.items() if v},
                       cover=art)
