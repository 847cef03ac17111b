"""Serving: candidates from every generator, the head's features, re-ranking, continuation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ..context import context_vector
from ..errors import (
    EmptyDataError,
)
from ..retrieval import topk
from .config import (
    N_FEATURES,
    Profile,
)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _rank_feature(x: np.ndarray) -> np.ndarray:
    """1/log2(2 + rank) within the candidate list: scale-free, comparable across users."""
    r = np.empty(len(x), dtype=np.float64)
    r[np.argsort(-x, kind="stable")] = np.arange(len(x))
    return 1.0 / np.log2(2.0 + r)


class ScoringMixin:
    """Scoring part of HybridRecommender (state lives in recommender.py)."""

    def _ease_scores(self, prof: Profile) -> np.ndarray | None:
        if self._ease is None or self._ease.nnz == 0 or len(prof.hist) == 0:
            return None
        return np.asarray(self._ease[prof.hist].sum(axis=0)).ravel()

    def _knn_scores(self, prof: Profile) -> np.ndarray | None:
        if self._knn is None or self._knn.nnz == 0 or len(prof.hist) == 0:
            return None
        return np.asarray(self._knn[prof.hist].sum(axis=0)).ravel()

    def _content_profile(self, prof: Profile) -> np.ndarray | None:
        if len(prof.hist) == 0 or not self._has_content[prof.hist].any():
            return None
        cp = (self._content[prof.hist] * prof.weights[:, None]).sum(axis=0)
        n = np.linalg.norm(cp)
        return (cp / n).astype(np.float32) if n > 0 else None

    def _candidates_and_features(
        self, prof: Profile, exclude: np.ndarray, candidates: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        n_src = self.config.candidates_per_source
        ease = self._ease_scores(prof)
        cprof = self._content_profile(prof)
        if candidates is None:
            parts = [self._index.search(prof.vector, n_src, exclude)[0]]
            if ease is not None:
                e = ease.copy()
                e[exclude] = -np.inf
                top = topk(e, n_src)
                parts.append(top[e[top] > 0])
            if prof.als is not None:
                a = self._als_item @ prof.als
                a[exclude] = -np.inf
                parts.append(topk(a, n_src))
            knn = self._knn_scores(prof)
            if knn is not None:
                kk = knn.copy()
                kk[exclude] = -np.inf
                top = topk(kk, n_src)
                parts.append(top[kk[top] > 0])
            if cprof is not None and self._content_index is not None:
                parts.append(self._content_index.search(cprof, n_src, exclude)[0])
            cand = np.unique(np.concatenate(parts))
        else:
            cand = candidates
        if len(cand) == 0:
            return cand, np.zeros((0, N_FEATURES))
        return cand, self._features(cand, prof, ease, cprof)

    def _features(
        self, cand: np.ndarray, prof: Profile, ease: np.ndarray | None, cprof: np.ndarray | None
    ) -> np.ndarray:
        m = len(cand)
        e = ease[cand] if ease is not None else np.zeros(m)
        knn = self._knn_scores(prof)
        kn = knn[cand] if knn is not None else np.zeros(m)
        al = self._als_item[cand] @ prof.als if prof.als is not None else np.zeros(m)
        t = self._item_vec[cand] @ prof.vector
        if cprof is not None:
            cc = self._content[cand]
            c = cc @ cprof
            cmax = (cc @ self._content[prof.hist].T).max(axis=1)
        else:
            c = cmax = np.zeros(m)
        pop = self._pop[cand]
        popf = np.log1p(pop) / np.log1p(max(float(self._pop.max()), 1.0))
        gm = np.zeros(m)
        if len(prof.hist) and (self._group[cand] >= 0).any():
            hg = self._group[prof.hist]
            hg = hg[hg >= 0]
            if len(hg):
                vals, cnt = np.unique(hg, return_counts=True)
                pos = np.searchsorted(vals, self._group[cand]).clip(0, len(vals) - 1)
                hit = vals[pos] == self._group[cand]
                gm = np.where(hit, cnt[pos] / len(prof.hist), 0.0)
        emax = max(float(e.max()), 1e-6)
        return np.column_stack(
            [
                e,
                e / emax,
                _rank_feature(e),
                t,
                t - t.max(),
                _rank_feature(t),
                c,
                cmax,
                _rank_feature(c),
                popf,
                (pop == 0).astype(float),
                np.full(m, np.log1p(len(prof.hist))),
                gm,
                (gm > 0).astype(float),
                (e == 0).astype(float),
                kn,
                kn / max(float(kn.max()), 1e-6),
                _rank_feature(kn),
                al,
                _rank_feature(al),
            ]
        )

    def _head_scores(self, feats: np.ndarray, fallback: np.ndarray) -> np.ndarray:
        if self._head is None:
            return fallback
        h = (feats - self._feat_mean) / self._feat_std
        for i, (w, b) in enumerate(self._head):
            h = h @ w + b
            h = _relu(h) if i < len(self._head) - 1 else 1.0 / (1.0 + np.exp(-h))
        return h[:, 0]

    def _rank(
        self,
        prof: Profile,
        k: int,
        exclude_seen: bool,
        candidates: Iterable[str] | None,
        exclude: Iterable[str] | None,
    ) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        ex = [prof.hist] if exclude_seen else []
        if exclude is not None:
            e_idx = self._items.lookup(exclude)
            ex.append(e_idx[e_idx >= 0])  # unknown ids cannot be recommended anyway
        ex_arr = np.unique(np.concatenate(ex)) if ex else np.empty(0, np.int64)
        cand = None
        if candidates is not None:
            cand = self._item_indices(candidates)
            cand = np.setdiff1d(cand, ex_arr) if len(ex_arr) else np.unique(cand)
        elif self._head is None:
            # No re-ranker (e.g. a model built from exported embeddings): retrieval is the answer.
            ids, sc = self._index.search(prof.vector, k, ex_arr)
            return [(self._items.ids[i], float(s)) for i, s in zip(ids, sc, strict=False)]
        cand, feats = self._candidates_and_features(prof, ex_arr, cand)
        if len(cand) == 0:
            return []
        scores = self._head_scores(feats, feats[:, 3])
        order = topk(scores, k)
        return [(self._items.ids[cand[i]], float(scores[i])) for i in order]

    def score_items(
        self,
        user: str | np.ndarray,
        item_ids: Sequence[str],
        context: Mapping[str, object] | None = None,
    ) -> np.ndarray:
        """Scores for a given candidate list, aligned with ``item_ids``.

        A user id gets the full re-ranker score; a bare user vector (from ``user_vector``) has
        no history, so it gets the tower dot product.
        """
        self._check()
        idx = self._item_indices(item_ids)
        if isinstance(user, np.ndarray):
            vec = user.astype(np.float32)
            if context:
                vec = vec + context_vector(context) @ self._ctx_proj
            return np.asarray(self._item_vec[idx] @ vec, dtype=np.float64)
        prof = self._profile(self._user_index(str(user)), context)
        if len(idx) == 0:
            return np.zeros(0)
        feats = self._features(idx, prof, self._ease_scores(prof), self._content_profile(prof))
        return self._head_scores(feats, feats[:, 3])

    def continue_sequence(
        self,
        item_ids: Sequence[str],
        k: int = 20,
        context: Mapping[str, object] | None = None,
        exclude: Iterable[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Playlist continuation: rank items to follow the given seed tracks."""
        self._check()
        idx = self._item_indices(item_ids)
        if len(idx) == 0:
            raise EmptyDataError("continue_sequence needs at least one seed item")
        idx = np.unique(idx)
        w = np.ones(len(idx), np.float32)
        vec = self._solve_user(idx, w)
        if context:
            vec = vec + context_vector(context) @ self._ctx_proj
        prof = Profile(idx, w, vec, self._solve_als(idx, w))
        return self._rank(prof, k, True, None, exclude)

    def similar_items(self, item_id: str, k: int = 20) -> list[tuple[str, float]]:
        """Items like this one: tower-vector cosine blended with content cosine.

        An item with no interactions has no learned id embedding, so it is matched on content
        alone; that is what makes brand-new tracks discoverable.
        """
        self._check()
        i = int(self._item_indices([item_id])[0])
        n = len(self._items)
        if n > self.config.exact_max_items:
            ids, sc = self._index.search(self._item_vec[i], k, np.array([i]))
            return [(self._items.ids[j], float(s)) for j, s in zip(ids, sc, strict=False)]
        score = np.zeros(n)
        if self._has_content[i]:
            score += self._content @ self._content[i]
        if self._pop[i] > 0:
            v = self._item_vec[:, :-1]
            cos = (v @ v[i]) / (np.linalg.norm(v, axis=1) * np.linalg.norm(v[i]) + 1e-9)
            score = 0.5 * score + cos if self._has_content[i] else cos
        elif not self._has_content[i]:
            score = self._pop.astype(np.float64).copy()  # nothing known: popular items
        score[i] = -np.inf
        order = topk(score, k)
        return [(self._items.ids[j], float(score[j])) for j in order]
