"""Batch: recommendations for many users per chunk, with exclusions, artist cap and reasons."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..context import context_vector
from . import chunk as ck
from .chunk import Chunk
from .config import (
    BatchPlan,
)

# Users ranked together with the head, however many a plan holds: a chunk's arrays (sparse
# products, candidate and history vectors) outgrow the CPU's caches beyond a few hundred rows
# -- 2,000 rows ran at 179 users/s against 315 for 256 (2552be42, one thread).
RANK_ROWS = 256


def _plan_rows(plan: BatchPlan, start: int, stop: int, n_items: int) -> BatchPlan:
    """Rows start..stop-1 of a plan as a plan of their own (rows numbered from 0). Ranking is
    per row, so the parts' lists are the whole plan's."""
    if start == 0 and stop >= len(plan.user_ids):
        return plan
    mine = (plan.h_rows >= start) & (plan.h_rows < stop)
    lo, hi = np.searchsorted(plan.ex_key, [start * n_items, stop * n_items])
    return replace(plan, user_ids=plan.user_ids[start:stop], queries=plan.queries[start:stop],
                   h_rows=plan.h_rows[mine] - start, h_cols=plan.h_cols[mine],
                   h_w=plan.h_w[mine], ex_key=plan.ex_key[lo:hi] - start * n_items,
                   als=None if plan.als is None else plan.als[start:stop])


class BatchMixin:
    """Batch part of HybridRecommender (state lives in recommender.py)."""

    def recommend_batch(
        self,
        user_ids: Sequence[str],
        k: int = 20,
        exclude_seen: bool = True,
        context: Mapping[str, object] | None = None,
        exclude: Mapping[str, Iterable[str]] | None = None,
        max_per_group: int | None = None,
        ef_search: int | None = None,
        chunk: int = 2048,
        explain: bool = False,
    ) -> dict[str, list[tuple[Any, ...]]]:
        """Top-k for many users; users the model does not know are left out of the answer.

        ``exclude`` maps a user id to items to leave out (besides the history when
        ``exclude_seen``); ``max_per_group`` caps items per group (artist) in each list;
        ``explain`` adds a third element to each pair: the history item the recommendation
        resembles most (see ``because``) or None. Each chunk of users is one plan and one
        run: candidates, the head's features and its forward pass as arrays, with no Python
        work per user or per recommended item (``recommend`` is a chunk of one).
        """
        self._check()
        exclude = exclude or {}
        known = [(str(u), self._users.get(str(u))) for u in user_ids]
        known = [(u, i) for u, i in known if i >= 0]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for s in range(0, len(known), chunk):
            part = known[s : s + chunk]
            plan = self.batch_plan([u for u, _ in part], k, exclude_seen, context, exclude,
                                   max_per_group, ef_search, explain)
            out.update(self.batch_run(plan))
        return out

    def _batch_history(
        self, us: np.ndarray, context: Mapping[str, object] | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(query vectors, history rows, items, weights, ALS factors) for user indices.

        Stored users come from the saved matrices in one gather each; users folded in since
        (overlays) or added after training go through ``_profile`` one by one.
        """
        n = len(us)
        queries = np.zeros((n, self._item_vec.shape[1]), np.float32)
        n_hist = self._hist.shape[0]
        in_hist = us < n_hist
        sub = self._hist[us[in_hist]]
        rows_in = np.flatnonzero(in_hist)
        h_rows = np.repeat(rows_in, np.diff(sub.indptr))
        h_cols, h_w = sub.indices.astype(np.int64), sub.data.astype(np.float32)
        stored = us < len(self._user_vec)
        queries[stored] = np.asarray(self._user_vec[us[stored]])
        als = None
        if self._als_user is not None:
            als = np.zeros((n, self._als_user.shape[1]), np.float32)
            als[stored] = np.asarray(self._als_user[us[stored]])
        special = [
            r
            for r, u in enumerate(us.tolist())
            if u in self._overlay_vec or u in self._overlay_hist or u >= len(self._user_vec)
        ]
        if special:
            drop = np.isin(h_rows, special)
            h_rows, h_cols, h_w = h_rows[~drop], h_cols[~drop], h_w[~drop]
            extra_r, extra_c, extra_w = [h_rows], [h_cols], [h_w]
            for r in special:
                prof = self._profile(int(us[r]))
                queries[r] = prof.vector
                if als is not None and prof.als is not None:
                    als[r] = prof.als
                extra_r.append(np.full(len(prof.hist), r, np.int64))
                extra_c.append(prof.hist)
                extra_w.append(prof.weights)
            h_rows, h_cols = np.concatenate(extra_r), np.concatenate(extra_c)
            h_w = np.concatenate(extra_w)
        if context:
            queries += context_vector(context) @ self._ctx_proj
        return queries, h_rows, h_cols, h_w, als

    def batch_plan(
        self,
        user_ids: Sequence[str],
        k: int = 20,
        exclude_seen: bool = True,
        context: Mapping[str, object] | None = None,
        exclude: Mapping[str, Iterable[str]] | None = None,
        max_per_group: int | None = None,
        ef_search: int | None = None,
        explain: bool = False,
    ) -> BatchPlan:
        """First half of ``recommend_batch``: the chunk's users as arrays.

        The plan reads per-user state (vectors, histories, fold-in overlays): take whatever lock
        guards ``fold_in`` around it. ``batch_run`` then reads only what never changes after
        fitting (the index, item vectors, groups), so it can run outside that lock, and two
        threads can overlap one chunk's index search with another's array work.
        """
        self._check()
        exclude = exclude or {}
        users = [(str(u), self._users.get(str(u))) for u in user_ids]
        users = [(u, i) for u, i in users if i >= 0]
        n_items = len(self._items)
        us = np.array([u for _, u in users], np.int64)
        queries, h_rows, h_cols, h_w, als = self._batch_history(us, context)
        ex_rows, ex_cols = ([h_rows], [h_cols]) if exclude_seen else ([], [])
        for r, (uid, _) in enumerate(users):
            if uid in exclude:
                e = self._items.lookup(exclude[uid])
                ex_rows.append(np.full(int((e >= 0).sum()), r, np.int64))
                ex_cols.append(e[e >= 0])
        ex_key = (
            np.unique(np.concatenate(ex_rows) * n_items + np.concatenate(ex_cols))
            if ex_rows
            else np.empty(0, np.int64)
        )
        return BatchPlan([u for u, _ in users], queries, h_rows, h_cols, h_w, ex_key, k,
                         max_per_group, ef_search, explain, als)

    def batch_run(self, plan: BatchPlan) -> dict[str, list[tuple[Any, ...]]]:
        """Second half of ``recommend_batch``: candidates, head, exclusions, group cap, reasons.

        A retrieval-only model (no head) answers with one index search per chunk."""
        n_items, n_users, k = len(self._items), len(plan.user_ids), plan.k
        if not n_users:
            return {}
        if self._heads:
            out: dict[str, list[tuple[Any, ...]]] = {}
            for start in range(0, n_users, RANK_ROWS):
                out.update(self._run_ranked(_plan_rows(plan, start, start + RANK_ROWS, n_items)))
            return out
        per_row = (
            np.bincount(plan.ex_key // n_items, minlength=n_users)
            if len(plan.ex_key)
            else np.zeros(n_users, np.int64)
        )
        # Oversample so that exclusions and the artist cap still leave k per user: enough for
        # nine users in ten at once; the rest are searched again, wider.
        spare = k if plan.max_per_group else 0
        want = min(n_items, k + spare + int(np.percentile(per_row, 90)))
        top, top_sc, counts = self._retrieve_rows(plan.queries, np.arange(n_users), plan.ex_key,
                                                  want, k, plan.max_per_group, plan.ef_search)
        short = np.flatnonzero((counts < k) & (want < n_items))
        if len(short):
            wide = min(n_items, k + 2 * spare + int(per_row[short].max()) + k)
            t2, s2, c2 = self._retrieve_rows(plan.queries[short], short, plan.ex_key, wide, k,
                                             plan.max_per_group, plan.ef_search)
            top[short], top_sc[short], counts[short] = t2, s2, c2
        return self._lists(plan, top, top_sc, counts)

    def _run_ranked(self, plan: BatchPlan) -> dict[str, list[tuple[Any, ...]]]:
        """``batch_run`` with the head: every candidate ranked, then exclusions and the cap."""
        n_users, k = len(plan.user_ids), plan.k
        hist = sp.csr_matrix((plan.h_w.astype(np.float32), (plan.h_rows, plan.h_cols)),
                             shape=(n_users, len(self._items)))
        hist.sum_duplicates()
        ranked, logits = self._rank_chunk(Chunk(plan.queries, hist, plan.als, plan.ex_key))
        keep = ranked >= 0
        if plan.max_per_group:
            keep &= ~ck.over_group_cap(ranked, self._group, plan.max_per_group)
        keep &= np.cumsum(keep, axis=1) <= k
        counts = keep.sum(axis=1)
        order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
        top = np.zeros((n_users, k), np.int64)
        top_sc = np.zeros((n_users, k), np.float64)
        top[:, : order.shape[1]] = np.take_along_axis(ranked, order, axis=1)
        top_sc[:, : order.shape[1]] = self._score_values(np.take_along_axis(logits, order, axis=1))
        return self._lists(plan, top, top_sc, counts)

    def _lists(self, plan: BatchPlan, top: np.ndarray, top_sc: np.ndarray, counts: np.ndarray
               ) -> dict[str, list[tuple[Any, ...]]]:
        """Rows of item indices -> {user id: [(item id, score[, because])]}."""
        n_users = len(plan.user_ids)
        cols = [self._items.names(top).tolist(), top_sc.tolist()]
        if plan.explain:
            why = self._because_matrix(np.where(np.arange(top.shape[1]) < counts[:, None], top, -1),
                                       plan.h_rows, plan.h_cols, plan.h_w, n_users)
            cols.append(why)
        out = {}
        for r, uid in enumerate(plan.user_ids):
            n = int(counts[r])
            out[uid] = list(zip(*(c[r][:n] for c in cols), strict=True))
        return out

    def _retrieve_rows(
        self,
        queries: np.ndarray,
        row_ids: np.ndarray,
        ex_key: np.ndarray,
        want: int,
        k: int,
        max_per_group: int | None,
        ef_search: int | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Search, drop excluded (row, item) keys, cap groups: (top k, their scores, counts)."""
        n_items = len(self._items)
        ids, sc = self._index.search_batch(queries, want, ef_search=ef_search)
        rows = np.repeat(row_ids, ids.shape[1]).reshape(ids.shape)
        keep = ids >= 0
        if len(ex_key):
            keep &= ~np.isin(rows * n_items + np.where(keep, ids, 0), ex_key)
        if max_per_group:
            keep &= ~ck.over_group_cap(np.where(keep, ids, -1), self._group, max_per_group)
        keep &= np.cumsum(keep, axis=1) <= k
        # Left-align the kept candidates: row r's list is top[r, :counts[r]].
        counts = keep.sum(axis=1)
        order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
        top = np.zeros((len(ids), k), np.int64)
        top_sc = np.zeros((len(ids), k), np.float32)
        top[:, : order.shape[1]] = np.take_along_axis(ids, order, axis=1)
        top_sc[:, : order.shape[1]] = np.take_along_axis(sc, order, axis=1)
        return top, top_sc, counts
