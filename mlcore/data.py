"""Interaction parsing: turns DataFrames or records into integer-coded sparse matrices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import EmptyDataError, InvalidInputError

# Interaction types and how much each one says about taste. Negative weights are explicit
# negatives: they never enter a user's history, they become labelled negatives in training.
TYPE_WEIGHTS: dict[str, float] = {
    "like": 1.0,
    "add": 1.0,
    "save": 1.0,
    "follow": 1.0,
    "play": 0.5,
    "listen": 0.5,
    "view": 0.25,
    "skip": -0.5,
    "dislike": -1.0,
}

REQUIRED_COLUMNS = ("user_id", "item_id")


def to_frame(interactions: pd.DataFrame | Iterable[Any]) -> pd.DataFrame:
    """Accept a DataFrame, dicts, or tuples (user_id, item_id[, weight[, type]])."""
    if isinstance(interactions, pd.DataFrame):
        df = interactions.copy()
    else:
        rows = list(interactions)
        if not rows:
            raise EmptyDataError("no interactions given")
        if isinstance(rows[0], Mapping):
            df = pd.DataFrame(rows)
        else:
            cols = ["user_id", "item_id", "weight", "type", "timestamp"][: len(rows[0])]
            df = pd.DataFrame([tuple(r) for r in rows], columns=cols)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InvalidInputError(f"interactions lack columns {missing}; have {list(df.columns)}")
    if df.empty:
        raise EmptyDataError("no interactions given")
    if df["user_id"].isna().any() or df["item_id"].isna().any():
        raise InvalidInputError("interactions contain null user_id or item_id")
    # Ids are opaque strings everywhere so that 12 and "12" are the same user.
    df["user_id"] = df["user_id"].astype(str)
    df["item_id"] = df["item_id"].astype(str)
    if "weight" not in df.columns:
        df["weight"] = 1.0
    w = pd.to_numeric(df["weight"], errors="coerce")
    if w.isna().any():
        raise InvalidInputError("interaction weights must be numbers (found NaN / non-numeric)")
    df["weight"] = w.astype(np.float64)
    if "type" in df.columns:
        types = df["type"].fillna("play").astype(str).str.lower()
        unknown = sorted(set(types) - set(TYPE_WEIGHTS))
        if unknown:
            raise InvalidInputError(
                f"unknown interaction types {unknown}; know {sorted(TYPE_WEIGHTS)}"
            )
        df["type_weight"] = types.map(TYPE_WEIGHTS).astype(np.float64)
    else:
        df["type_weight"] = 1.0
    return df


def confidence(df: pd.DataFrame) -> np.ndarray:
    """Signed confidence: type weight times a damped count (play counts are heavy-tailed)."""
    w = np.log1p(np.clip(df["weight"].to_numpy(), 0.0, None))
    scale = float(np.mean(w)) if np.mean(w) > 0 else 1.0
    # Damping keeps one obsessive listener from dominating; the floor keeps weight-0 rows useful.
    damped = np.clip(w / scale, 0.25, 4.0)
    return df["type_weight"].to_numpy() * damped


@dataclass
class IdIndex:
    """Bidirectional map between external string ids and dense row indices."""

    ids: list[str] = field(default_factory=list)
    _pos: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_ids(cls, ids: Sequence[str]) -> IdIndex:
        idx = cls(list(ids))
        idx._pos = {k: i for i, k in enumerate(idx.ids)}
        if len(idx._pos) != len(idx.ids):
            raise InvalidInputError("duplicate ids")
        return idx

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, key: object) -> bool:
        return str(key) in self._pos

    def get(self, key: object, default: int = -1) -> int:
        return self._pos.get(str(key), default)

    def add(self, key: str) -> int:
        key = str(key)
        if key not in self._pos:
            self._pos[key] = len(self.ids)
            self.ids.append(key)
        return self._pos[key]

    def lookup(self, keys: Iterable[object]) -> np.ndarray:
        return np.fromiter((self._pos.get(str(k), -1) for k in keys), dtype=np.int64)


@dataclass
class InteractionData:
    """Coded interactions: positives as a CSR matrix plus explicit negatives as triples."""

    users: IdIndex
    items: IdIndex
    positives: sp.csr_matrix  # users x items, confidence > 0
    neg_rows: np.ndarray
    neg_cols: np.ndarray
    neg_weight: np.ndarray


def encode(
    df: pd.DataFrame, items: IdIndex | None = None, users: IdIndex | None = None
) -> InteractionData:
    """Aggregate repeated (user, item) rows and split them into positives and explicit negatives."""
    df = df.assign(conf=confidence(df))
    agg = df.groupby(["user_id", "item_id"], sort=False)["conf"].sum().reset_index()
    if users is None:
        users = IdIndex.from_ids(pd.unique(agg["user_id"]).tolist())
    if items is None:
        items = IdIndex.from_ids(pd.unique(agg["item_id"]).tolist())
    else:
        for it in pd.unique(agg["item_id"]):
            items.add(it)
    r = users.lookup(agg["user_id"])
    c = items.lookup(agg["item_id"])
    v = agg["conf"].to_numpy()
    pos = v > 0
    if not pos.any():
        raise EmptyDataError("no positive interactions (all were skips / dislikes)")
    mat = sp.csr_matrix(
        (v[pos].astype(np.float32), (r[pos], c[pos])), shape=(len(users), len(items))
    )
    mat.sum_duplicates()
    neg = ~pos & (v < 0)
    return InteractionData(users, items, mat, r[neg], c[neg], -v[neg].astype(np.float32))
