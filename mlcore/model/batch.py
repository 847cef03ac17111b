"""Batch: recommendations for many users per chunk, with exclusions, artist cap and reasons."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..context import context_vector
from .config import (
    BatchPlan,
)


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
        resembles most (see ``because``) or None. A retrieval-only model (no re-ranker)
        answers each chunk of users with one index search and array operations, with no
        Python work per recommended item; with a re-ranker every user goes through
        ``recommend``'s two stages.
        """
        self._check()
        exclude = exclude or {}
        known = [(str(u), self._users.get(str(u))) for u in user_ids]
        known = [(u, i) for u, i in known if i >= 0]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for s in range(0, len(known), chunk):
            part = known[s : s + chunk]
            if self._head is None:
                plan = self.batch_plan([u for u, _ in part], k, exclude_seen, context, exclude,
                                       max_per_group, ef_search, explain)
                out.update(self.batch_run(plan))
                continue
            for uid, u in part:
                extra = list(exclude.get(uid, ()))
                want = k * 3 if max_per_group else k
                ranked = self._rank(self._profile(u, context), want, exclude_seen, None, extra)
                ranked = self._group_cap(ranked, k, max_per_group)
                if explain:
                    why = self.because(uid, [i for i, _ in ranked])
                    ranked = [(i, sc, b) for (i, sc), b in zip(ranked, why, strict=True)]
                out[uid] = ranked
        return out

    def _group_cap(
        self, ranked: list[tuple[str, float]], k: int, cap: int | None
    ) -> list[tuple[str, float]]:
        if not cap:
            return ranked[:k]
        seen: dict[int, int] = {}
        out = []
        for item, score in ranked:
            g = int(self._group[self._items.get(item)])
            if g >= 0 and seen.get(g, 0) >= cap:
                continue
            seen[g] = seen.get(g, 0) + 1
            out.append((item, score))
            if len(out) == k:
                break
        return out

    def _batch_history(
        self, us: np.ndarray, context: Mapping[str, object] | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(query vectors, history rows, history items, history weights) for user indices.

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
                extra_r.append(np.full(len(prof.hist), r, np.int64))
                extra_c.append(prof.hist)
                extra_w.append(prof.weights)
            h_rows, h_cols = np.concatenate(extra_r), np.concatenate(extra_c)
            h_w = np.concatenate(extra_w)
        if context:
            queries += context_vector(context) @ self._ctx_proj
        return queries, h_rows, h_cols, h_w

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
    ) -> BatchPlan | None:
        """First half of ``recommend_batch`` for a retrieval-only model (None with a re-ranker).

        The plan reads per-user state (vectors, histories, fold-in overlays): take whatever lock
        guards ``fold_in`` around it. ``batch_run`` then reads only what never changes after
        fitting (the index, item vectors, groups), so it can run outside that lock, and two
        threads can overlap one chunk's index search with another's array work.
        """
        self._check()
        if self._head is not None:
            return None
        exclude = exclude or {}
        users = [(str(u), self._users.get(str(u))) for u in user_ids]
        users = [(u, i) for u, i in users if i >= 0]
        n_items = len(self._items)
        us = np.array([u for _, u in users], np.int64)
        queries, h_rows, h_cols, h_w = self._batch_history(us, context)
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
                         max_per_group, ef_search, explain)

    def batch_run(self, plan: BatchPlan) -> dict[str, list[tuple[Any, ...]]]:
        """Second half of ``recommend_batch``: index search, exclusions, group cap, reasons."""
        n_items, n_users, k = len(self._items), len(plan.user_ids), plan.k
        if not n_users:
            return {}
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
        names = self._item_names()
        cols = [names[top].tolist(), top_sc.tolist()]
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
            grp = np.where(keep, self._group[np.where(keep, ids, 0)], -1)
            # Rank of each candidate within its (user, group), in score order: lexsort by
            # (position, group, row), then count run lengths.
            pos = np.broadcast_to(np.arange(ids.shape[1]), ids.shape)
            flat_keep = keep.ravel()
            order = np.lexsort((pos.ravel(), grp.ravel(), rows.ravel(), ~flat_keep))
            g_sorted = np.stack([rows.ravel()[order], grp.ravel()[order]], axis=1)
            starts = np.ones(len(order), bool)
            starts[1:] = (g_sorted[1:] != g_sorted[:-1]).any(axis=1)
            run_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
            rank = np.empty(len(order), np.int64)
            rank[order] = np.arange(len(order)) - run_start
            capped = (rank.reshape(ids.shape) >= max_per_group) & (grp >= 0)
            keep &= ~capped
        keep &= np.cumsum(keep, axis=1) <= k
        # Left-align the kept candidates: row r's list is top[r, :counts[r]].
        counts = keep.sum(axis=1)
        order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
        top = np.zeros((len(ids), k), np.int64)
        top_sc = np.zeros((len(ids), k), np.float32)
        top[:, : order.shape[1]] = np.take_along_axis(ids, order, axis=1)
        top_sc[:, : order.shape[1]] = np.take_along_axis(sc, order, axis=1)
        return top, top_sc, counts

    def _item_names(self) -> np.ndarray:
        """Item ids as an object array, so that a matrix of indices maps to ids in one step."""
        if getattr(self, "_names", None) is None or len(self._names) != len(self._items):
            self._names = np.array(self._items.ids, dtype=object)
        return self._names
