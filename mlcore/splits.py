"""Deterministic per-user hold-out splits (same seed -> same split, no (user, item) in both)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def holdout_split(
    df: pd.DataFrame,
    frac: float,
    seed: int = 0,
    user_col: str = "user_id",
    item_col: str = "item_id",
    min_keep: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out ``frac`` of each user's distinct items (rounded, at least 1 if the user has >1).

    All rows of a held-out (user, item) pair go to the test side, so repeated plays cannot leak.
    Users with too few items stay entirely in training.
    """
    if not 0.0 < frac < 1.0:
        raise ValueError("frac must be in (0, 1)")
    pairs = df[[user_col, item_col]].drop_duplicates()
    # Sorting first makes the split independent of the input row order.
    pairs = pairs.sort_values([user_col, item_col], kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    pairs["_r"] = rng.random(len(pairs))
    pairs["_rank"] = pairs.groupby(user_col)["_r"].rank(method="first").astype(int) - 1
    n = pairs.groupby(user_col)[item_col].transform("size")
    n_test = np.where(n > min_keep, np.maximum(1, np.round(n * frac)), 0).astype(int)
    n_test = np.minimum(n_test, n - min_keep)
    test_pairs = pairs[pairs["_rank"] < n_test][[user_col, item_col]]
    key = pd.MultiIndex.from_frame(df[[user_col, item_col]])
    is_test = key.isin(pd.MultiIndex.from_frame(test_pairs))
    return df[~is_test].copy(), df[is_test].copy()


def truth_sets(
    test: pd.DataFrame, user_col: str = "user_id", item_col: str = "item_id"
) -> dict[str, set[str]]:
    """Held-out items per user as string sets (the metrics' relevance judgements)."""
    return {str(u): set(g.astype(str)) for u, g in test.groupby(user_col, sort=True)[item_col]}
