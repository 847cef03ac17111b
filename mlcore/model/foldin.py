"""Fold-in: user vectors for new or changed histories without retraining (small linear solves)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..data import to_frame
from ..errors import (
    InvalidInputError,
)


class FoldInMixin:
    """FoldIn part of HybridRecommender (state lives in recommender.py)."""

    def _solve_user(self, hist: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Fold-in: ridge regression of the tower logits (ALS-style, one d x d solve).

        Liked items are pulled to the mean positive logit seen in training, all warm items
        (weighted like the sampled negatives) to the mean negative logit.
        """
        d = self._item_vec.shape[1] - 1
        if len(hist) == 0:
            return np.concatenate([np.zeros(d), [1.0]]).astype(np.float32)
        v = self._item_vec[hist, :-1].astype(np.float64)
        b = self._item_vec[hist, -1].astype(np.float64)
        c = weights.astype(np.float64)
        alpha = self._fold["alpha_scale"] * c.sum()
        a = (v.T * c) @ v + alpha * self._fold["gram"] + self.config.fold_in_reg * np.eye(d)
        rhs = (v.T * c) @ (self._fold["pos"] - b) + alpha * self._fold["neg_rhs"]
        p = np.linalg.solve(a, rhs)
        return np.concatenate([p, [1.0]]).astype(np.float32)

    def _solve_als(self, hist: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
        """ALS fold-in (Hu et al. 2008, eq. 4) for a user outside the factor matrix."""
        if self._als_item is None:
            return None
        y = self._als_item[hist].astype(np.float64)
        c = 1.0 + self.config.als_alpha * weights.astype(np.float64)
        a = self._als_gram + (y.T * (c - 1.0)) @ y
        a += self.config.als_regularization * np.eye(a.shape[0])
        return np.linalg.solve(a, y.T @ c).astype(np.float32)

    def user_vector(
        self, liked_item_ids: Sequence[str], weights: Sequence[float] | None = None
    ) -> np.ndarray:
        """Tower vector for someone unknown to the model, from the items they liked."""
        self._check()
        idx = self._item_indices(liked_item_ids)
        w = np.ones(len(idx), np.float32) if weights is None else np.asarray(weights, np.float32)
        return self._solve_user(idx, w)

    def fold_in(
        self, user_id: str, interactions: pd.DataFrame | Iterable[Any], replace: bool = False
    ) -> np.ndarray:
        """Add or update a user without retraining (one small linear solve).

        ``interactions``: item ids, or records/DataFrame with item_id[, weight, type]. Merged
        with the user's existing history unless ``replace``; dislikes remove items.
        """
        self._check()
        user_id = str(user_id)
        rows = list(interactions) if not isinstance(interactions, pd.DataFrame) else None
        plain = (
            rows is not None
            and rows
            and all(isinstance(r, Mapping) and "weight" not in r for r in rows)
        )
        if plain:
            # Records without weights (what a web request sends): confidence is the type
            # weight, exactly what ``confidence`` gives for equal weights, without pandas.
            return self._fold_in_records(user_id, rows, replace)
        if rows is not None and rows and isinstance(rows[0], str | int):
            df = to_frame([{"user_id": user_id, "item_id": r} for r in rows])
        else:
            df = to_frame(interactions if rows is None else rows) if rows != [] else None
            if df is not None:
                df["user_id"] = user_id
        u = self._users.add(user_id)
        cur: dict[int, float] = {}
        if not replace:
            prof = self._profile(u)
            cur = dict(zip(prof.hist.tolist(), prof.weights.tolist(), strict=False))
        if df is not None:
            from ..data import confidence  # noqa: PLC0415

            conf = confidence(df)
            for it, cf in zip(self._item_indices(df["item_id"]), conf, strict=False):
                cur[int(it)] = cur.get(int(it), 0.0) + float(cf)
        return self._set_overlay(u, cur)

    def _fold_in_records(
        self, user_id: str, rows: list[Mapping[str, Any]], replace: bool
    ) -> np.ndarray:
        from ..data import TYPE_WEIGHTS  # noqa: PLC0415

        items = self._item_indices(r.get("item_id") for r in rows)
        types = [str(r.get("type") or "play").lower() for r in rows]
        unknown = sorted(set(types) - set(TYPE_WEIGHTS))
        if unknown:
            raise InvalidInputError(
                f"unknown interaction types {unknown}; know {sorted(TYPE_WEIGHTS)}"
            )
        u = self._users.add(user_id)
        cur: dict[int, float] = {}
        if not replace:
            prof = self._profile(u)
            cur = dict(zip(prof.hist.tolist(), prof.weights.tolist(), strict=False))
        for it, ty in zip(items.tolist(), types, strict=True):
            cur[it] = cur.get(it, 0.0) + TYPE_WEIGHTS[ty]
        return self._set_overlay(u, cur)

    def _set_overlay(self, u: int, cur: dict[int, float]) -> np.ndarray:
        keep = {i: c for i, c in cur.items() if c > 0}
        h = np.array(sorted(keep), dtype=np.int64)
        w = np.array([keep[i] for i in h], dtype=np.float32)
        self._overlay_hist[u] = (h, w)
        self._overlay_vec[u] = self._solve_user(h, w)
        als = self._solve_als(h, w)
        if als is not None:
            self._overlay_als[u] = als
        return self._overlay_vec[u]
