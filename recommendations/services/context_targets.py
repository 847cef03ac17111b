"""Audio-feature targets for moods, activities and times of day (used by generation and ranking).

The table is learned from weak labels: the names of the playlists in the Spotify 30k-songs file
("Workout Motivation" -> activity workout). `context_targets_learn` computes the mean features of
every label with enough tracks; labels the data lacks keep hand-set values. The result is
committed as `recommendations/data/context_targets.json` (regenerate: `manage.py
learn_context_targets`), so serving never reads the dataset.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "context_targets.json"
TARGET_FEATURES = ("valence", "energy", "danceability", "tempo", "acousticness")
# Tempo is compared on this scale so that one BPM unit does not outweigh the 0..1 features.
TEMPO_SCALE = 200.0
MIN_TRACKS = 50  # fewer weakly-labelled tracks than this: keep the hand-set target

# (field, value) -> regular expression over lower-cased playlist names.
WEAK_LABELS: dict[tuple[str, str], str] = {
    ("activity", "workout"): r"workout|gym|fitness|cardio|training|running",
    ("activity", "party"): r"party|fiesta",
    ("activity", "relax"): r"chill|lounge|relax",
    ("activity", "study"): r"study|focus|concentrat",
    ("activity", "sleep"): r"sleep|lullab",
    ("activity", "driving"): r"driving|road ?trip",
    ("activity", "work"): r"\bwork\b|office|coffee",
    ("activity", "commute"): r"commute|train ride",
    ("activity", "cooking"): r"cooking|kitchen|dinner",
    ("mood", "happy"): r"happy|feel good|good vibes|sunny",
    ("mood", "sad"): r"\bsad\b|heartbreak|broken|tears|melanchol",
    ("mood", "calm"): r"calm|coffee|acoustic|peaceful",
    ("mood", "energetic"): r"energy|hype|pump|beast",
    ("mood", "angry"): r"angry|rage|aggressive",
    ("mood", "romantic"): r"\blove\b|romantic|date night",
    ("mood", "focused"): r"focus|study|concentrat",
    ("mood", "chill"): r"chill|lounge|relax",
    ("timeOfDay", "morning"): r"morning|wake up|breakfast",
    ("timeOfDay", "afternoon"): r"afternoon",
    ("timeOfDay", "evening"): r"evening|sunset",
    ("timeOfDay", "night"): r"\bnight|late night|midnight",
}

# Hand-set targets (valence, energy, danceability, tempo BPM, acousticness), from common sense
# and the genre centres of the demo catalog; used when the data has too few tracks for a label.
HAND_SET: dict[tuple[str, str], tuple[float, float, float, float, float]] = {
    ("activity", "workout"): (0.50, 0.88, 0.65, 130, 0.05),
    ("activity", "party"): (0.65, 0.80, 0.75, 124, 0.08),
    ("activity", "study"): (0.35, 0.30, 0.45, 95, 0.65),
    ("activity", "work"): (0.50, 0.50, 0.55, 110, 0.35),
    ("activity", "relax"): (0.45, 0.35, 0.55, 100, 0.50),
    ("activity", "commute"): (0.55, 0.60, 0.62, 115, 0.20),
    ("activity", "sleep"): (0.25, 0.15, 0.35, 75, 0.85),
    ("activity", "cooking"): (0.65, 0.55, 0.65, 112, 0.30),
    ("activity", "driving"): (0.55, 0.72, 0.62, 120, 0.12),
    ("mood", "happy"): (0.80, 0.70, 0.70, 120, 0.20),
    ("mood", "sad"): (0.20, 0.35, 0.45, 95, 0.55),
    ("mood", "calm"): (0.45, 0.30, 0.50, 95, 0.60),
    ("mood", "energetic"): (0.60, 0.90, 0.70, 128, 0.05),
    ("mood", "angry"): (0.30, 0.90, 0.50, 135, 0.05),
    ("mood", "romantic"): (0.55, 0.45, 0.60, 100, 0.40),
    ("mood", "focused"): (0.35, 0.35, 0.45, 100, 0.60),
    ("mood", "chill"): (0.50, 0.40, 0.62, 100, 0.45),
    ("timeOfDay", "morning"): (0.60, 0.55, 0.60, 112, 0.30),
    ("timeOfDay", "afternoon"): (0.60, 0.65, 0.65, 118, 0.20),
    ("timeOfDay", "evening"): (0.50, 0.55, 0.62, 112, 0.30),
    ("timeOfDay", "night"): (0.40, 0.45, 0.60, 105, 0.40),
}


def context_targets_learn(*, path: Path, min_tracks: int = MIN_TRACKS) -> dict[str, Any]:
    """Learn the target table from the Spotify songs CSV; hand-set values fill the gaps."""
    import pandas as pd  # noqa: PLC0415 - only this offline step reads the dataset

    df = pd.read_csv(path, usecols=["track_id", "playlist_name", *TARGET_FEATURES])
    names = df["playlist_name"].fillna("").str.lower()
    table: dict[str, dict[str, Any]] = {}
    for (field, value), pattern in WEAK_LABELS.items():
        mask = names.str.contains(pattern, regex=True, flags=re.IGNORECASE)
        rows = df[mask].drop_duplicates("track_id")
        entry: dict[str, Any]
        if len(rows) >= min_tracks:
            means = rows[list(TARGET_FEATURES)].mean()
            entry = {f: round(float(means[f]), 3) for f in TARGET_FEATURES}
            entry.update(source="learned", tracks=int(len(rows)),
                         playlists=int(df[mask]["playlist_name"].nunique()))
        else:
            entry = dict(zip(TARGET_FEATURES, HAND_SET[(field, value)], strict=False))
            entry.update(source="hand-set", tracks=int(len(rows)), playlists=0)
        table.setdefault(field, {})[value] = entry
    return {"source_file": Path(path).name, "min_tracks": min_tracks,
            "features": list(TARGET_FEATURES), "targets": table}


def context_targets_write(*, table: dict[str, Any], path: Path = TABLE_PATH) -> None:
    """Write the table as pretty JSON (committed to the repository)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    context_targets.cache_clear()


@lru_cache(maxsize=1)
def context_targets() -> dict[str, dict[str, dict[str, float]]]:
    """The committed table; falls back to the hand-set values if the file is missing."""
    try:
        return json.loads(TABLE_PATH.read_text())["targets"]
    except (OSError, ValueError, KeyError):
        out: dict[str, dict[str, dict[str, float]]] = {}
        for (field, value), vals in HAND_SET.items():
            out.setdefault(field, {})[value] = dict(zip(TARGET_FEATURES, vals, strict=False))
        return out


def context_target(context: dict[str, Any] | None) -> dict[str, float] | None:
    """Mean target of the given mood/activity/timeOfDay values; None when none is given."""
    if not context:
        return None
    table = context_targets()
    picked = []
    for field, key in (("mood", "mood"), ("activity", "activity"), ("timeOfDay", "time_of_day")):
        value = context.get(key) or context.get(field)
        if value and value in table.get(field, {}):
            picked.append(table[field][value])
    if not picked:
        return None
    return {f: sum(float(p[f]) for p in picked) / len(picked) for f in TARGET_FEATURES}


def closeness(features: dict[str, Any], target: dict[str, float]) -> float:
    """1 - mean absolute distance over the target features (tempo scaled), in 0..1."""
    total, n = 0.0, 0
    for f, want in target.items():
        have = features.get(f)
        if have is None:
            continue
        scale = TEMPO_SCALE if f == "tempo" else 1.0
        total += min(1.0, abs(float(have) - want) / scale)
        n += 1
    return 1.0 - total / n if n else 0.5
