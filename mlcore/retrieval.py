"""Top-K retrieval by inner product: exact (numpy) for small catalogs, faiss HNSW for large ones.

Item vectors are stored as a plain ``.npy`` so that serving processes open them with
``np.load(mmap_mode="r")``: the OS page cache then holds one shared copy for every web worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EXACT_MAX_ITEMS = 100_000  # below this a BLAS mat-vec is as fast as an ANN probe, and exact


def topk(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, sorted descending (argpartition: O(n) not O(n log n))."""
    k = min(k, scores.shape[-1])
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def search_threads(n: int) -> None:
    """Threads one faiss search may use, for searches started by the calling thread.

    OpenMP keeps this setting per thread: a caller that runs searches from several threads
    of its own (one per core) sets 1 in each, instead of every search asking for all cores.
    """
    import faiss  # noqa: PLC0415 - only large catalogs pay for faiss

    faiss.omp_set_num_threads(max(1, n))


def _hnsw_params(ef_search: int) -> object:
    """Search breadth for one call: per-call parameters, not the index's shared setting, so
    searches from several threads with different breadths do not change each other's."""
    import faiss  # noqa: PLC0415

    params = faiss.SearchParametersHNSW()
    params.efSearch = int(ef_search)
    return params


@dataclass
class VectorIndex:
    """Inner-product index over item vectors; ``kind`` is "exact" or "hnsw"."""

    vectors: np.ndarray
    kind: str = "exact"
    hnsw_m: int = 32
    ef_construction: int = 64
    ef_search: int = 256  # recall >= 0.95 on our 1M benchmark at ~1 ms
    _faiss: object | None = None

    @classmethod
    def build(
        cls, vectors: np.ndarray, kind: str = "auto", exact_max: int = EXACT_MAX_ITEMS, **kw: int
    ) -> VectorIndex:
        if kind == "auto":
            kind = "exact" if len(vectors) <= exact_max else "hnsw"
        idx = cls(np.ascontiguousarray(vectors, dtype=np.float32), kind=kind, **kw)
        if kind == "hnsw":
            idx._build_hnsw()
        elif kind != "exact":
            raise ValueError(f"unknown index kind {kind!r}")
        return idx

    def _build_hnsw(self) -> None:
        """HNSW over L2 after the MIPS->L2 reduction (Bachrach et al. 2014).

        Inner product is not a metric, and HNSW graphs built on it recall poorly (~0.4 on our
        benchmark). Appending sqrt(M^2 - |v|^2) to every item (M = max norm) and 0 to the query
        makes the L2-nearest item the max-inner-product item, and the graph works as designed.
        """
        import faiss  # noqa: PLC0415 - only large catalogs pay for faiss

        index = faiss.IndexHNSWFlat(self.vectors.shape[1] + 1, self.hnsw_m, faiss.METRIC_L2)
        index.hnsw.efConstruction = self.ef_construction
        step = 200_000  # augment in chunks: no second full-size copy of the catalog
        norms = np.linalg.norm(self.vectors, axis=1)
        top = float(norms.max()) if len(norms) else 0.0
        for s in range(0, len(self.vectors), step):
            chunk = np.asarray(self.vectors[s : s + step], dtype=np.float32)
            extra = np.sqrt(np.maximum(top**2 - norms[s : s + step] ** 2, 0.0))[:, None]
            index.add(np.ascontiguousarray(np.hstack([chunk, extra.astype(np.float32)])))
        index.hnsw.efSearch = self.ef_search
        self._faiss = index

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def search(
        self, query: np.ndarray, k: int, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (indices, scores) for one query vector, skipping ``exclude`` indices."""
        n_ex = 0 if exclude is None else len(exclude)
        want = min(k + n_ex, len(self))
        q = np.asarray(query, dtype=np.float32).reshape(1, -1)
        if self.kind == "exact":
            scores = self.vectors @ q[0]
            if n_ex:
                scores = scores.copy()
                scores[exclude] = -np.inf
                want = min(k, len(self))
            ids = topk(scores, want)
            sc = scores[ids]
        else:
            qa = np.hstack([q, np.zeros((1, 1), np.float32)])
            _, ids = self._faiss.search(qa, want, params=_hnsw_params(max(self.ef_search, want)))
            ids = ids[0]
            keep = ids >= 0
            if n_ex:
                keep &= ~np.isin(ids, exclude)
            ids = ids[keep]
            sc = np.asarray(self.vectors[ids] @ q[0])  # true inner products, best first
            order = np.argsort(-sc, kind="stable")
            ids, sc = ids[order], sc[order]
        keep = np.isfinite(sc)
        return ids[keep][:k].astype(np.int64), sc[keep][:k]

    def search_batch(
        self, queries: np.ndarray, k: int, ef_search: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (indices, scores) for many queries at once: rows best first, -1 / -inf pad.

        One BLAS product (exact) or one faiss call (HNSW, parallel over queries), instead of a
        Python round per query. ``ef_search`` trades recall for speed in batch jobs.
        """
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(len(queries), -1)
        k = min(k, len(self))
        if len(q) == 0 or k <= 0:
            return np.full((len(q), 0), -1, np.int64), np.full((len(q), 0), -np.inf, np.float32)
        if self.kind == "exact":
            scores = q @ np.asarray(self.vectors).T
            part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            sc = np.take_along_axis(scores, part, axis=1)
        else:
            qa = np.hstack([q, np.zeros((len(q), 1), np.float32)])
            _, part = self._faiss.search(
                qa, k, params=_hnsw_params(max(ef_search or self.ef_search, k)))
            found = part >= 0
            part = np.where(found, part, 0)
            # True inner products (the L2 distances of the reduction are not the scores).
            sc = np.einsum("nkd,nd->nk", np.asarray(self.vectors[part.ravel()]).reshape(
                len(q), k, -1), q)
            sc = np.where(found, sc, -np.inf)
        order = np.argsort(-sc, axis=1, kind="stable")
        ids = np.take_along_axis(part, order, axis=1).astype(np.int64)
        sc = np.take_along_axis(sc, order, axis=1)
        ids[~np.isfinite(sc)] = -1
        return ids, sc

    def save(self, directory: str | os.PathLike[str], name: str = "item") -> None:
        d = Path(directory)
        np.save(d / f"{name}_vectors.npy", self.vectors)
        if self.kind == "hnsw":
            import faiss  # noqa: PLC0415

            faiss.write_index(self._faiss, str(d / f"{name}_index.faiss"))

    @classmethod
    def load(cls, directory: str | os.PathLike[str], name: str = "item", mmap: bool = True
             ) -> VectorIndex:
        """Vectors memory-mapped; an HNSW index with its vector storage mapped too (faiss's
        IO_FLAG_MMAP_IFC), so only the graph is the process's own memory."""
        d = Path(directory)
        vectors = np.load(d / f"{name}_vectors.npy", mmap_mode="r" if mmap else None)
        path = d / f"{name}_index.faiss"
        if path.exists():
            import faiss  # noqa: PLC0415

            idx = cls(vectors, kind="hnsw")
            idx._faiss = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if mmap else 0)
            return idx
        return cls(vectors, kind="exact")


def recall_vs_exact(
    index: VectorIndex, queries: np.ndarray, k: int = 20, exact: VectorIndex | None = None
) -> float:
    """Mean fraction of the exact top-k that the approximate index also returns."""
    exact = exact or VectorIndex(index.vectors, kind="exact")
    hits = 0
    for q in queries:
        a, _ = index.search(q, k)
        e, _ = exact.search(q, k)
        hits += len(np.intersect1d(a, e))
    return hits / (k * len(queries))
