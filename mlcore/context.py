"""Listening context {mood, activity, timeOfDay} -> fixed-vocabulary one-hot vector."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .errors import InvalidInputError

# Fixed so a saved model and a newer web release agree on the vector layout; extend only by
# appending (old models then see zeros in the new slots).
CONTEXT_VOCAB: dict[str, tuple[str, ...]] = {
    "mood": ("happy", "sad", "calm", "energetic", "angry", "romantic", "focused", "chill"),
    "activity": (
        "workout",
        "party",
        "study",
        "work",
        "relax",
        "commute",
        "sleep",
        "cooking",
        "driving",
    ),
    "timeOfDay": ("morning", "afternoon", "evening", "night"),
}
_ALIASES = {"time_of_day": "timeOfDay", "timeofday": "timeOfDay", "time": "timeOfDay"}
CONTEXT_DIM = sum(len(v) for v in CONTEXT_VOCAB.values())
CONTEXT_OFFSETS: dict[str, int] = {}
_o = 0
for _k, _v in CONTEXT_VOCAB.items():
    CONTEXT_OFFSETS[_k] = _o
    _o += len(_v)


def context_vector(context: Mapping[str, object] | None) -> np.ndarray:
    """One-hot context; None or empty -> zeros. Unknown keys/values raise InvalidInputError."""
    vec = np.zeros(CONTEXT_DIM, dtype=np.float32)
    if not context:
        return vec
    for key, value in context.items():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        field = _ALIASES.get(key, key)
        if field not in CONTEXT_VOCAB:
            raise InvalidInputError(f"unknown context key {key!r}; use {sorted(CONTEXT_VOCAB)}")
        vocab = CONTEXT_VOCAB[field]
        v = str(value).strip().lower()
        if v not in vocab:
            raise InvalidInputError(f"unknown {field} {value!r}; use one of {list(vocab)}")
        vec[CONTEXT_OFFSETS[field] + vocab.index(v)] = 1.0
    return vec


def context_matrix(rows: list[Mapping[str, object]]) -> np.ndarray:
    return np.stack([context_vector(r) for r in rows]) if rows else np.zeros((0, CONTEXT_DIM))
