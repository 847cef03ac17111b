"""Ranking metrics over id lists. Binary relevance: an item is relevant iff it is held out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Hits in the top k over all relevant items (not min(k, |rel|): the textbook definition)."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Binary-gain NDCG with log2 discount; the ideal list puts min(k, |rel|) hits first."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / np.log2(i + 2) for i, it in enumerate(ranked[:k]) if it in relevant)
    idcg = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(relevant))))
    return float(dcg / idcg)


def r_precision(ranked: Sequence[str], relevant: set[str]) -> float:
    """Precision at R = |relevant| (the RecSys 2018 playlist-continuation metric)."""
    r = len(relevant)
    if r == 0:
        return 0.0
    return len(set(ranked[:r]) & relevant) / r


def catalog_coverage(lists: Sequence[Sequence[str]], catalog_size: int) -> float:
    """Share of the catalog that appears in at least one recommendation list."""
    if catalog_size <= 0:
        return 0.0
    return len({it for lst in lists for it in lst}) / catalog_size


def intra_list_diversity(
    lists: Sequence[Sequence[str]], vectors: Mapping[str, np.ndarray] | None
) -> float:
    """Mean pairwise cosine distance between items of a list, averaged over lists.

    Items without a content vector are skipped; lists with fewer than two such items are skipped.
    """
    if not vectors:
        return float("nan")
    vals = []
    for lst in lists:
        vs = [vectors[it] for it in lst if it in vectors]
        if len(vs) < 2:
            continue
        m = np.asarray(vs, dtype=np.float64)
        m = m / (np.linalg.norm(m, axis=1, keepdims=True) + 1e-12)
        sim = m @ m.T
        n = len(vs)
        vals.append(1.0 - (sim.sum() - np.trace(sim)) / (n * (n - 1)))
    return float(np.mean(vals)) if vals else float("nan")


def evaluate_lists(
    recs: Mapping[str, Sequence[str]],
    truth: Mapping[str, set[str]],
    catalog_size: int,
    vectors: Mapping[str, np.ndarray] | None = None,
) -> dict[str, float]:
    """All report metrics for one model; users missing from ``recs`` count as empty lists."""
    users = [u for u in truth if truth[u]]
    lists = [list(recs.get(u, [])) for u in users]
    rel = [truth[u] for u in users]
    return {
        "recall@10": float(
            np.mean([recall_at_k(r, t, 10) for r, t in zip(lists, rel, strict=False)])
        ),
        "recall@20": float(
            np.mean([recall_at_k(r, t, 20) for r, t in zip(lists, rel, strict=False)])
        ),
        "ndcg@10": float(np.mean([ndcg_at_k(r, t, 10) for r, t in zip(lists, rel, strict=False)])),
        "r_precision": float(
            np.mean([r_precision(r, t) for r, t in zip(lists, rel, strict=False)])
        ),
        "coverage@10": catalog_coverage([r[:10] for r in lists], catalog_size),
        "diversity@10": intra_list_diversity([r[:10] for r in lists], vectors),
        "users": float(len(users)),
    }
