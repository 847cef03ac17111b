"""Baseline recommenders (popularity, item-kNN, EASE, ALS) behind the hybrid's interface.

They are the evaluation yardstick and serving fallbacks. All train on binarised implicit
feedback (any positive interaction = 1); ALS additionally uses the damped confidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import collab
from .data import IdIndex, InteractionData, encode, to_frame
from .errors import NotFittedError, UnknownUserError
from .retrieval import topk


class BaseRecommender:
    """Shared id handling; subclasses implement ``_fit`` and ``_scores``."""

    name = "base"

    def __init__(self) -> None:
        self._data: InteractionData | None = None
        self._x: sp.csr_matrix | None = None

    @property
    def item_ids(self) -> list[str]:
        return [] if self._data is None else self._data.items.ids

    def fit(self, interactions: pd.DataFrame | Iterable[Any]) -> BaseRecommender:
        self._data = encode(to_frame(interactions))
        self._x = collab.binarize(self._data.positives)
        self._fit()
        return self

    def _fit(self) -> None:
        raise NotImplementedError

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _rows(self, user_ids: Sequence[str]) -> np.ndarray:
        if self._data is None:
            raise NotFittedError(f"{self.name} used before fit()")
        rows = self._data.users.lookup(user_ids)
        if (rows < 0).any():
            raise UnknownUserError(user_ids[int(np.argmax(rows < 0))])
        return rows

    def recommend_batch(
        self, user_ids: Sequence[str], k: int = 20, exclude_seen: bool = True, batch: int = 256
    ) -> dict[str, list[tuple[str, float]]]:
        user_ids = [str(u) for u in user_ids]
        rows = self._rows(user_ids)
        items = self._data.items.ids
        out: dict[str, list[tuple[str, float]]] = {}
        for s in range(0, len(rows), batch):
            r = rows[s : s + batch]
            sc = np.asarray(self._scores(r), dtype=np.float64)
            if exclude_seen:
                seen = self._x[r].tocoo()
                sc[seen.row, seen.col] = -np.inf
            for j, u in enumerate(user_ids[s : s + batch]):
                idx = topk(sc[j], k)
                idx = idx[np.isfinite(sc[j][idx])]
                out[u] = [(items[i], float(sc[j][i])) for i in idx]
        return out

    def recommend(
        self, user_id: str, k: int = 20, exclude_seen: bool = True
    ) -> list[tuple[str, float]]:
        return self.recommend_batch([str(user_id)], k, exclude_seen)[str(user_id)]


class PopularityRecommender(BaseRecommender):
    """Most-interacted items first: the floor every personalised model must clear."""

    name = "popularity"

    def _fit(self) -> None:
        self._pop = np.asarray(self._x.sum(axis=0)).ravel().astype(np.float32)

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return np.tile(self._pop, (len(rows), 1))

    def recommend_batch(
        self, user_ids: Sequence[str], k: int = 20, exclude_seen: bool = True, batch: int = 256
    ) -> dict[str, list[tuple[str, float]]]:
        """Everyone shares one ranking: walk it once per user past what they have seen,
        instead of scoring the whole catalog per user (gigabytes at a million items)."""
        user_ids = [str(u) for u in user_ids]
        rows = self._rows(user_ids)
        order = np.argsort(-self._pop, kind="stable")
        items = self._data.items.ids
        out: dict[str, list[tuple[str, float]]] = {}
        for u, r in zip(user_ids, rows, strict=True):
            seen = self._x.indices[self._x.indptr[r] : self._x.indptr[r + 1]]
            head = order[: k + (len(seen) if exclude_seen else 0)]
            if exclude_seen:
                head = head[~np.isin(head, seen)]
            out[u] = [(items[i], float(self._pop[i])) for i in head[:k]]
        return out


class ItemKNNRecommender(BaseRecommender):
    """Item-based kNN with shrunk cosine similarity."""

    name = "item-knn"

    def __init__(self, k: int = 100, shrink: float = 10.0) -> None:
        super().__init__()
        self.k, self.shrink = k, shrink

    def _fit(self) -> None:
        self._sim = collab.cosine_knn(self._x, self.k, self.shrink)

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return (self._x[rows] @ self._sim).toarray()


class EASERecommender(BaseRecommender):
    """EASE^R closed-form linear autoencoder; items with < min_count users get no weights."""

    name = "ease"

    def __init__(self, lam: float = 200.0, min_count: int = 2, max_items: int = 12_000) -> None:
        super().__init__()
        self.lam, self.min_count, self.max_items = lam, min_count, max_items

    def _fit(self) -> None:
        counts = np.asarray(self._x.sum(axis=0)).ravel()
        items = np.flatnonzero(counts >= self.min_count)
        if len(items) > self.max_items:
            items = np.sort(items[np.argsort(-counts[items], kind="stable")[: self.max_items]])
        self._items = items
        self._b = collab.ease_weights(self._x, self.lam, items)
        # Tiny popularity prior breaks ties among items EASE does not model (count < min_count).
        self._prior = (counts / max(counts.max(), 1) * 1e-6).astype(np.float32)

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        sc = np.tile(self._prior, (len(rows), 1))
        sc[:, self._items] += self._x[rows][:, self._items].toarray() @ self._b
        return sc


class ALSRecommender(BaseRecommender):
    """Implicit-feedback ALS (Hu, Koren, Volinsky) via the ``implicit`` package."""

    name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 15,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.factors, self.regularization, self.alpha = factors, regularization, alpha
        self.iterations, self.seed = iterations, seed

    def _fit(self) -> None:
        from implicit.als import AlternatingLeastSquares  # noqa: PLC0415
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        conf = self._data.positives.copy().astype(np.float32)
        conf.data = 1.0 + self.alpha * conf.data
        model = AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=1.0,
            iterations=self.iterations,
            random_state=self.seed,
        )
        # implicit parallelises itself; a BLAS thread pool on top only causes contention.
        with threadpool_limits(1, "blas"):
            model.fit(conf, show_progress=False)
        self._u = np.asarray(model.user_factors)
        self._v = np.asarray(model.item_factors)

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return self._u[rows] @ self._v.T


BASELINES: dict[str, type[BaseRecommender]] = {
    c.name: c for c in (PopularityRecommender, ItemKNNRecommender, EASERecommender, ALSRecommender)
}

__all__ = [
    "ALSRecommender",
    "BASELINES",
    "BaseRecommender",
    "EASERecommender",
    "IdIndex",
    "ItemKNNRecommender",
    "PopularityRecommender",
]
