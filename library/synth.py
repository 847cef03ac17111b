"""Generated, freely usable audio: rendered, encoded and tagged here for the demo (demo_audio.py)
and the test fixtures of `library`.

Every piece is synthesised from a seed, so the demo carries no third-party rights and the tests
know the true tempo, key and mode of what they analyse. No Django import.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

import numpy as np

TIMBRES = ("pluck", "pad", "organ", "bell", "saw")

# Partial amplitudes (harmonic number -> amplitude), attack/decay in seconds and overall gain.
# The gains differ on purpose: the demo catalog should span a range of loudness and energy.
_RECIPES: dict[str, dict] = {
    "pluck": {"partials": {1: 1.0, 2: 0.5, 3: 0.33, 4: 0.25, 5: 0.2, 6: 0.12}, "attack": 0.004,
              "decay": 0.35, "sustain": False, "gain": 0.55},
    "pad": {"partials": {1: 1.0, 2: 0.35, 3: 0.15, 4: 0.08}, "attack": 0.35, "decay": 0.0,
            "sustain": True, "gain": 0.3},
    "organ": {"partials": {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.5, 6: 0.3, 8: 0.25}, "attack": 0.01,
              "decay": 0.0, "sustain": True, "gain": 0.45},
    "bell": {"partials": {1: 1.0, 2: 0.6, 3: 0.25, 4.2: 0.3, 5.4: 0.12}, "attack": 0.002,
             "decay": 0.9, "sustain": False, "gain": 0.45},
    "saw": {"partials": {k: 1.0 / k for k in range(1, 13)}, "attack": 0.005, "decay": 0.0,
            "sustain": True, "gain": 0.6},
}

# Scale degrees (semitones above the tonic) and a four-bar progression of chord roots as scale
# indices: I-IV-V-I, or i-iv-V-i with harmonic minor's V so the leading tone tells a minor key
# from its relative major. It starts and ends on the tonic so key finders have an easy time.
_SCALES = {1: (0, 2, 4, 5, 7, 9, 11), 0: (0, 2, 3, 5, 7, 8, 10)}
_PROGRESSION = (0, 3, 4, 0)


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _chord(mode: int, degree: int) -> list[int]:
    """Semitone offsets of the triad on a scale degree (minor's V raised to major)."""
    scale = _SCALES[mode]
    notes = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
    if mode == 0 and degree == 4:
        notes[1] += 1  # leading tone of harmonic minor
    return notes


@lru_cache(maxsize=512)
def _note(midi: float, n: int, timbre: str, samplerate: int) -> np.ndarray:
    """One enveloped note; cached because chords and melody notes repeat every few bars."""
    recipe = _RECIPES[timbre]
    t = np.arange(n, dtype=np.float64) / samplerate
    f0 = _midi_hz(midi)
    wave = np.zeros(n)
    nyquist = samplerate / 2
    for ratio, amp in recipe["partials"].items():
        if f0 * ratio < nyquist * 0.9:
            wave += amp * np.sin(2 * np.pi * f0 * ratio * t)
    attack = min(n, max(1, int(recipe["attack"] * samplerate)))
    env = np.ones(n)
    env[:attack] = np.linspace(0.0, 1.0, attack)
    if recipe["sustain"]:
        release = min(n, int(0.05 * samplerate))
        env[n - release :] *= np.linspace(1.0, 0.0, release)
    else:
        env *= np.exp(-t / recipe["decay"])
        env[-min(n, 64) :] *= np.linspace(1.0, 0.0, min(n, 64))  # no click at the cut
    out = (wave * env).astype(np.float32)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=8)
def _kick(samplerate: int) -> np.ndarray:
    n = int(0.18 * samplerate)
    t = np.arange(n) / samplerate
    freq = 45.0 + 110.0 * np.exp(-t / 0.03)  # pitch sweep: the classic drum-machine kick
    phase = 2 * np.pi * np.cumsum(freq) / samplerate
    body = np.sin(phase) * np.exp(-t / 0.06)
    click = np.exp(-t / 0.002)  # sharp transient: what onset detectors lock onto
    return (0.9 * body + 0.35 * click).astype(np.float32)


def _place(out: np.ndarray, start: int, sound: np.ndarray, gain: float) -> None:
    end = min(len(out), start + len(sound))
    if start < end:
        out[start:end] += gain * sound[: end - start]


def click_track(*, bpm: float, seconds: float, samplerate: int = 44100) -> np.ndarray:
    """Pure clicks (short decaying 1 kHz bursts) on every beat at exactly `bpm`."""
    n = int(round(seconds * samplerate))
    out = np.zeros(n, dtype=np.float32)
    m = int(0.02 * samplerate)
    t = np.arange(m) / samplerate
    click = (np.sin(2 * np.pi * 1000.0 * t) * np.exp(-t / 0.004)).astype(np.float32)
    period = 60.0 * samplerate / bpm
    for i in range(int(n / period) + 1):
        _place(out, int(round(i * period)), click, 0.8)
    return out


def render(
    *,
    bpm: float,
    seconds: float,
    key: int = 9,
    mode: int = 0,
    timbre: str = "pluck",
    seed: int = 0,
    samplerate: int = 44100,
) -> np.ndarray:
    """A short piece: kick on every beat at `bpm`, bass, chords and melody in `key`/`mode`."""
    if timbre not in _RECIPES:
        raise ValueError(f"unknown timbre {timbre!r}; choose from {', '.join(TIMBRES)}")
    if mode not in (0, 1) or not 0 <= key <= 11:
        raise ValueError("key must be 0..11 and mode 0 (minor) or 1 (major)")
    rng = np.random.default_rng(seed)
    n = int(round(seconds * samplerate))
    out = np.zeros(n, dtype=np.float32)
    beat = 60.0 * samplerate / bpm
    tonic = 48 + key  # C3..B3: chords sit in the range HPCP weighs most
    gain = _RECIPES[timbre]["gain"]
    kick = _kick(samplerate)
    snare = (rng.standard_normal(int(0.12 * samplerate)) * np.exp(
        -np.arange(int(0.12 * samplerate)) / (0.03 * samplerate))).astype(np.float32)
    scale = _SCALES[mode]
    bar_len = int(round(4 * beat))
    beat_len = int(round(beat))
    eighth = int(round(beat / 2))
    beats = int(n / beat) + 1
    for b in range(beats):
        start = int(round(b * beat))
        _place(out, start, kick, 0.8)
        if b % 4 in (1, 3) and timbre != "pad":
            _place(out, start, snare, 0.25)
        bar = b // 4
        degree = _PROGRESSION[bar % len(_PROGRESSION)]
        chord = _chord(mode, degree)
        if not _RECIPES[timbre]["sustain"]:
            # Decaying timbres restrike the chord on every beat: the third must stay audible.
            for offset in chord:
                _place(out, start, _note(tonic + offset, beat_len, timbre, samplerate), gain * 0.4)
        if b % 4:
            continue
        if _RECIPES[timbre]["sustain"]:
            for offset in chord:
                _place(out, start, _note(tonic + offset, bar_len, timbre, samplerate), gain * 0.4)
        _place(out, start, _note(tonic - 12 + chord[0], bar_len, "organ", samplerate), 0.2)
        # Melody: eighth notes from the chord (mostly) and the scale, an octave above the chord.
        for k in range(8):
            if rng.random() < 0.3:
                continue
            pool = chord if rng.random() < 0.7 else list(scale)
            pitch = tonic + 12 + int(rng.choice(pool)) % 12
            _place(out, start + k * eighth, _note(pitch, eighth, timbre, samplerate), gain * 0.25)
    peak = float(np.max(np.abs(out))) or 1.0
    # Normalise to a per-timbre peak so loudness differs by timbre but never clips.
    return np.clip(out * (0.3 + gain) / peak, -1.0, 1.0).astype(np.float32)


def cover_art(*, seed: int, text: str, size: int = 600) -> bytes:
    """A generated PNG cover: a two-colour gradient, a few circles and the `text`."""
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    c1, c2 = rng.integers(20, 236, size=(2, 3))
    ramp = np.linspace(0.0, 1.0, size)[:, None, None]
    grid = (c1 * (1 - ramp) + c2 * ramp).astype(np.uint8)
    img = Image.fromarray(np.repeat(grid, size, axis=1), "RGB")
    draw = ImageDraw.Draw(img, "RGBA")
    for _ in range(5):
        x, y = rng.integers(0, size, 2)
        r = int(rng.integers(size // 12, size // 3))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3)) + (110,)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    font = ImageFont.load_default(size=max(12, size // 14))
    draw.rectangle((0, size * 3 // 4, size, size), fill=(0, 0, 0, 140))
    draw.text((size // 20, size * 3 // 4 + size // 16), text, fill=(255, 255, 255), font=font)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False)
    return buf.getvalue()


def _cover_mime(cover: bytes) -> str:
    return "image/png" if cover[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"


def _encode(path: Path, audio: np.ndarray, samplerate: int) -> None:
    suffix = path.suffix.lower()
    if suffix == ".m4a":
        _encode_aac(path, audio, samplerate)
        return
    import soundfile as sf

    formats = {
        ".mp3": ("MP3", "MPEG_LAYER_III"),
        ".flac": ("FLAC", "PCM_16"),
        ".ogg": ("OGG", "VORBIS"),
        ".opus": ("OGG", "OPUS"),
        ".wav": ("WAV", "PCM_16"),
    }
    if suffix not in formats:
        raise ValueError(f"cannot write {suffix!r}; use one of {', '.join(formats)}, .m4a")
    if suffix == ".opus" and samplerate != 48000:
        audio, samplerate = _resample(audio, samplerate, 48000), 48000  # Opus runs at 48 kHz only
    fmt, subtype = formats[suffix]
    sf.write(str(path), audio, samplerate, format=fmt, subtype=subtype)


def _resample(audio: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Linear-interpolation resampling: fine for test tones, not for hi-fi."""
    n = int(round(len(audio) * dst / src))
    return np.interp(np.arange(n) * src / dst, np.arange(len(audio)), audio).astype(np.float32)


def _encode_aac(path: Path, audio: np.ndarray, samplerate: int) -> None:
    import av  # dev-only dependency: only the fixtures and the demo catalog write M4A

    with av.open(str(path), "w", format="ipod") as container:
        stream = container.add_stream("aac", rate=samplerate, layout="mono")
        stream.bit_rate = 96_000
        frame_size = 1024
        pts = 0
        for start in range(0, len(audio), frame_size):
            chunk = np.ascontiguousarray(audio[start : start + frame_size], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            frame.sample_rate = samplerate
            frame.pts = pts
            pts += len(chunk)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def _tag_id3(tags_obj, tags: dict, cover: bytes | None) -> None:
    from mutagen import id3

    frames = {"title": id3.TIT2, "artist": id3.TPE1, "album": id3.TALB, "albumartist": id3.TPE2,
              "tracknumber": id3.TRCK, "discnumber": id3.TPOS, "date": id3.TDRC,
              "genre": id3.TCON}
    for key, frame in frames.items():
        if tags.get(key) not in (None, ""):
            tags_obj.add(frame(encoding=3, text=[str(tags[key])]))
    # Picard: the recording id in UFID, the other MusicBrainz ids in TXXX frames.
    if tags.get("musicbrainz_trackid"):
        tags_obj.add(id3.UFID(owner="http://musicbrainz.org",
                              data=str(tags["musicbrainz_trackid"]).encode("ascii")))
    for key, desc in (("musicbrainz_albumid", "MusicBrainz Album Id"),
                      ("musicbrainz_artistid", "MusicBrainz Artist Id")):
        if tags.get(key):
            tags_obj.add(id3.TXXX(encoding=3, desc=desc, text=[str(tags[key])]))
    if cover:
        tags_obj.add(id3.APIC(encoding=3, mime=_cover_mime(cover), type=id3.PictureType.COVER_FRONT,
                              desc="Cover", data=cover))


def _flac_picture(cover: bytes):
    from mutagen.flac import Picture
    from PIL import Image

    pic = Picture()
    pic.type = 3  # front cover
    pic.mime = _cover_mime(cover)
    pic.desc = "Cover"
    with Image.open(io.BytesIO(cover)) as img:
        pic.width, pic.height = img.size
        pic.depth = 24
    pic.data = cover
    return pic


_VORBIS_KEYS = ("title", "artist", "album", "albumartist", "tracknumber", "discnumber", "date",
                "genre", "musicbrainz_trackid", "musicbrainz_albumid", "musicbrainz_artistid")


def _tag(path: Path, tags: dict, cover: bytes | None) -> None:
    suffix = path.suffix.lower()
    if suffix in (".mp3", ".wav"):
        import mutagen

        audio = mutagen.File(path)
        if audio.tags is None:
            audio.add_tags()
        _tag_id3(audio.tags, tags, cover)
        if suffix == ".mp3":
            audio.save(v2_version=4)
        else:
            audio.save()
    elif suffix == ".m4a":
        from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm

        audio = MP4(path)
        atoms = {"title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb",
                 "albumartist": "aART", "date": "\xa9day", "genre": "\xa9gen"}
        for key, atom in atoms.items():
            if tags.get(key) not in (None, ""):
                audio[atom] = [str(tags[key])]
        for key, atom in (("tracknumber", "trkn"), ("discnumber", "disk")):
            if tags.get(key) not in (None, ""):
                num, _, total = str(tags[key]).partition("/")
                audio[atom] = [(int(num), int(total or 0))]
        for key, name in (("musicbrainz_trackid", "MusicBrainz Track Id"),
                          ("musicbrainz_albumid", "MusicBrainz Album Id"),
                          ("musicbrainz_artistid", "MusicBrainz Artist Id")):
            if tags.get(key):
                audio[f"----:com.apple.iTunes:{name}"] = [
                    MP4FreeForm(str(tags[key]).encode("utf-8"))]
        if cover:
            kind = (MP4Cover.FORMAT_PNG if _cover_mime(cover) == "image/png"
                    else MP4Cover.FORMAT_JPEG)
            audio["covr"] = [MP4Cover(cover, imageformat=kind)]
        audio.save()
    else:  # FLAC, Ogg Vorbis, Ogg Opus: Vorbis comments, Picard's upper-case names
        import mutagen

        audio = mutagen.File(path)
        if audio.tags is None:
            audio.add_tags()
        for key in _VORBIS_KEYS:
            if tags.get(key) not in (None, ""):
                audio[key.upper()] = [str(tags[key])]
        if cover:
            pic = _flac_picture(cover)
            if suffix == ".flac":
                audio.add_picture(pic)
            else:
                audio["METADATA_BLOCK_PICTURE"] = [base64.b64encode(pic.write()).decode("ascii")]
        audio.save()


def write(
    path: Path,
    audio: np.ndarray,
    samplerate: int,
    *,
    tags: dict | None = None,
    cover: bytes | None = None,
) -> Path:
    """Encode `audio` in the format named by the suffix, then tag it (and embed `cover`)."""
    path = Path(path)
    _encode(path, np.asarray(audio, dtype=np.float32), samplerate)
    if tags or cover:
        _tag(path, tags or {}, cover)
    return path
