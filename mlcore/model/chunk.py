"""Two-stage ranking for a chunk of users at once: candidates and head features as arrays.

Every path ranks through here -- one user (``recommend``, ``continue_sequence``), a chunk of the
batch, or the head's training users -- so a user's list is the same whichever path computes it,
and the head is trained on exactly the features it is served. Per-row results never depend on
the other rows of the chunk: searches use a fixed width, top-k selections are per row, and
scores that decide an order are recomputed element-wise rather than read off a matrix product
whose rounding depends on its shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..collab import order_keys, rowwise_topk

# The heaviest history items that "max content similarity to the history" looks at.
CONTENT_HISTORY = 50
# Exact scores are taken from a matrix product over this many more items than needed, then
# recomputed one by one: a rounding difference cannot move an item across the cut.
_RESCORE_SPARE = 8


@dataclass
class Chunk:
    """Users as arrays: query vectors, histories, ALS factors, items never to recommend."""

    queries: np.ndarray  # n x (d + 1) tower query vectors, context applied
    hist: sp.csr_matrix  # n x items, weight > 0, column-sorted rows
    als: np.ndarray | None  # n x f ALS user factors
    ex_key: np.ndarray  # sorted row * n_items + item keys to leave out

    @property
    def n(self) -> int:
        return int(self.queries.shape[0])


def exclusions_per_row(ex_key: np.ndarray, n_rows: int, n_items: int) -> int:
    """The most excluded items of any row: how much wider a top-k must look."""
    return int(np.bincount(ex_key // n_items, minlength=n_rows).max()) if len(ex_key) else 0


def drop_excluded(ids: np.ndarray, ex_key: np.ndarray, n_items: int, keep: int) -> np.ndarray:
    """The first ``keep`` ids of each row that are not excluded (-1 padded)."""
    ok = ids >= 0
    if len(ex_key):
        keys = np.arange(len(ids))[:, None] * n_items + np.where(ok, ids, 0)
        pos = np.searchsorted(ex_key, keys).clip(0, len(ex_key) - 1)
        ok &= ex_key[pos] != keys
    ok &= np.cumsum(ok, axis=1) <= keep
    order = np.argsort(~ok, axis=1, kind="stable")[:, :keep]
    out = np.take_along_axis(np.where(ok, ids, -1), order, axis=1)
    if out.shape[1] < keep:
        out = np.hstack([out, np.full((len(ids), keep - out.shape[1]), -1, np.int64)])
    return out


def sparse_scores(hist: sp.csr_matrix, item_item: sp.csr_matrix | None
                  ) -> sp.csr_matrix | None:
    """Sum of the item-item rows of each user's history items.

    A chunk's rows are left in the product's column order: sorting them cost as much as the
    product, and ``gather`` and ``rowwise_topk`` need no order (one user's row comes sorted).
    """
    if item_item is None or item_item.nnz == 0:
        return None
    if hist.shape[0] == 1:
        return _one_row_scores(hist.indices, item_item)
    binary = hist.copy()
    binary.data = np.ones_like(binary.data)
    return (binary @ item_item).tocsr()


def _one_row_scores(items: np.ndarray, item_item: sp.csr_matrix) -> sp.csr_matrix:
    """``sparse_scores`` for one user from the rows of its history items alone.

    scipy's product allocates and clears two arrays as long as the catalog (8 MB at 1M items)
    per call: for one user that was most of the cost. The sums are the product's exactly:
    float32, added in history order (np.add.at adds in index order), exact zeros dropped.
    """
    starts = np.asarray(item_item.indptr[items], np.int64)
    lens = np.asarray(item_item.indptr[items + 1], np.int64) - starts
    at = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    cols, inverse = np.unique(np.asarray(item_item.indices[at]), return_inverse=True)
    sums = np.zeros(len(cols), np.float32)
    np.add.at(sums, inverse, np.asarray(item_item.data[at], np.float32))
    keep = sums != 0
    return sp.csr_matrix((sums[keep], cols[keep], np.array([0, int(keep.sum())])),
                         shape=(1, item_item.shape[1]))


def _entries_among(scores: sp.csr_matrix, rows: np.ndarray, items: np.ndarray
                   ) -> tuple[slice | np.ndarray, np.ndarray]:
    """(positions, row * n_items + item keys) of the stored entries that may be among the
    given (row, item) pairs: every entry of a row-sorted matrix (one user's, keys ascending);
    of a chunk's unsorted product only those a 16-bit mask per item of the rows (modulo 16)
    naming it lets through -- the pairs themselves and a few strays, ~5% of a product at 1M
    items. Sorting a whole product to look entries up would cost more than the product; a
    wider mask lets fewer strays through but its table no longer stays in cache."""
    n, n_items = scores.shape
    lens = np.diff(scores.indptr)
    at: slice | np.ndarray = slice(None)
    if not scores.has_sorted_indices:
        lane = (np.uint16(1) << (np.arange(n) % 16).astype(np.uint16)).astype(np.uint16)
        wanted_by = np.zeros(n_items, np.uint16)
        np.bitwise_or.at(wanted_by, items, lane[rows])
        at = np.flatnonzero(wanted_by[scores.indices] & np.repeat(lane, lens))
    keys = np.repeat(np.arange(n, dtype=np.int64), lens)[at] * n_items + scores.indices[at]
    return at, keys


def gather(scores: sp.csr_matrix | None, cand: np.ndarray) -> np.ndarray:
    """scores[r, cand[r, j]] for a padded candidate matrix (0 where nothing is stored).

    Each (row, item) is stored once (a product sums its duplicates); the entries that may be
    wanted are matched with the wanted keys in sorted order.
    """
    out = np.zeros(cand.shape, np.float32)
    if scores is None or scores.nnz == 0:
        return out
    n_items = scores.shape[1]
    valid = cand >= 0
    rows = np.broadcast_to(np.arange(len(cand))[:, None], cand.shape)
    at, keys = _entries_among(scores, rows[valid], cand[valid])
    data = scores.data[at]
    if not scores.has_sorted_indices:
        order = np.argsort(keys)
        keys, data = keys[order], data[order]
    if not len(keys):
        return out
    want = rows * n_items + np.maximum(cand, 0)
    pos = np.searchsorted(keys, want).clip(0, len(keys) - 1)
    found = (keys[pos] == want) & valid
    out[found] = data[pos[found]]
    return out


def top_allowed(scores: sp.csr_matrix, ex_key: np.ndarray, k: int) -> np.ndarray:
    """Each row's top ``k`` items by score, excluded (row, item) pairs left out (-1 padded).

    The excluded entries are zeroed on a copy first, so the top-k looks exactly k deep:
    cutting k + the chunk's longest exclusion list and dropping exclusions afterwards made
    every row pay for the longest history in its chunk. Same items in the same order."""
    n_items = scores.shape[1]
    if scores.shape[0] == 1:
        # One user's row: cut k + its exclusions deep and drop them (cheaper than a copy).
        return drop_excluded(rowwise_topk(scores, k + len(ex_key))[0], ex_key, n_items, k)
    if len(ex_key):
        at, keys = _entries_among(scores, ex_key // n_items, ex_key % n_items)
        pos = np.searchsorted(ex_key, keys).clip(0, len(ex_key) - 1)
        data = np.array(scores.data, np.float32)
        data[np.arange(scores.nnz)[at][ex_key[pos] == keys]] = 0.0
        allowed = sp.csr_matrix((data, scores.indices, scores.indptr), shape=scores.shape)
        allowed.has_sorted_indices = scores.has_sorted_indices
        scores = allowed
    return rowwise_topk(scores, k)[0]


def exact_top(vectors: np.ndarray, queries: np.ndarray, ex_key: np.ndarray, k: int
              ) -> np.ndarray:
    """Top ``k`` items by inner product over all items, excluded pairs left out (n x k).

    faiss's exhaustive search (BLAS blocks and a heap per query) finds a few more than needed
    beyond each row's exclusions; those are re-scored one by one and cut by unique keys, so
    the answer does not depend on the product's shape.
    """
    import faiss  # noqa: PLC0415

    n_items = vectors.shape[0]
    want = min(n_items, k + exclusions_per_row(ex_key, len(queries), n_items) + _RESCORE_SPARE)
    q = np.ascontiguousarray(queries, np.float32)
    _, part = faiss.knn(q, np.ascontiguousarray(vectors, np.float32), want,
                        metric=faiss.METRIC_INNER_PRODUCT)
    exact = np.einsum("nkd,nd->nk", np.asarray(vectors)[np.maximum(part, 0)], q)
    keys = order_keys(np.where(part >= 0, exact, -np.inf), part, n_items)
    ids = np.take_along_axis(part, np.argsort(-keys, axis=1), axis=1)
    return drop_excluded(ids, ex_key, n_items, k)


def union(parts: list[np.ndarray]) -> np.ndarray:
    """Row-wise union of padded candidate matrices: ascending item order, -1 padded."""
    allc = np.sort(np.hstack(parts), axis=1)
    dup = np.zeros(allc.shape, bool)
    dup[:, 1:] = allc[:, 1:] == allc[:, :-1]
    allc[dup] = -1
    # Valid items to the front, still ascending: sort with -1 mapped past every item.
    top = np.iinfo(np.int64).max
    allc = np.sort(np.where(allc < 0, top, allc), axis=1)
    width = int((allc != top).sum(axis=1).max()) if len(allc) else 0
    allc = allc[:, :width]
    return np.where(allc == top, -1, allc)


def heaviest(hist: sp.csr_matrix, limit: int) -> np.ndarray:
    """Each row's ``limit`` heaviest history items (ties: lower index first), -1 padded."""
    n = hist.shape[0]
    lens = np.diff(hist.indptr)
    rows = np.repeat(np.arange(n), lens)
    order = np.lexsort((hist.indices, -hist.data, rows))
    rank = np.arange(len(order)) - np.repeat(hist.indptr[:-1], lens)
    width = int(min(limit, lens.max())) if n and lens.max() > 0 else 1
    out = np.full((n, width), -1, np.int64)
    keep = rank < width
    out[rows[keep], rank[keep]] = hist.indices[order][keep]
    return out


def max_similarity(cand_vecs: np.ndarray, hist_vecs: np.ndarray, hist_ids: np.ndarray,
                   spare: int = 2) -> np.ndarray:
    """max over each row's history items (-1: padding) of candidate . history vector, for n x m
    candidates. One batched BLAS product finds each candidate's ``spare`` best history items;
    their products are then recomputed one by one, since the product's rounding depends on
    the chunk's shape and a user's value must not."""
    n = len(cand_vecs)
    sims = np.matmul(cand_vecs, hist_vecs.transpose(0, 2, 1))
    pad = np.broadcast_to((hist_ids < 0)[:, None, :], sims.shape)
    sims[pad] = -np.inf
    j = min(spare, sims.shape[2])
    best = np.argpartition(-sims, j - 1, axis=2)[:, :, :j]
    rows = np.arange(n)[:, None, None]
    exact = np.einsum("nmc,nmjc->nmj", cand_vecs, hist_vecs[rows, best])
    exact[hist_ids[rows, best] < 0] = -np.inf
    return exact.max(axis=2)


def rank_feature(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """1/log2(2 + rank) within each row's valid candidates: scale-free across users."""
    order = np.argsort(np.where(valid, -x, np.inf), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(x.shape[1])[None, :].repeat(len(x), 0), axis=1)
    return (1.0 / np.log2(2.0 + rank)).astype(np.float32)


def row_max(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return np.where(valid, x, -np.inf).max(axis=1, initial=-np.inf)[:, None]


def group_share(groups: np.ndarray, hist: sp.csr_matrix, cand: np.ndarray) -> np.ndarray:
    """Share of each user's history by the candidate's group (artist): n x m."""
    n = hist.shape[0]
    lens = np.diff(hist.indptr)
    rows = np.repeat(np.arange(n), lens)
    hg = groups[hist.indices]
    ok = hg >= 0
    if not ok.any():
        return np.zeros(cand.shape, np.float32)
    # Group codes are below the item count: a bound read without scanning the item arrays
    # (their max is ~0.3 ms at 1M items, most of one user's share).
    n_groups = len(groups)
    keys, counts = np.unique(rows[ok] * n_groups + hg[ok], return_counts=True)
    cg = groups[np.maximum(cand, 0)]
    want = np.arange(n)[:, None] * n_groups + cg
    pos = np.searchsorted(keys, want).clip(0, len(keys) - 1)
    hit = (keys[pos] == want) & (cg >= 0) & (cand >= 0)
    share = np.where(hit, counts[pos] / np.maximum(lens, 1)[:, None], 0.0)
    return share.astype(np.float32)


def over_group_cap(ids: np.ndarray, groups: np.ndarray, cap: int) -> np.ndarray:
    """Entries of each row (in column order) beyond the first ``cap`` of their group."""
    keep = ids >= 0
    rows = np.broadcast_to(np.arange(len(ids))[:, None], ids.shape)
    grp = np.where(keep, groups[np.where(keep, ids, 0)], -1)
    # Rank of each entry within its (row, group), in column order: lexsort by (position,
    # group, row), then count run lengths.
    pos = np.broadcast_to(np.arange(ids.shape[1]), ids.shape)
    order = np.lexsort((pos.ravel(), grp.ravel(), rows.ravel(), ~keep.ravel()))
    g_sorted = np.stack([rows.ravel()[order], grp.ravel()[order]], axis=1)
    starts = np.ones(len(order), bool)
    starts[1:] = (g_sorted[1:] != g_sorted[:-1]).any(axis=1)
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order)) - run_start
    return (rank.reshape(ids.shape) >= cap) & (grp >= 0) & keep
