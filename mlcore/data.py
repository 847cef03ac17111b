"""Interaction parsing: turns DataFrames or records into integer-coded sparse matrices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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

    def names(self, idx: np.ndarray) -> np.ndarray:
        """Ids at the given positions (any shape), as an array of str."""
        if getattr(self, "_names", None) is None or len(self._names) != len(self.ids):
            self._names = np.array(self.ids, dtype=object)
        return self._names[idx]

    def save(self, directory: Path, stem: str) -> None:
        """As arrays a loaded model maps instead of parsing (see ``IdArray``)."""
        keys = np.array([k.encode() for k in self.ids], dtype=bytes) if self.ids else np.zeros(
            0, "S1")
        order = np.argsort(keys, kind="stable")
        np.save(directory / f"{stem}_ids.npy", keys)
        np.save(directory / f"{stem}_order.npy", order)
        np.save(directory / f"{stem}_sorted.npy", keys[order])


class _IdView(Sequence[str]):
    """``IdArray.ids``: decodes one id at a time instead of materialising a million strings."""

    def __init__(self, owner: IdArray) -> None:
        self._owner = owner

    def __len__(self) -> int:
        return len(self._owner)

    def __getitem__(self, i):  # noqa: ANN001, ANN204 - int or slice, as a list takes
        if isinstance(i, slice):
            return self._owner.names(np.arange(*i.indices(len(self)))).tolist()
        return str(self._owner.names(np.asarray(i)))

    def __iter__(self):  # noqa: ANN204
        for s in range(0, len(self), 65536):  # decoded a block at a time
            yield from self[s : s + 65536]


class IdArray:
    """The ids of a saved model as memory-mapped arrays: a catalog of a million ids costs no
    Python objects and is shared between processes through the page cache.

    Lookups binary-search a sorted copy; ids added after loading (users folded in) live in a
    small dict beside, with the positions after the saved ones.
    """

    def __init__(self, keys: np.ndarray, order: np.ndarray, sorted_keys: np.ndarray) -> None:
        self._keys, self._order, self._sorted = keys, order, sorted_keys
        self._extra = IdIndex()

    @classmethod
    def load(cls, directory: Path, stem: str, mmap: bool = True) -> IdArray:
        mode = "r" if mmap else None
        return cls(*(np.load(directory / f"{stem}_{part}.npy", mmap_mode=mode)
                     for part in ("ids", "order", "sorted")))

    @property
    def ids(self) -> _IdView:
        return _IdView(self)

    def __len__(self) -> int:
        return len(self._keys) + len(self._extra)

    def __contains__(self, key: object) -> bool:
        return self.get(key) >= 0

    def _base(self, encoded: np.ndarray) -> np.ndarray:
        """Positions of encoded keys among the saved ids, -1 where absent."""
        n = len(self._sorted)
        if n == 0:
            return np.full(encoded.shape, -1, np.int64)
        width = self._sorted.dtype.itemsize
        fits = np.char.str_len(encoded) <= width if encoded.dtype.itemsize > width else True
        cut = encoded.astype(self._sorted.dtype)
        pos = np.searchsorted(self._sorted, cut).clip(0, n - 1)
        hit = (np.asarray(self._sorted[pos]) == cut) & fits
        return np.where(hit, np.asarray(self._order[pos]), -1).astype(np.int64)

    def get(self, key: object, default: int = -1) -> int:
        found = int(self._base(np.array([str(key).encode()]))[0])
        if found >= 0:
            return found
        extra = self._extra.get(key)
        return len(self._keys) + extra if extra >= 0 else default

    def lookup(self, keys: Iterable[object]) -> np.ndarray:
        keys = [str(k) for k in keys]
        if not keys:
            return np.empty(0, np.int64)
        out = self._base(np.array([k.encode() for k in keys]))
        if len(self._extra):
            extra = self._extra.lookup(keys)
            out = np.where((out < 0) & (extra >= 0), len(self._keys) + extra, out)
        return out

    def add(self, key: str) -> int:
        found = self.get(key)
        return found if found >= 0 else len(self._keys) + self._extra.add(str(key))

    def names(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx)
        base = len(self._keys)
        raw = np.asarray(self._keys[np.where(idx < base, idx, 0)])
        out = np.char.decode(raw, "utf-8").astype(object)
        if len(self._extra) and (idx >= base).any():
            out[idx >= base] = self._extra.names(idx[idx >= base] - base)
        return out

    def save(self, directory: Path, stem: str) -> None:
        IdIndex.from_ids(list(self.ids)).save(directory, stem)


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
