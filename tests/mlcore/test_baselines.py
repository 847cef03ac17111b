import numpy as np
import pytest
import scipy.sparse as sp

from mlcore import UnknownUserError
from mlcore.baselines import BASELINES, EASERecommender, PopularityRecommender
from mlcore.collab import ease_weights

from .conftest import make_interactions


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baselines_share_the_interface(name):
    df = make_interactions()
    model = BASELINES[name]().fit(df)
    recs = model.recommend("u0", k=5)
    assert len(recs) == 5
    seen = set(df[df.user_id == "u0"].item_id)
    assert not seen & {i for i, _ in recs}
    batch = model.recommend_batch(["u0", "u1"], k=3)
    assert list(batch) == ["u0", "u1"]
    with pytest.raises(UnknownUserError):
        model.recommend("ghost")


def test_popularity_orders_by_count():
    rows = [("a", "x"), ("b", "x"), ("c", "x"), ("a", "y"), ("b", "y"), ("c", "z")]
    m = PopularityRecommender().fit(rows)
    assert [i for i, _ in m.recommend("c", k=3, exclude_seen=False)] == ["x", "y", "z"]


def test_ease_closed_form_matches_definition():
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]], dtype=np.float32))
    b = ease_weights(x, 1.0, np.arange(3))
    g = (x.T @ x).toarray() + np.eye(3)
    p = np.linalg.inv(g)
    expected = np.eye(3) - p / np.diag(p)
    np.testing.assert_allclose(b, expected, atol=1e-5)
    assert np.allclose(np.diag(b), 0)


def test_collaborative_baselines_beat_popularity_on_genre_data():
    df = make_interactions()
    ease = EASERecommender(lam=10.0, min_count=1).fit(df)
    recs = ease.recommend("u2", k=5)
    assert sum(i.startswith("g2-") for i, _ in recs) >= 4
