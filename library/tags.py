"""What an audio file says about itself: tags, stream facts and embedded cover, plus thumbnails.

Tags are read the way MusicBrainz Picard writes them (ID3 for MP3/WAV, Vorbis comments for
FLAC/Ogg/Opus, iTunes atoms for MP4), so a Picard-tagged library reads back faithfully. The
recording id is Picard's `musicbrainz_recordingid`: ID3 UFID "http://musicbrainz.org", Vorbis
MUSICBRAINZ_TRACKID, MP4 "----:com.apple.iTunes:MusicBrainz Track Id". No Django import.
"""

from __future__ import annotations

import base64
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

# 8000 x 8000: far above any real cover scan, far below what would exhaust a web worker's memory.
COVER_MAX_PIXELS = 64_000_000
THUMBNAIL_SIZES = {"small": 96, "large": 512}

SUFFIXES = frozenset({".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".wav"})

# format -> MIME type a browser's <audio> accepts (canPlayType and Content-Type). Ogg Opus says
# its codec: "audio/opus" is the RTP payload type, not a file type browsers are asked about.
MIMES = {
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg; codecs=opus",
    "m4a": "audio/mp4",
    "wav": "audio/wav",
}


class UnreadableAudio(Exception):  # noqa: N818 - reads as what the file is
    """The file is not audio the library can play: `reason` says why, in words for a user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BadCover(Exception):  # noqa: N818
    """An embedded or uploaded cover that cannot be decoded safely."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AudioInfo:
    """Tags and stream facts of one file; missing text tags are "" and missing numbers None."""

    title: str
    artist: str
    album: str
    albumartist: str
    tracknumber: int | None
    discnumber: int | None
    year: int | None
    genre: str
    musicbrainz_recordingid: str
    musicbrainz_albumid: str
    musicbrainz_artistid: str
    duration_ms: int
    format: str
    mime: str
    samplerate: int
    channels: int
    bitrate: int | None
    cover: bytes | None


def _number(value) -> int | None:
    """ "3/12" -> 3, "03" -> 3, (3, 12) -> 3; None when there is no leading number."""
    if isinstance(value, tuple):
        value = value[0] if value else None
    if value is None:
        return None
    if isinstance(value, int):
        return value or None
    m = re.match(r"\s*(\d+)", str(value))
    return int(m.group(1)) or None if m else None


def _year(value) -> int | None:
    """ "2011-05-01" -> 2011, "2011" -> 2011; None when no plausible year is found."""
    m = re.search(r"(?<!\d)(\d{4})(?!\d)", str(value or ""))
    return int(m.group(1)) if m and 1000 <= int(m.group(1)) <= 2999 else None


def _text(values, *, join: bool = False) -> str:
    """First value (or all joined with "; " for artists) of a tag, stripped; "" if absent."""
    if values is None:
        return ""
    if isinstance(values, (str, bytes)):
        values = [values]
    out = []
    for v in values:
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        v = str(v).strip().strip("\x00")
        if v:
            out.append(v)
    if not out:
        return ""
    return "; ".join(out) if join else out[0]


def _from_id3(tags) -> tuple[dict, bytes | None]:
    def frame_text(key: str, *, join: bool = False) -> str:
        frame = tags.get(key)
        return _text(getattr(frame, "text", None), join=join) if frame else ""

    genre = tags.get("TCON")
    ufid = tags.get("UFID:http://musicbrainz.org")
    recording = ufid.data.decode("ascii", "replace") if ufid else ""
    info = {
        "title": frame_text("TIT2"),
        "artist": frame_text("TPE1", join=True),
        "album": frame_text("TALB"),
        "albumartist": frame_text("TPE2", join=True),
        "tracknumber": _number(frame_text("TRCK")),
        "discnumber": _number(frame_text("TPOS")),
        "year": _year(frame_text("TDRC") or frame_text("TDOR") or frame_text("TYER")),
        # TCON.genres resolves ID3v1 numeric references such as "(17)".
        "genre": _text(genre.genres) if genre else "",
        # Some older taggers wrote the recording id as TXXX instead of Picard's UFID.
        "musicbrainz_recordingid": recording.strip("\x00")
        or frame_text("TXXX:MusicBrainz Track Id"),
        "musicbrainz_albumid": frame_text("TXXX:MusicBrainz Album Id"),
        "musicbrainz_artistid": frame_text("TXXX:MusicBrainz Artist Id"),
    }
    pictures = tags.getall("APIC")
    front = [p for p in pictures if p.type == 3]
    cover = (front or pictures)[0].data if pictures else None
    return info, cover


def _from_vorbis(audio) -> tuple[dict, bytes | None]:
    tags = audio.tags
    data: dict[str, list[str]] = {}
    for key, value in tags or []:
        data.setdefault(key.lower(), []).append(value)

    def get(*keys: str, join: bool = False) -> str:
        for key in keys:
            if data.get(key):
                return _text(data[key], join=join)
        return ""

    info = {
        "title": get("title"),
        "artist": get("artist", join=True),
        "album": get("album"),
        "albumartist": get("albumartist", "album artist", "album_artist", join=True),
        "tracknumber": _number(get("tracknumber", "track")),
        "discnumber": _number(get("discnumber", "disc")),
        "year": _year(get("date", "originaldate", "year")),
        "genre": get("genre"),
        "musicbrainz_recordingid": get("musicbrainz_trackid"),
        "musicbrainz_albumid": get("musicbrainz_albumid"),
        "musicbrainz_artistid": get("musicbrainz_artistid"),
    }
    pictures = list(getattr(audio, "pictures", []) or [])
    if not pictures:
        from mutagen.flac import Picture

        for b64 in data.get("metadata_block_picture", []):
            try:
                pictures.append(Picture(base64.b64decode(b64)))
            except Exception:  # noqa: BLE001 - one bad picture must not hide the tags
                continue
    front = [p for p in pictures if p.type == 3]
    cover = (front or pictures)[0].data if pictures else None
    if cover is None and data.get("coverart"):  # pre-2009 unofficial base64 field
        try:
            cover = base64.b64decode(data["coverart"][0])
        except ValueError:
            cover = None
    return info, cover


def _from_mp4(tags) -> tuple[dict, bytes | None]:
    def get(key: str, *, join: bool = False) -> str:
        return _text(tags.get(key), join=join)

    def number(key: str) -> int | None:
        values = tags.get(key)
        return _number(values[0]) if values else None

    genre = get("\xa9gen")
    if not genre and tags.get("gnre"):  # iTunes numeric genre: ID3v1 index + 1
        from mutagen.id3 import TCON

        genre = _text(TCON(text=[f"({int(tags['gnre'][0]) - 1})"]).genres)
    freeform = "----:com.apple.iTunes:"
    info = {
        "title": get("\xa9nam"),
        "artist": get("\xa9ART", join=True),
        "album": get("\xa9alb"),
        "albumartist": get("aART", join=True),
        "tracknumber": number("trkn"),
        "discnumber": number("disk"),
        "year": _year(get("\xa9day")),
        "genre": genre,
        "musicbrainz_recordingid": get(freeform + "MusicBrainz Track Id"),
        "musicbrainz_albumid": get(freeform + "MusicBrainz Album Id"),
        "musicbrainz_artistid": get(freeform + "MusicBrainz Artist Id"),
    }
    covers = tags.get("covr") or []
    return info, bytes(covers[0]) if covers else None


_EMPTY = {
    "title": "", "artist": "", "album": "", "albumartist": "", "tracknumber": None,
    "discnumber": None, "year": None, "genre": "", "musicbrainz_recordingid": "",
    "musicbrainz_albumid": "", "musicbrainz_artistid": "",
}


def _format_of(audio) -> str:
    name = type(audio).__name__
    formats = {"MP3": "mp3", "EasyMP3": "mp3", "FLAC": "flac", "OggVorbis": "ogg",
               "OggFLAC": "ogg", "OggOpus": "opus", "MP4": "m4a", "EasyMP4": "m4a",
               "WAVE": "wav"}
    if name not in formats:
        raise UnreadableAudio(
            f"{name} audio is not supported; use MP3, FLAC, Ogg, Opus, M4A or WAV"
        )
    return formats[name]


def _check_complete(path: Path, fmt: str, length: float) -> None:
    """Decode the last second: headers survive truncation, the missing audio does not."""
    if fmt not in ("flac", "wav", "ogg", "opus"):
        return  # MP3 and AAC decoders resync past damage; headers are all we check there
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            if f.frames <= 0:
                raise UnreadableAudio("no audio stream")
            if f.frames / f.samplerate < length - 0.5:
                # libsndfile trusts the data it finds; the header promised more.
                raise UnreadableAudio(
                    "the file is cut short: its audio ends before its header says"
                )
            tail = min(f.frames, f.samplerate)
            f.seek(f.frames - tail)
            got = f.read(tail, dtype="float32")
    except UnreadableAudio:
        raise
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise UnreadableAudio(f"the audio data is damaged or cut short ({exc})") from exc
    if len(got) < tail:
        raise UnreadableAudio("the file is cut short: its audio ends before its header says")


def read(path: Path) -> AudioInfo:
    """Tags, stream facts and cover of `path`; raises UnreadableAudio when it is not playable."""
    import mutagen

    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise UnreadableAudio("the file is empty")
    try:
        audio = mutagen.File(path)
    except OSError as exc:
        if not path.is_file():
            raise UnreadableAudio(f"cannot open the file: {exc.strerror or exc}") from exc
        return _stream_only(path, _explain(path, exc))
    except Exception as exc:  # noqa: BLE001 - mutagen raises odd things on crafted files
        # Broken tags make mutagen give up on the whole file; the audio may still decode.
        return _stream_only(path, _explain(path, exc))
    if audio is None:
        raise UnreadableAudio("not an audio file mutagen recognises")
    fmt = _format_of(audio)
    info = audio.info
    length = getattr(info, "length", 0) or 0
    if not length or length != length:  # 0, None or NaN
        raise UnreadableAudio("no audio stream")
    _check_complete(path, fmt, length)
    try:
        if audio.tags is None:
            fields, cover = dict(_EMPTY), None
        elif fmt in ("mp3", "wav"):
            fields, cover = _from_id3(audio.tags)
        elif fmt == "m4a":
            fields, cover = _from_mp4(audio.tags)
        else:
            fields, cover = _from_vorbis(audio)
    except Exception:  # noqa: BLE001 - unreadable tags: the audio still plays, use the filename
        fields, cover = dict(_EMPTY), None
    bitrate = getattr(info, "bitrate", None) or None
    if bitrate is None and fmt in ("flac", "wav"):
        bitrate = int(path.stat().st_size * 8 / length)  # the lossless average the player shows
    return AudioInfo(
        **fields,
        duration_ms=int(round(length * 1000)),
        format=fmt,
        mime=MIMES[fmt],
        # Opus always decodes at 48 kHz (mutagen only knows the encoder's input rate).
        samplerate=48000 if fmt == "opus" else int(getattr(info, "sample_rate", 0) or 0),
        channels=int(getattr(info, "channels", 0) or 0),
        bitrate=int(bitrate) if bitrate else None,
        cover=cover or None,
    )


def _stream_only(path: Path, reason: str) -> AudioInfo:
    """Stream facts without tags, from libsndfile, for files whose tags mutagen cannot parse."""
    import soundfile as sf

    formats = {"MP3": "mp3", "FLAC": "flac", "WAV": "wav", "WAVEX": "wav", "OGG": "ogg"}
    try:
        info = sf.info(str(path))
    except Exception as exc:  # noqa: BLE001 - libsndfile cannot read it either: mutagen was right
        raise UnreadableAudio(reason) from exc
    fmt = formats.get(info.format)
    if fmt is None:
        raise UnreadableAudio(reason)
    if fmt == "ogg" and info.subtype == "OPUS":
        fmt = "opus"
    if info.frames <= 0 or info.samplerate <= 0:
        raise UnreadableAudio("no audio stream")
    return AudioInfo(
        **_EMPTY,
        duration_ms=int(round(info.frames * 1000 / info.samplerate)),
        format=fmt,
        mime=MIMES[fmt],
        samplerate=int(info.samplerate),
        channels=int(info.channels),
        bitrate=None,
        cover=None,
    )


def _explain(path: Path, exc: Exception) -> str:
    """A user-facing reason from a mutagen error, by format."""
    name = type(exc).__name__
    text = str(exc) or name
    if "HeaderNotFound" in name or "sync" in text.lower():
        if path.suffix.lower() == ".mp3":
            return "corrupt MP3 frame data: no MPEG audio frame found (is it really an MP3?)"
        return f"not a valid audio file: {text}"
    return f"corrupt or unsupported audio file: {text}"


def thumbnails(cover: bytes, sizes: dict[str, int] | None = None) -> dict[str, bytes]:
    """Square, centre-cropped RGB JPEG thumbnails of `cover`, one per named size."""
    from PIL import Image, ImageOps

    sizes = sizes or THUMBNAIL_SIZES
    try:
        with warnings.catch_warnings():
            # Over MAX_IMAGE_PIXELS Pillow only warns (it raises over twice that): refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(cover))
            if img.width * img.height > COVER_MAX_PIXELS:
                raise BadCover(f"cover image too large to decode safely: {img.width}x{img.height}")
            img.load()
        img = ImageOps.exif_transpose(img)
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            # Flatten transparency on white: JPEG has no alpha and black corners look broken.
            rgba = img.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            img = flat
        else:
            img = img.convert("RGB")  # CMYK, greyscale, palette, 16-bit...
    except BadCover:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise BadCover(f"cover image too large to decode safely: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types on bad data
        raise BadCover(f"cover is not an image Pillow can decode: {exc}") from exc
    out = {}
    for name, size in sizes.items():
        thumb = ImageOps.fit(img, (size, size), method=Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        thumb.save(buf, "JPEG", quality=85, optimize=True)
        out[name] = buf.getvalue()
    return out
