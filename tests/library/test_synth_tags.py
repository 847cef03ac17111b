"""library.synth writes tagged files in every format; library.tags reads them back."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from library import demo_audio, synth, tags

SECONDS = 4.0
TAGS = {
    "title": "Ünïcode Title",
    "artist": "The Invented Band",
    "album": "Nowhere Songs",
    "albumartist": "Various Inventions",
    "tracknumber": "3/12",
    "discnumber": "2/2",
    "date": "2011-05-01",
    "genre": "Synthpop",
    "musicbrainz_trackid": "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae",
    "musicbrainz_albumid": "1d4f0e6c-3b8f-4e6e-9d39-0b5c3d6e7f10",
    "musicbrainz_artistid": "5b11f4ce-a62d-471e-81fc-a69a8278c7da",
}
FORMATS = {
    ".mp3": ("mp3", "audio/mpeg", 150),  # encoder delay/padding
    ".flac": ("flac", "audio/flac", 100),
    ".ogg": ("ogg", "audio/ogg", 100),
    ".opus": ("opus", "audio/ogg; codecs=opus", 100),
    ".wav": ("wav", "audio/wav", 100),
    ".m4a": ("m4a", "audio/mp4", 100),
}


@pytest.fixture(scope="module")
def piece():
    return synth.render(bpm=120, seconds=SECONDS, key=2, mode=1, timbre="pluck", seed=1)


@pytest.fixture(scope="module")
def cover():
    return synth.cover_art(seed=3, text="Nowhere Songs", size=300)


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_tags_round_trip(tmp_path, piece, cover, suffix):
    fmt, mime, tolerance_ms = FORMATS[suffix]
    path = synth.write(tmp_path / f"song{suffix}", piece, 44100, tags=TAGS, cover=cover)
    info = tags.read(path)
    assert (info.title, info.artist, info.album, info.albumartist, info.genre) == (
        TAGS["title"], TAGS["artist"], TAGS["album"], TAGS["albumartist"], TAGS["genre"])
    assert (info.tracknumber, info.discnumber, info.year) == (3, 2, 2011)
    assert info.musicbrainz_recordingid == TAGS["musicbrainz_trackid"]
    assert info.musicbrainz_albumid == TAGS["musicbrainz_albumid"]
    assert info.musicbrainz_artistid == TAGS["musicbrainz_artistid"]
    assert abs(info.duration_ms - SECONDS * 1000) <= tolerance_ms
    assert (info.format, info.mime) == (fmt, mime)
    assert info.samplerate == (48000 if fmt == "opus" else 44100)
    assert info.channels == 1
    assert info.bitrate and info.bitrate > 0
    assert info.cover == cover


def test_untagged_file_reads_with_empty_tags(tmp_path, piece):
    info = tags.read(synth.write(tmp_path / "plain.flac", piece, 44100))
    assert (info.title, info.artist, info.tracknumber, info.year, info.cover) == (
        "", "", None, None, None)
    assert info.duration_ms == SECONDS * 1000


def test_broken_id3_tag_still_gives_the_audio(tmp_path, piece):
    path = synth.write(tmp_path / "x.mp3", piece, 44100, tags={"title": "x"})
    data = bytearray(path.read_bytes())
    data[3] = 9  # an ID3v2.9 header: mutagen refuses the tag, the MPEG frames are intact
    path.write_bytes(bytes(data))
    info = tags.read(path)
    assert info.title == "" and info.format == "mp3"
    assert abs(info.duration_ms - SECONDS * 1000) <= 150


def test_number_and_year_parsing():
    assert tags._number("3/12") == 3 and tags._number("07") == 7 and tags._number((4, 9)) == 4
    assert tags._number("") is None and tags._number("x") is None
    assert tags._year("2011-05-01") == 2011 and tags._year("1999") == 1999
    assert tags._year("") is None and tags._year("May") is None


def test_text_file_named_mp3_is_unreadable(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("These are not the frames you are looking for.\n" * 200)
    with pytest.raises(tags.UnreadableAudio) as exc:
        tags.read(path)
    assert exc.value.reason


@pytest.mark.parametrize("suffix", [".flac", ".wav"])
def test_truncated_file_is_unreadable(tmp_path, piece, suffix):
    path = synth.write(tmp_path / f"full{suffix}", piece, 44100, tags=TAGS)
    data = path.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(tags.UnreadableAudio, match="cut short|damaged"):
        tags.read(cut)


def test_empty_file_is_unreadable(tmp_path):
    path = tmp_path / "empty.ogg"
    path.write_bytes(b"")
    with pytest.raises(tags.UnreadableAudio, match="empty"):
        tags.read(path)


def test_suffixes():
    assert {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".wav"} == tags.SUFFIXES


def _jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG"
        return img.size


def test_thumbnails_from_png_cover(cover):
    thumbs = tags.thumbnails(cover)
    assert set(thumbs) == {"small", "large"}
    assert _jpeg_size(thumbs["small"]) == (96, 96)
    assert _jpeg_size(thumbs["large"]) == (512, 512)


@pytest.mark.parametrize("mode", ["RGBA", "CMYK", "P", "L"])
def test_thumbnails_crop_any_image_mode_to_square_rgb(mode):
    img = Image.new("RGB", (400, 250), (200, 30, 60)).convert(mode)
    buf = io.BytesIO()
    img.save(buf, "JPEG" if mode == "CMYK" else "PNG")
    thumbs = tags.thumbnails(buf.getvalue(), {"tiny": 32})
    assert _jpeg_size(thumbs["tiny"]) == (32, 32)
    with Image.open(io.BytesIO(thumbs["tiny"])) as out:
        assert out.mode == "RGB"


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims `width` x `height`: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


# Over our limit only, over Pillow's MAX_IMAGE_PIXELS (a warning), over twice it (an error).
@pytest.mark.parametrize("side", [8_500, 10_000, 50_000])
def test_decompression_bomb_cover_is_refused(side):
    with pytest.raises(tags.BadCover, match="too large"):
        tags.thumbnails(_png_header_only(side, side))


def test_garbage_cover_is_refused():
    with pytest.raises(tags.BadCover):
        tags.thumbnails(b"\xff\xd8\xff not really a jpeg")


def test_render_is_deterministic_and_in_range():
    a = synth.render(bpm=100, seconds=3, seed=4, timbre="bell")
    assert a.dtype == np.float32 and len(a) == 3 * 44100
    assert np.array_equal(a, synth.render(bpm=100, seconds=3, seed=4, timbre="bell"))
    assert not np.array_equal(a, synth.render(bpm=100, seconds=3, seed=5, timbre="bell"))
    assert np.max(np.abs(a)) <= 1.0
    with pytest.raises(ValueError):
        synth.render(bpm=100, seconds=1, timbre="kazoo")


def test_click_track_has_a_click_per_beat():
    a = synth.click_track(bpm=120, seconds=4)
    onsets = np.flatnonzero((np.abs(a[1:]) > 0.1) & (np.abs(a[:-1]) <= 0.1))
    starts = onsets[np.insert(np.diff(onsets) > 1000, 0, True)]
    assert len(starts) == 8
    np.testing.assert_allclose(np.diff(starts), 22050, atol=2)


def test_demo_catalog_is_deterministic_and_varied():
    catalog = demo_audio.demo_catalog()
    assert catalog == demo_audio.demo_catalog()
    assert len(catalog) == 36
    assert len({t.stem for t in catalog}) == 36
    assert len({t.bpm for t in catalog}) >= 15
    assert len({t.key for t in catalog}) >= 8 and {t.mode for t in catalog} == {0, 1}
    assert set(synth.TIMBRES) <= {t.timbre for t in catalog}
    assert len({t.artist for t in catalog}) >= 5 and len({t.genre for t in catalog}) >= 5
    assert min(t.bpm for t in catalog) < 90 and max(t.bpm for t in catalog) > 130


def test_write_demo_catalog_tags_every_track(tmp_path):
    paths = demo_audio.write_demo_catalog(tmp_path, count=3, seconds=2.0, fmt=".ogg")
    assert [p.suffix for p in paths] == [".ogg"] * 3
    for path, track in zip(paths, demo_audio.demo_catalog(3, seconds=2.0), strict=True):
        info = tags.read(Path(path))
        assert (info.title, info.artist, info.album, info.tracknumber, info.year) == (
            track.title, track.artist, track.album, track.tracknumber, track.year)
        assert info.cover and info.cover.startswith(b"\x89PNG")
