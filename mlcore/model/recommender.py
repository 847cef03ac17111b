"""The recommender's state and public lookups; each concern lives in its own mixin module."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..context import CONTEXT_DIM, context_vector
from ..data import IdIndex
from ..errors import (
    NotFittedError,
    UnknownItemError,
    UnknownUserError,
)
from ..features import ContentFeaturizer
from ..retrieval import VectorIndex
from .artifact import ArtifactMixin
from .batch import BatchMixin
from .config import (
    N_FEATURES,
    FitReport,
    ModelConfig,
    Profile,
)
from .explain import ExplainMixin
from .fitting import FittingMixin
from .foldin import FoldInMixin
from .scoring import ScoringMixin


class HybridRecommender(
    FittingMixin, ScoringMixin, BatchMixin, FoldInMixin, ExplainMixin, ArtifactMixin
):
    """Ids are strings; unknown ids raise UnknownUserError/UnknownItemError."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self._fitted = False
        self.report = FitReport()
        self._users = IdIndex()
        self._items = IdIndex()
        self._user_vec = np.zeros((0, 1), np.float32)
        self._item_vec = np.zeros((0, 1), np.float32)
        self._ctx_proj = np.zeros((CONTEXT_DIM, 1), np.float32)
        self._content = np.zeros((0, 1), np.float32)
        self._has_content = np.zeros(0, bool)
        self._ease: sp.csr_matrix | None = None
        self._knn: sp.csr_matrix | None = None
        self._rp3: sp.csr_matrix | None = None
        self._als_user: np.ndarray | None = None
        self._als_item: np.ndarray | None = None
        self._als_gram: np.ndarray | None = None
        self._overlay_als: dict[int, np.ndarray] = {}
        self._hist = sp.csr_matrix((0, 0), dtype=np.float32)
        self._pop = np.zeros(0, np.float32)
        # (the _pop it was read from, its scale): see ScoringMixin._pop_scale
        self._pop_scale_of: tuple[np.ndarray, np.float64] | None = None
        self._group = np.zeros(0, np.int64)
        # The re-ranking heads (their logits averaged), each a list of (weights, bias) layers;
        # none: a model from exported vectors, ranked by the tower score.
        self._heads: list[list[tuple[np.ndarray, np.ndarray]]] = []
        self._feat_mean = np.zeros(N_FEATURES)
        self._feat_std = np.ones(N_FEATURES)
        self._fold = {
            "gram": np.zeros((1, 1)),
            "neg_rhs": np.zeros(1),
            "pos": 1.0,
            "neg": -1.0,
            "alpha_scale": 0.0,
        }
        self._overlay_hist: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._overlay_vec: dict[int, np.ndarray] = {}
        self._index: VectorIndex | None = None
        self._content_index: VectorIndex | None = None
        self._featurizer: ContentFeaturizer | None = None
        self._raw_features: pd.DataFrame | None = None
        self._path: Path | None = None

    def _check(self) -> None:
        if not self._fitted:
            raise NotFittedError("HybridRecommender used before fit() or load()")

    def _user_index(self, user_id: str) -> int:
        self._check()
        u = self._users.get(user_id)
        if u < 0:
            raise UnknownUserError(user_id)
        return u

    def _item_indices(self, item_ids: Iterable[str]) -> np.ndarray:
        ids = [str(i) for i in item_ids]
        idx = self._items.lookup(ids)
        if (idx < 0).any():
            raise UnknownItemError(ids[int(np.argmax(idx < 0))])
        return idx

    def _profile(self, u: int, context: Mapping[str, object] | None = None) -> Profile:
        if u in self._overlay_hist:
            h, w = self._overlay_hist[u]
        elif u < self._hist.shape[0]:
            h = self._hist.indices[self._hist.indptr[u] : self._hist.indptr[u + 1]]
            w = self._hist.data[self._hist.indptr[u] : self._hist.indptr[u + 1]]
        else:
            h, w = np.empty(0, np.int64), np.empty(0, np.float32)
        vec = self._overlay_vec.get(u)
        if vec is None:
            vec = (
                np.asarray(self._user_vec[u])
                if u < len(self._user_vec)
                else self._solve_user(np.asarray(h, np.int64), np.asarray(w, np.float32))
            )
        if context:
            vec = vec + context_vector(context) @ self._ctx_proj
        h, w = np.asarray(h, np.int64), np.asarray(w, np.float32)
        als = self._overlay_als.get(u)
        if als is None and self._als_user is not None:
            als = self._als_user[u] if u < len(self._als_user) else self._solve_als(h, w)
        return Profile(h, w, vec, als)

    @property
    def item_ids(self) -> list[str]:
        return self._items.names(np.arange(len(self._items))).tolist()

    @property
    def user_ids(self) -> list[str]:
        return self._users.names(np.arange(len(self._users))).tolist()

    @property
    def item_count(self) -> int:
        return len(self._items)

    @property
    def retrieval_index(self) -> VectorIndex:
        self._check()
        return self._index

    def has_item(self, item_id: str) -> bool:
        return item_id in self._items

    def has_user(self, user_id: str) -> bool:
        return user_id in self._users

    def recommend(
        self,
        user_id: str,
        k: int = 20,
        exclude_seen: bool = True,
        context: Mapping[str, object] | None = None,
        candidates: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k (item_id, score), best first. ``candidates`` restricts, ``exclude`` removes."""
        prof = self._profile(self._user_index(str(user_id)), context)
        return self._rank(prof, k, exclude_seen, candidates, exclude)

    def item_content_vector(self, item_id: str) -> np.ndarray:
        """Unit content vector (zeros when the item had no features)."""
        return np.array(self._content[self._item_indices([item_id])[0]])

    def item_vector(self, item_id: str) -> np.ndarray:
        return np.array(self._item_vec[self._item_indices([item_id])[0]])

    def item_features(self, item_id: str) -> dict[str, Any]:
        """Raw features given at fit time ({} if none were given for this item)."""
        self._item_indices([item_id])
        raw = self.raw_features
        if raw is None or str(item_id) not in raw.index:
            return {}
        return raw.loc[str(item_id)].to_dict()

    @property
    def raw_features(self) -> pd.DataFrame | None:
        if self._raw_features is None and self._path is not None:
            self._load_pickles()
        return self._raw_features

    @property
    def featurizer(self) -> ContentFeaturizer | None:
        if self._featurizer is None and self._path is not None:
            self._load_pickles()
        return self._featurizer
