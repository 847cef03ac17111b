"""Explanations: "because you liked X" from the tower geometry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


class ExplainMixin:
    """Explain part of HybridRecommender (state lives in recommender.py)."""

    def because(
        self, user_id: str, item_ids: Sequence[str], min_similarity: float = 0.3
    ) -> list[str | None]:
        """For each item, the history item of the user it most resembles, or None.

        Resemblance is the cosine of the tower item vectors, the same geometry the retrieval
        score comes from, so "because you liked X" names what actually pulled the item up.
        """
        return self.because_batch({str(user_id): item_ids}, min_similarity)[str(user_id)]

    def because_batch(
        self,
        items_by_user: Mapping[str, Sequence[str]],
        min_similarity: float = 0.3,
        max_history: int = 50,
    ) -> dict[str, list[str | None]]:
        """``because`` for many users with one gather and one batched product."""
        self._check()
        users = list(items_by_user)
        if not users:
            return {}
        width = max((len(v) for v in items_by_user.values()), default=0)
        rec = np.full((len(users), max(width, 1)), -1, np.int64)
        for r, uid in enumerate(users):
            idx = self._item_indices(items_by_user[uid])
            rec[r, : len(idx)] = idx
        us = np.array([self._user_index(u) for u in users], np.int64)
        _, h_rows, h_cols, h_w, _ = self._batch_history(us, None)
        why = self._because_matrix(rec, h_rows, h_cols, h_w, len(users), min_similarity,
                                   max_history)
        return {u: why[r][: len(items_by_user[u])] for r, u in enumerate(users)}

    def _because_matrix(
        self,
        rec: np.ndarray,
        h_rows: np.ndarray,
        h_cols: np.ndarray,
        h_w: np.ndarray,
        n: int,
        min_similarity: float = 0.3,
        max_history: int = 50,
    ) -> list[list[str | None]]:
        """Rows of ``rec`` (item indices, -1 padding) -> most similar history item ids."""
        # Each user's heaviest max_history history items, as an n x max_history matrix.
        order = np.lexsort((-h_w, h_rows))
        r_sorted = h_rows[order]
        first = np.searchsorted(r_sorted, r_sorted, side="left")
        rank = np.arange(len(order)) - first
        keep = rank < max_history
        # As wide as the longest kept history, not max_history: most users have a few items.
        width = int(min(max_history, rank.max() + 1)) if len(rank) else 1
        hist = np.full((n, width), -1, np.int64)
        hist[r_sorted[keep], rank[keep]] = h_cols[order][keep]

        def unit(rows: np.ndarray) -> np.ndarray:
            v = np.asarray(self._item_vec[np.maximum(rows, 0).ravel(), :-1], np.float32)
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
            return v.reshape(*rows.shape, -1)

        sim = unit(rec) @ unit(hist).transpose(0, 2, 1)  # batched matmul: n x k x h
        sim[np.broadcast_to((hist < 0)[:, None, :], sim.shape)] = -np.inf
        best = sim.argmax(axis=2)
        best_sim = np.take_along_axis(sim, best[..., None], axis=2)[..., 0]
        named = self._items.names(np.take_along_axis(hist, best, axis=1))
        ok = (best_sim >= min_similarity) & (rec >= 0)
        return np.where(ok, named, None).tolist()
