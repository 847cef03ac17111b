"""Item-item building blocks against plain dense references."""

import numpy as np
import scipy.sparse as sp

from mlcore import collab


def _interactions(seed=0, users=600, items=300, density=0.03):
    x = sp.random(users, items, density=density, random_state=seed, format="csr")
    x.data[:] = 1.0
    return x.astype(np.float32)


def test_ease_weights_equal_the_dense_closed_form():
    x = _interactions()
    b = collab.ease_weights(x, 25.0, np.arange(x.shape[1]))
    g = (x.T @ x).toarray().astype(np.float64)
    g[np.diag_indices_from(g)] += 25.0
    p = np.linalg.inv(g)
    ref = -p / np.diag(p)
    np.fill_diagonal(ref, 0.0)
    assert np.allclose(b, ref, atol=1e-5)


def test_cosine_knn_in_blocks_equals_the_dense_reference():
    x = _interactions(seed=1)
    whole = collab.cosine_knn(x, k=15, shrink=10.0)
    assert (whole != collab.cosine_knn(x, k=15, shrink=10.0, block=37)).nnz == 0
    co = (x.T @ x).toarray()
    np.fill_diagonal(co, 0.0)
    norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
    sim = co / (np.outer(norms, norms) + 10.0 + 1e-9)
    for i in range(0, x.shape[1], 7):
        expected = np.sort(sim[i][sim[i] > 0])[::-1][:15]
        assert np.allclose(np.sort(whole[i].data)[::-1], expected, rtol=1e-5)


def test_rowwise_topk_breaks_ties_by_item_whatever_the_width():
    m = sp.csr_matrix(np.array([[0.5, 0.9, 0.5, 0.5, 0.0, 0.2],
                                [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                [0.1, 0.1, 0.1, 0.1, 0.1, 0.1]], np.float32))
    items, values = collab.rowwise_topk(m, 3)
    assert items.tolist() == [[1, 0, 2], [-1, -1, -1], [0, 1, 2]]
    assert values[0].tolist() == [np.float32(0.9), 0.5, 0.5]
    wide, _ = collab.rowwise_topk(m, 5)
    assert wide[:, :3].tolist() == items.tolist()


def test_rowwise_topk_of_one_row_equals_that_row_in_a_block():
    # One row takes its own path (no padded block): same items, values and order, ties and
    # non-positive entries included.
    rng = np.random.default_rng(0)
    for t in range(300):
        n_items = int(rng.integers(5, 2000))
        nnz = int(rng.integers(0, min(n_items, 300)))
        cols = np.sort(rng.choice(n_items, nnz, replace=False))
        vals = (rng.choice([-1.0, 0.0, 0.5, 1.0], nnz) if t % 2 else rng.normal(size=nnz))
        row = sp.csr_matrix((vals.astype(np.float32), cols, [0, nnz]), shape=(1, n_items))
        block = sp.vstack([sp.random(3, n_items, density=0.01, random_state=t), row]).tocsr()
        k = int(rng.integers(1, 40))
        alone, alone_v = collab.rowwise_topk(row, k)
        within, within_v = collab.rowwise_topk(block.astype(np.float32), k)
        assert alone[0].tolist() == within[3].tolist()
        assert alone_v[0].tolist() == within_v[3].tolist()


def test_rowwise_topk_does_not_depend_on_the_order_entries_are_stored_in():
    # A chunk's sparse product stores each row's entries in no particular order; its top-k
    # must be the sorted matrix's, which is the dense reference: positive values, largest
    # first, ties to the lower item.
    rng = np.random.default_rng(3)
    dense = rng.choice([0.0, -0.5, 0.25, 0.5, 1.0, 2.0], size=(40, 500)).astype(np.float32)
    dense[7] = 0.0
    ordered = sp.csr_matrix(dense)
    shuffled = ordered.copy()
    for r in range(dense.shape[0]):
        a, b = shuffled.indptr[r], shuffled.indptr[r + 1]
        perm = a + rng.permutation(b - a)
        shuffled.indices[a:b], shuffled.data[a:b] = ordered.indices[perm], ordered.data[perm]
    shuffled.has_sorted_indices = False
    for k in (1, 10, 300):
        items, values = collab.rowwise_topk(shuffled, k)
        assert np.array_equal(items, collab.rowwise_topk(ordered, k)[0])
        for r in range(dense.shape[0]):
            pos = np.flatnonzero(dense[r] > 0)
            ref = pos[np.lexsort((pos, -dense[r][pos]))][:k]
            assert items[r, : len(ref)].tolist() == ref.tolist()
            assert (items[r, len(ref):] == -1).all()
            assert values[r, : len(ref)].tolist() == dense[r][ref].tolist()
