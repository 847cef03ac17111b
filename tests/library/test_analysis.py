"""library.analysis finds what library.synth put into the signal, on the catalog's scales."""

import math

import numpy as np
import pytest

from library import analysis, synth

SECONDS = 20.0
SR = 44100


def _assert_in_ranges(features: dict) -> None:
    assert set(features) <= set(analysis.RANGES)
    for name, value in features.items():
        assert isinstance(value, (int, float)) and math.isfinite(value), (name, value)
        lo, hi = analysis.RANGES[name]
        assert lo <= value <= hi, (name, value)


@pytest.mark.parametrize("bpm", [90, 120, 140])
def test_click_track_tempo(bpm):
    f = analysis.features(synth.click_track(bpm=bpm, seconds=SECONDS))
    assert f["tempo"] == pytest.approx(bpm, abs=2)
    _assert_in_ranges(f)


@pytest.mark.parametrize(("bpm", "timbre"), [(90, "pad"), (120, "saw"), (140, "pluck")])
def test_rendered_piece_tempo_through_an_mp3(tmp_path, bpm, timbre):
    audio = synth.render(bpm=bpm, seconds=SECONDS, timbre=timbre, seed=bpm)
    path = synth.write(tmp_path / "piece.mp3", audio, SR)
    f = analysis.analyse(path)
    assert f["tempo"] == pytest.approx(bpm, abs=2)
    _assert_in_ranges(f)


@pytest.mark.parametrize(
    ("key", "mode", "timbre"),
    [(7, 1, "organ"), (4, 0, "bell"), (0, 1, "pluck"), (9, 0, "saw")],  # G, Em, C, Am
)
def test_key_and_mode(key, mode, timbre):
    f = analysis.features(
        synth.render(bpm=110, seconds=SECONDS, key=key, mode=mode, timbre=timbre, seed=2))
    assert (f["key"], f["mode"]) == (key, mode)


def test_louder_render_has_more_loudness_and_energy():
    audio = synth.render(bpm=124, seconds=SECONDS, timbre="saw", seed=3)
    loud = analysis.features(audio)
    quiet = analysis.features(audio * 0.1)
    assert loud["loudness"] > quiet["loudness"] + 15  # -20 dB of gain
    assert loud["energy"] > quiet["energy"]
    _assert_in_ranges(loud)
    _assert_in_ranges(quiet)


def test_silence_gives_only_loudness_and_energy():
    f = analysis.features(np.zeros(int(5 * SR), dtype=np.float32))
    assert f == {"loudness": -60.0, "energy": 0.0}


@pytest.mark.parametrize("seconds", [0.0, 0.1, 2.0])
def test_too_short_clips_give_no_nans(seconds):
    audio = synth.render(bpm=120, seconds=seconds) if seconds else np.zeros(0, np.float32)
    f = analysis.features(audio)
    _assert_in_ranges(f)
    assert "tempo" not in f and "danceability" not in f


def test_extreme_signals_are_clamped():
    noise = np.clip(np.random.default_rng(0).standard_normal(int(8 * SR)) * 3, -1, 1)
    f = analysis.features(noise.astype(np.float32))
    _assert_in_ranges(f)
    assert f["loudness"] > -5


def test_silent_file_on_disk(tmp_path):
    path = synth.write(tmp_path / "silence.flac", np.zeros(int(3 * SR), np.float32), SR)
    f = analysis.analyse(path)
    assert f == {"loudness": -60.0, "energy": 0.0}


def test_long_file_is_cut_to_the_middle_window(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "WINDOW_SECONDS", 10.0)
    audio = np.concatenate([np.zeros(10 * SR), synth.click_track(bpm=120, seconds=10),
                            np.zeros(10 * SR)]).astype(np.float32)
    path = synth.write(tmp_path / "long.wav", audio, SR)
    loaded = analysis.load(path)
    assert abs(len(loaded) - 10 * SR) < SR // 10
    assert np.max(np.abs(loaded)) > 0.5  # the clicks, not the silence around them


@pytest.mark.parametrize("content", [b"", b"definitely not audio " * 500])
def test_corrupt_file_raises(tmp_path, content):
    path = tmp_path / "broken.mp3"
    path.write_bytes(content)
    with pytest.raises(analysis.AnalysisFailed):
        analysis.analyse(path)


def test_missing_file_raises(tmp_path):
    with pytest.raises(analysis.AnalysisFailed):
        analysis.analyse(tmp_path / "nope.flac")


def test_values_are_rounded_and_typed():
    f = analysis.features(synth.render(bpm=128, seconds=SECONDS, key=5, mode=1, seed=7))
    assert set(f) == {"tempo", "key", "mode", "loudness", "danceability", "energy"}
    assert isinstance(f["key"], int) and isinstance(f["mode"], int)
    assert f["tempo"] == round(f["tempo"], 1) and f["energy"] == round(f["energy"], 3)
    _assert_in_ranges(f)
