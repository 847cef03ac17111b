"""Fixtures of the library tests: generated, tagged audio files and a private media root."""
from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def no_analysis():
    """Analysis tasks are recorded, not run (test_analysis_flow runs them for real)."""
    with mock.patch("library.tasks.audio_file_analyse.delay") as delay:
        yield delay
