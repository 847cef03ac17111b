import pandas as pd

from mlcore.splits import holdout_split, truth_sets

from .conftest import make_interactions


def test_holdout_split_has_no_leakage_and_right_fraction():
    df = make_interactions()
    train, test = holdout_split(df, 0.2, seed=5)
    tr = set(zip(train.user_id, train.item_id, strict=False))
    te = set(zip(test.user_id, test.item_id, strict=False))
    assert not tr & te
    assert len(train) + len(test) == len(df)
    per_user = test.groupby("user_id").size()
    assert per_user.min() >= 1
    assert set(test.user_id) <= set(train.user_id)  # every user keeps training data
    assert abs(len(te) / len(tr | te) - 0.2) < 0.05


def test_holdout_split_is_deterministic_and_order_independent():
    df = make_interactions()
    a = holdout_split(df, 0.3, seed=1)[1]
    b = holdout_split(df.sample(frac=1.0, random_state=9), 0.3, seed=1)[1]
    key = ["user_id", "item_id"]
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    )
    c = holdout_split(df, 0.3, seed=2)[1]
    assert set(zip(a.user_id, a.item_id, strict=False)) != set(
        zip(c.user_id, c.item_id, strict=False)
    )


def test_single_item_users_stay_in_training():
    df = pd.DataFrame({"user_id": ["a", "b", "b"], "item_id": ["1", "1", "2"]})
    train, test = holdout_split(df, 0.5, seed=0)
    assert "a" in set(train.user_id) and "a" not in set(test.user_id)
    assert truth_sets(test) == {"b": set(test.item_id)}
