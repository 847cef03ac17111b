import numpy as np
import pandas as pd
import pytest

from mlcore import InvalidInputError
from mlcore.features import ContentFeaturizer

from .conftest import make_items


def test_featurizer_separates_genres_and_is_unit_length():
    items = make_items()
    f = ContentFeaturizer(dim=4, seed=0).fit(items)
    assert f.target_column == "genre"
    z = f.transform(items)
    assert z.shape == (len(items), 4)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-5)
    sim = z @ z.T
    same = items.genre.to_numpy()[:, None] == items.genre.to_numpy()[None, :]
    assert sim[same].mean() > sim[~same].mean() + 0.3


def test_featurizer_without_target_uses_variance_selection():
    items = make_items().drop(columns=["genre"])
    f = ContentFeaturizer(dim=3, k_best=2).fit(items)
    assert f.target_column is None
    assert f.pipeline.named_steps["select"].k == 2
    assert f.transform(items).shape == (len(items), 2)


def test_featurizer_imputes_and_rejects_empty():
    items = make_items()
    items.loc["g0-t0", "tempo"] = np.nan
    items.loc["g0-t1", :] = np.nan
    f = ContentFeaturizer(dim=4).fit(items)
    z = f.transform(items)
    assert np.isfinite(z).all()
    assert not z[1].any() and z[0].any()
    with pytest.raises(InvalidInputError):
        ContentFeaturizer().fit(pd.DataFrame())
