"""Top-K retrieval by inner product: exact (numpy) for small catalogs, faiss for large ones.

Large catalogs get an inverted-file index (IVF-Flat) by default; HNSW stays available. On the
embeddings `train_model` produces at 1M tracks, HNSW recalled 0.79 of the exact top-20 at
efSearch 256 and 0.93 at 2048 (too slow to serve), while IVF scans whole clusters exactly and
the trained vectors cluster well (bench/README.md gives the figures for both).

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


def _search_params(kind: str, breadth: int) -> object:
    """Search breadth for one call (HNSW's efSearch, IVF's nprobe): per-call parameters, not the
    index's shared setting, so searches from several threads do not change each other's."""
    import faiss  # noqa: PLC0415

    if kind == "ivf":
        params = faiss.SearchParametersIVF()
        params.nprobe = int(breadth)
    else:
        params = faiss.SearchParametersHNSW()
        params.efSearch = int(breadth)
    return params


def _l2_augmented(vectors: np.ndarray, step: int = 200_000):
    """Chunks of the vectors with sqrt(M^2 - |v|^2) appended (M = max norm): the MIPS->L2
    reduction (Bachrach et al. 2014). Inner product is not a metric, and graphs or clusters
    built on it recall poorly (~0.4 for HNSW on our benchmark); after the reduction the
    L2-nearest item (query gets a 0 appended) is the max-inner-product item. In chunks: no
    second full-size copy of the catalog."""
    norms = np.linalg.norm(vectors, axis=1)
    top = float(norms.max()) if len(norms) else 0.0
    for s in range(0, len(vectors), step):
        chunk = np.asarray(vectors[s : s + step], dtype=np.float32)
        extra = np.sqrt(np.maximum(top**2 - norms[s : s + step] ** 2, 0.0))[:, None]
        yield np.ascontiguousarray(np.hstack([chunk, extra.astype(np.float32)]))


@dataclass
class VectorIndex:
    """Inner-product index over item vectors; ``kind`` is "exact", "ivf" or "hnsw"."""

    vectors: np.ndarray
    kind: str = "exact"
    hnsw_m: int = 32
    ef_construction: int = 64
    ef_search: int = 256
    # IVF: lists (0: about 4 sqrt(n)) and how many of them a search scans.
    nlist: int = 0
    nprobe: int = 160  # recall@20 0.96 against exact on the trained 1M model (bench/README.md)
    _faiss: object | None = None

    @classmethod
    def build(
        cls, vectors: np.ndarray, kind: str = "auto", exact_max: int = EXACT_MAX_ITEMS, **kw: int
    ) -> VectorIndex:
        if kind == "auto":
            kind = "exact" if len(vectors) <= exact_max else "ivf"
        idx = cls(np.ascontiguousarray(vectors, dtype=np.float32), kind=kind, **kw)
        if kind == "hnsw":
            idx._build_hnsw()
        elif kind == "ivf":
            idx._build_ivf()
        elif kind != "exact":
            raise ValueError(f"unknown index kind {kind!r}")
        return idx

    @property
    def breadth(self) -> int:
        """The default search breadth: efSearch (HNSW) or nprobe (IVF)."""
        return self.nprobe if self.kind == "ivf" else self.ef_search

    def _build_hnsw(self) -> None:
        """HNSW over L2 after the MIPS->L2 reduction."""
        import faiss  # noqa: PLC0415 - only large catalogs pay for faiss

        index = faiss.IndexHNSWFlat(self.vectors.shape[1] + 1, self.hnsw_m, faiss.METRIC_L2)
        index.hnsw.efConstruction = self.ef_construction
        for chunk in _l2_augmented(self.vectors):
            index.add(chunk)
        index.hnsw.efSearch = self.ef_search
        self._faiss = index

    def _build_ivf(self, sample_per_list: int = 64, seed: int = 0) -> None:
        """IVF-Flat over L2 after the MIPS->L2 reduction: k-means lists trained on a sample
        (64 vectors a list, faiss's advice), every vector kept exactly in its list."""
        import faiss  # noqa: PLC0415

        n, dim = len(self.vectors), self.vectors.shape[1] + 1
        self.nlist = self.nlist or int(min(max(4 * np.sqrt(n), 16), 16_384, max(n // 39, 1)))
        quantizer = faiss.IndexFlatL2(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, self.nlist, faiss.METRIC_L2)
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(n, size=min(n, self.nlist * sample_per_list), replace=False))
        index.train(np.vstack(list(_l2_augmented(self.vectors[sample]))))
        for chunk in _l2_augmented(self.vectors):
            index.add(chunk)
        index.nprobe = self.nprobe
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
            breadth = self.nprobe if self.kind == "ivf" else max(self.ef_search, want)
            _, ids = self._faiss.search(qa, want, params=_search_params(self.kind, breadth))
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
        Python round per query. ``ef_search`` trades recall for speed in batch jobs (HNSW;
        an IVF index scans its own ``nprobe`` lists).
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
            breadth = (self.nprobe if self.kind == "ivf"
                       else max(ef_search or self.ef_search, k))
            _, part = self._faiss.search(qa, k, params=_search_params(self.kind, breadth))
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
        if self.kind in ("hnsw", "ivf"):
            import faiss  # noqa: PLC0415

            faiss.write_index(self._faiss, str(d / f"{name}_index.faiss"))

    @classmethod
    def load(cls, directory: str | os.PathLike[str], name: str = "item", mmap: bool = True
             ) -> VectorIndex:
        """Vectors memory-mapped, and the index's vectors too: an IVF index's lists (faiss's
        IO_FLAG_MMAP: on-disk inverted lists), an HNSW index's storage (IO_FLAG_MMAP_IFC, only
        the graph is the process's own memory). Mapped pages are shared by every worker."""
        d = Path(directory)
        vectors = np.load(d / f"{name}_vectors.npy", mmap_mode="r" if mmap else None)
        path = d / f"{name}_index.faiss"
        if not path.exists():
            return cls(vectors, kind="exact")
        import faiss  # noqa: PLC0415

        # The file names its kind in its first four bytes ("IwFl": IVF-Flat; HNSW otherwise).
        with open(path, "rb") as f:
            ivf = f.read(4) == b"IwFl"
        flags = (faiss.IO_FLAG_MMAP if ivf else faiss.IO_FLAG_MMAP_IFC) if mmap else 0
        index = faiss.read_index(str(path), flags)
        if ivf and mmap:
            # On-disk lists "prefetch" each search's lists on 32 threads of their own, started
            # per search: 4x the cost of the scan itself for lists already in the page cache.
            lists = faiss.downcast_InvertedLists(faiss.extract_index_ivf(index).invlists)
            lists.prefetch_nthread = 0
        if ivf:
            return cls(vectors, kind="ivf", nlist=int(index.nlist), nprobe=int(index.nprobe),
                       _faiss=index)
        return cls(vectors, kind="hnsw", _faiss=index)


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
