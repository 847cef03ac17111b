"""Serving: candidates from every generator, the head's features, re-ranking, continuation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..context import context_vector
from ..errors import (
    EmptyDataError,
)
from ..retrieval import VectorIndex, topk
from . import chunk as ck
from .chunk import Chunk
from .config import (
    Profile,
)

HEAD_BLOCK = 8192  # rows per forward pass of the head (bounds its memory; see _head_logits)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


class ScoringMixin:
    """Scoring part of HybridRecommender (state lives in recommender.py)."""

    def _top_by_index(self, index: VectorIndex, queries: np.ndarray, ex_key: np.ndarray,
                      k: int) -> np.ndarray:
        """Each row's top ``k`` items of an index, excluded pairs left out (a fixed search
        width, so a row's answer does not depend on the chunk it is in)."""
        n_items = len(index)
        if index.kind == "exact":
            return ck.exact_top(index.vectors, queries, ex_key, k)
        ids, _ = index.search_batch(queries, 2 * k)
        return ck.drop_excluded(ids, ex_key, n_items, k)

    def _content_profiles(self, hist: sp.csr_matrix) -> np.ndarray | None:
        """Unit weighted mean of each user's history content vectors (zero row: none)."""
        if not self._has_content.any():
            return None
        cp = np.asarray(hist @ np.asarray(self._content), dtype=np.float32)
        norm = np.linalg.norm(cp, axis=1, keepdims=True)
        return np.where(norm > 0, cp / np.where(norm > 0, norm, 1.0), 0.0).astype(np.float32)

    def _chunk_scores(self, chunk: Chunk) -> dict[str, Any]:
        """EASE, kNN and RP3beta scores (sparse, excluded pairs removed), content profiles."""
        return {"ease": ck.sparse_scores(chunk.hist, self._ease),
                "knn": ck.sparse_scores(chunk.hist, self._knn),
                "rp3": ck.sparse_scores(chunk.hist, self._rp3),
                "cprof": self._content_profiles(chunk.hist)}

    def _chunk_candidates(self, chunk: Chunk) -> tuple[np.ndarray, dict[str, Any]]:
        """Union of every generator's top candidates per user (padded, ascending ids)."""
        cfg = self.config
        n_items, n_src = len(self._items), cfg.candidates_per_source
        scores = self._chunk_scores(chunk)
        s_ease, s_knn, cprof = scores["ease"], scores["knn"], scores["cprof"]
        parts = [self._top_by_index(self._index, chunk.queries, chunk.ex_key, n_src)]
        if s_ease is not None:
            parts.append(ck.top_allowed(s_ease, chunk.ex_key, n_src))
        # ALS scores every item: a candidate source only where an exhaustive scan is cheap.
        if chunk.als is not None and n_items <= cfg.exact_max_items:
            parts.append(ck.exact_top(self._als_item, chunk.als, chunk.ex_key, n_src))
        if s_knn is not None:
            parts.append(ck.top_allowed(s_knn, chunk.ex_key, n_src))
        if cprof is not None and self._content_index is not None:
            top = self._top_by_index(self._content_index, cprof, chunk.ex_key, n_src)
            top[~cprof.any(axis=1)] = -1
            parts.append(top)
        return ck.union(parts), scores

    def _chunk_features(self, chunk: Chunk, cand: np.ndarray, scores: dict[str, Any]
                        ) -> np.ndarray:
        """The head's N_FEATURES for every (user, candidate): n x m x N_FEATURES float32."""
        valid = cand >= 0
        c = np.maximum(cand, 0)
        n, m = cand.shape
        zeros = np.zeros((n, m), np.float32)
        e = ck.gather(scores["ease"], cand)
        kn = ck.gather(scores["knn"], cand)
        rp = ck.gather(scores["rp3"], cand)
        t = np.einsum("nmd,nd->nm", np.asarray(self._item_vec)[c], chunk.queries)
        al = (np.einsum("nmf,nf->nm", np.asarray(self._als_item)[c], chunk.als)
              if chunk.als is not None else zeros)
        cprof = scores["cprof"]
        cdot, cmax = zeros, zeros
        if cprof is not None:
            has = cprof.any(axis=1)[:, None]
            cc = np.asarray(self._content)[c]
            cdot = np.where(has, np.einsum("nmc,nc->nm", cc, cprof), 0.0)
            hh = ck.heaviest(chunk.hist, ck.CONTENT_HISTORY)
            hc = np.asarray(self._content)[np.maximum(hh, 0)]
            cmax = np.where(has, ck.max_similarity(cc, hc, hh), 0.0)
        pop = self._pop[c]
        popf = np.log1p(pop) / self._pop_scale()
        hlen = np.log1p(np.diff(chunk.hist.indptr)).astype(np.float32)[:, None]
        gm = ck.group_share(self._group, chunk.hist, cand)
        emax = np.maximum(ck.row_max(e, valid), 1e-6)
        kmax = np.maximum(ck.row_max(kn, valid), 1e-6)
        feats = [
            e, e / emax, ck.rank_feature(e, valid),
            t, t - ck.row_max(t, valid), ck.rank_feature(t, valid),
            cdot, cmax, ck.rank_feature(cdot, valid),
            popf, (pop == 0), np.broadcast_to(hlen, (n, m)),
            gm, (gm > 0), (e == 0),
            kn, kn / kmax, ck.rank_feature(kn, valid),
            al, ck.rank_feature(al, valid),
            rp, rp / np.maximum(ck.row_max(rp, valid), 1e-6), ck.rank_feature(rp, valid),
        ]
        out = np.stack([np.asarray(f, np.float32) for f in feats], axis=2)
        out[~valid] = 0.0
        return out

    def _pop_scale(self) -> np.float64:
        """log1p of the largest popularity (at least 1): the popularity feature's scale. Kept
        with the array it was read from: a scan of every item on each ranking cost ~0.3 ms a
        user at 1M items."""
        kept = self._pop_scale_of
        if kept is None or kept[0] is not self._pop:
            kept = (self._pop, np.log1p(max(float(np.max(self._pop, initial=0.0)), 1.0)))
            self._pop_scale_of = kept
        return kept[1]

    def _head_logits(self, feats: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """The heads' mean logit per (user, candidate), -inf for padding; without a head (a
        model from exported vectors) the tower score ranks.

        The forward pass runs in float64 and rounds the logits to float32: BLAS rounds a row
        differently by its position in the product (and the product's shape), by far less than
        float32's precision, so a user's logits are the same in a chunk of one and in a chunk
        of thousands. Blocks of HEAD_BLOCK rows bound the memory.
        """
        n, m, f = feats.shape
        if not self._heads:
            return np.where(valid, feats[:, :, 3], -np.inf)
        x = feats.reshape(-1, f)
        rows = len(x)
        mean = np.asarray(self._feat_mean, np.float64)
        std = np.asarray(self._feat_std, np.float64)
        heads = [[(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in head]
                 for head in self._heads]
        out = np.empty(rows, np.float32)
        for s in range(0, rows, HEAD_BLOCK):
            z = (x[s : s + HEAD_BLOCK].astype(np.float64) - mean) / std
            total = np.zeros(len(z))
            for layers in heads:
                h = z
                for i, (w, b) in enumerate(layers):
                    h = h @ w + b
                    if i < len(layers) - 1:
                        h = _relu(h)
                total += h[:, 0]
            out[s : s + len(z)] = total / len(heads)
        return np.where(valid, out.reshape(n, m), -np.inf)

    def _score_values(self, logits: np.ndarray) -> np.ndarray:
        """What a caller sees as the score: the head's logit squashed to 0-1 (the logit ranks;
        trained listwise, it is a preference, not a calibrated probability)."""
        if not self._heads:
            return logits.astype(np.float64)
        return 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))

    def _rank_chunk(self, chunk: Chunk, candidates: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Every candidate of every user, best first: (n x m items, -1 padded; logits)."""
        if candidates is None:
            cand, scores = self._chunk_candidates(chunk)
        else:
            cand, scores = candidates, self._chunk_scores(chunk)
        if cand.shape[1] == 0:
            return cand, np.zeros(cand.shape, np.float32)
        valid = cand >= 0
        logits = self._head_logits(self._chunk_features(chunk, cand, scores), valid)
        order = np.argsort(-logits, axis=1, kind="stable")
        return (np.where(np.take_along_axis(valid, order, axis=1),
                         np.take_along_axis(cand, order, axis=1), -1),
                np.take_along_axis(logits, order, axis=1))

    def _profile_chunk(self, prof: Profile, exclude: np.ndarray) -> Chunk:
        """A chunk of one user, built exactly as the batch builds each of its rows."""
        n_items = len(self._items)
        hist = sp.csr_matrix((prof.weights.astype(np.float32),
                              (np.zeros(len(prof.hist), np.int64), prof.hist)),
                             shape=(1, n_items))
        hist.sum_duplicates()
        als = None if prof.als is None else np.asarray(prof.als, np.float32)[None, :]
        return Chunk(np.asarray(prof.vector, np.float32)[None, :], hist, als,
                     np.unique(np.asarray(exclude, np.int64)))

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
        chunk = self._profile_chunk(prof, ex_arr)
        cand = None
        if candidates is not None:
            cand = self._item_indices(candidates)
            cand = np.setdiff1d(cand, ex_arr) if len(ex_arr) else np.unique(cand)
            cand = cand[None, :]
        top, logits = self._rank_chunk(chunk, cand)
        n = int((top[0] >= 0).sum())
        values = self._score_values(logits[0, : min(k, n)])
        names = self._items.names(top[0, : len(values)]).tolist()  # one decode, not one a row
        return list(zip(names, values.tolist(), strict=True))

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
        chunk = self._profile_chunk(prof, np.empty(0, np.int64))
        cand = idx[None, :]
        feats = self._chunk_features(chunk, cand, self._chunk_scores(chunk))
        logits = self._head_logits(feats, cand >= 0)
        return self._score_values(logits[0])

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
            return list(zip(self._items.names(ids).tolist(), np.asarray(sc, float).tolist(),
                            strict=False))
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
        return list(zip(self._items.names(order).tolist(), score[order].tolist(), strict=True))
