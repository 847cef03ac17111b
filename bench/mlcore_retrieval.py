"""Benchmark: mlcore recommend() latency over a synthetic 1M-item catalog, and ANN recall.

Not a test: run ``python bench/mlcore_retrieval.py [--items 1000000]`` and paste the figures into
bench/README.md ("mlcore retrieval"). Vectors are clustered Gaussians (trained embeddings are
clustered; uniform noise would be a pessimistic, unrealistic case for any ANN index).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlcore.retrieval import VectorIndex, recall_vs_exact  # noqa: E402


def synthetic(n: int, centers: np.ndarray, seed: int) -> np.ndarray:
    """Points around shared cluster centres (users and items live in one embedding space)."""
    rng = np.random.default_rng(seed)
    n_clusters, d = centers.shape
    labels = rng.integers(0, n_clusters, size=n)
    out = np.empty((n, d), np.float32)
    step = 200_000
    for s in range(0, n, step):
        lab = labels[s : s + step]
        out[s : s + step] = centers[lab] + 1.0 * rng.normal(size=(len(lab), d)).astype(np.float32)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--m", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=64)
    ap.add_argument("--ef-search", default="96,192,320", help="comma list, measured in turn")
    ap.add_argument("--nprobe", default="16,32,48,96", help="IVF lists scanned, comma list")
    ap.add_argument("--compare-hnsw", action="store_true",
                    help="with --artifact: also an HNSW index over the model's vectors")
    ap.add_argument("--threads", type=int, default=1, help="faiss threads per query (web worker)")
    ap.add_argument("--artifact", default=None,
                    help="a trained model (MODEL_DIR/<version>): recall of its own index "
                         "for its own users' vectors, instead of synthetic vectors")
    args = ap.parse_args()
    if args.artifact:
        trained_recall(args)
        return

    import faiss

    from mlcore import HybridRecommender

    centers = np.random.default_rng(0).normal(size=(2000, args.dim)).astype(np.float32)
    items = synthetic(args.items, centers, seed=1)
    users = synthetic(2000, centers, seed=2)
    t0 = time.perf_counter()
    faiss.omp_set_num_threads(2)  # build uses both cores; queries use --threads
    model = HybridRecommender.from_embeddings(
        user_ids=[f"u{i}" for i in range(len(users))],
        user_vectors=users,
        item_ids=[f"i{i}" for i in range(args.items)],
        item_vectors=items,
        index_kind="hnsw",
        hnsw_m=args.m,
        ef_construction=args.ef_construction,
        ef_search=int(args.ef_search.split(",")[0]),
    )
    build_s = time.perf_counter() - t0
    faiss.omp_set_num_threads(args.threads)
    print(
        f"machine: {platform.machine()} cores={os.cpu_count()} python={platform.python_version()}"
    )
    print(
        f"catalog={args.items:,} dim={args.dim} HNSW(M={args.m}, efC={args.ef_construction}) "
        f"build={build_s:.1f}s threads/query={args.threads}"
    )
    rng = np.random.default_rng(3)
    qs = rng.choice(len(users), size=args.queries, replace=False)
    index = model.retrieval_index
    queries = np.asarray(model._user_vec[qs[:200]])  # user vector + 1 for the bias slot
    for ef in [int(e) for e in args.ef_search.split(",")]:
        index.ef_search = ef
        for u in qs[:20]:  # warm-up: page the graph in
            model.recommend(f"u{u}", k=args.k)
        lat = []
        for u in qs:
            t = time.perf_counter()
            model.recommend(f"u{u}", k=args.k)
            lat.append((time.perf_counter() - t) * 1e3)
        lat_a = np.array(lat)
        recall = recall_vs_exact(index, queries, k=args.k)
        print(
            f"efSearch={ef}: recommend(k={args.k}) ms p50={np.percentile(lat_a, 50):.3f} "
            f"p95={np.percentile(lat_a, 95):.3f} p99={np.percentile(lat_a, 99):.3f} "
            f"(n={len(lat_a)}); recall@{args.k} vs exact={recall:.4f} (200 queries)"
        )
    exact = VectorIndex(index.vectors, kind="exact")
    t = time.perf_counter()
    for q in queries[:50]:
        exact.search(q, args.k)
    print(
        f"exact numpy search, for comparison: {(time.perf_counter() - t) / 50 * 1e3:.2f} ms/query"
    )


def trained_recall(args) -> None:
    """Recall@k of a trained model's own index against exact search, per search breadth (IVF:
    nprobe from --nprobe; HNSW: efSearch from --ef-search), with its own (context-free) user
    vectors as queries; --compare-hnsw also builds an HNSW index over the same vectors."""
    import faiss

    from mlcore import HybridRecommender

    faiss.omp_set_num_threads(args.threads)
    model = HybridRecommender.load(args.artifact)
    index = model.retrieval_index
    rng = np.random.default_rng(3)
    rows = rng.choice(len(model._user_vec), size=min(args.queries, len(model._user_vec)),
                      replace=False)
    queries = np.asarray(model._user_vec[np.sort(rows)])
    exact = VectorIndex(index.vectors, kind="exact")
    print(f"model {args.artifact}: {len(index):,} items, {index.kind} (default breadth "
          f"{index.breadth}); {len(queries)} user vectors as queries")
    _sweep(index, queries, exact, args)
    if args.compare_hnsw and index.kind != "hnsw":
        t = time.perf_counter()
        faiss.omp_set_num_threads(2)
        hnsw = VectorIndex.build(np.asarray(index.vectors), kind="hnsw", hnsw_m=args.m,
                                 ef_construction=args.ef_construction)
        faiss.omp_set_num_threads(args.threads)
        print(f"HNSW(M={args.m}, efC={args.ef_construction}) over the same vectors: built in "
              f"{time.perf_counter() - t:.0f} s")
        _sweep(hnsw, queries, exact, args)


def _sweep(index: VectorIndex, queries: np.ndarray, exact: VectorIndex, args) -> None:
    name = "nprobe" if index.kind == "ivf" else "efSearch"
    for breadth in [int(b) for b in (args.nprobe if index.kind == "ivf"
                                     else args.ef_search).split(",")]:
        setattr(index, "nprobe" if index.kind == "ivf" else "ef_search", breadth)
        lat = []
        for q in queries:
            t = time.perf_counter()
            index.search(q, args.k)
            lat.append((time.perf_counter() - t) * 1e3)
        recall = recall_vs_exact(index, queries, k=args.k, exact=exact)
        print(f"TRAINED {index.kind} {name}={breadth}: recall@{args.k} vs exact={recall:.4f}; "
              f"search p50 {np.percentile(lat, 50):.3f} ms, p95 {np.percentile(lat, 95):.3f} ms")


if __name__ == "__main__":
    main()
