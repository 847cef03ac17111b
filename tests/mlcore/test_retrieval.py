import faiss
import numpy as np

from mlcore.retrieval import VectorIndex, recall_vs_exact, topk


def _vectors(n: int = 3000, d: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(40, d))
    return (centers[rng.integers(0, 40, n)] + 0.5 * rng.normal(size=(n, d))).astype(np.float32)


def test_topk_is_sorted_and_exact():
    x = np.array([0.1, 5.0, -1.0, 3.0, 4.0])
    assert topk(x, 3).tolist() == [1, 4, 3]
    assert topk(x, 10).tolist() == [1, 4, 3, 0, 2]


def test_exact_and_approximate_indexes_agree(tmp_path):
    v = _vectors()
    exact = VectorIndex.build(v, kind="exact")
    q = _vectors(50, seed=1)
    for approx in (VectorIndex.build(v, kind="hnsw", ef_search=200),
                   VectorIndex.build(v, kind="ivf", nprobe=16)):
        assert recall_vs_exact(approx, q, k=10, exact=exact) >= 0.95, approx.kind
    ids, scores = exact.search(q[0], 10)
    np.testing.assert_allclose(scores, v[ids] @ q[0], rtol=1e-5)


def test_auto_kind_and_exclusion():
    v = _vectors(500)
    assert VectorIndex.build(v).kind == "exact"
    assert VectorIndex.build(v, exact_max=100).kind == "ivf"
    for kind in ("exact", "hnsw", "ivf"):
        idx = VectorIndex.build(v, kind=kind)
        top, _ = idx.search(v[0], 5)
        top2, _ = idx.search(v[0], 5, exclude=top[:2])
        assert not set(top[:2]) & set(top2.tolist())
        assert len(top2) == 5


def test_saved_vectors_load_memory_mapped(tmp_path):
    v = _vectors(400)
    exact = VectorIndex.build(v).search(v[3], 5)[0].tolist()
    for kind in ("hnsw", "ivf"):
        built = VectorIndex.build(v, kind=kind, nprobe=5)
        (tmp_path / kind).mkdir()
        built.save(tmp_path / kind)
        loaded = VectorIndex.load(tmp_path / kind)
        assert isinstance(loaded.vectors, np.memmap)
        assert loaded.kind == kind and loaded.breadth == built.breadth
        assert loaded.search(v[3], 5)[0].tolist() == exact
    lists = faiss.downcast_InvertedLists(loaded._faiss.invlists)
    assert type(lists).__name__ == "OnDiskInvertedLists"  # mapped: pages shared by workers
    assert lists.prefetch_nthread == 0  # no 32 prefetch threads started per search


def test_search_batch_matches_single_queries():
    v = _vectors(2000)
    q = _vectors(30, seed=2)
    for kind in ("exact", "hnsw", "ivf"):
        idx = VectorIndex.build(v, kind=kind, ef_search=200, nprobe=8)
        ids, scores = idx.search_batch(q, 10)
        assert ids.shape == scores.shape == (30, 10)
        assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first
        np.testing.assert_allclose(scores, np.einsum("nkd,nd->nk", v[ids], q), rtol=1e-4)
        single = [set(idx.search(row, 10)[0].tolist()) for row in q]
        overlap = np.mean([len(s & set(r.tolist())) / 10 for s, r in zip(single, ids, strict=True)])
        assert overlap >= (1.0 if kind == "exact" else 0.9)
