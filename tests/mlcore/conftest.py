"""Tiny synthetic data for mlcore tests: 5 genres, users who mostly stick to one genre."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore import HybridRecommender, ModelConfig

N_GENRES = 5
PER_GENRE = 20
COLD_PER_GENRE = 2  # the last items of each genre never appear in interactions


def make_items(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(N_GENRES):
        for j in range(PER_GENRE):
            rows.append(
                {
                    "item_id": f"g{g}-t{j}",
                    "genre": f"genre{g}",
                    "energy": g / N_GENRES + rng.normal(0, 0.03),
                    "danceability": rng.random(),
                    "valence": 1 - g / N_GENRES + rng.normal(0, 0.03),
                    "tempo": 80 + 20 * g + rng.normal(0, 3),
                }
            )
    return pd.DataFrame(rows).set_index("item_id")


def make_interactions(seed: int = 0, n_users: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    warm = PER_GENRE - COLD_PER_GENRE
    for u in range(n_users):
        g = u % N_GENRES
        for j in rng.choice(warm, size=8, replace=False):
            rows.append(
                {
                    "user_id": f"u{u}",
                    "item_id": f"g{g}-t{j}",
                    "weight": float(rng.integers(1, 20)),
                    "type": "play",
                }
            )
        other = (g + 1 + rng.integers(0, N_GENRES - 1)) % N_GENRES
        rows.append(
            {
                "user_id": f"u{u}",
                "item_id": f"g{other}-t{rng.integers(0, warm)}",
                "weight": 1.0,
                "type": "like",
            }
        )
    return pd.DataFrame(rows)


def tiny_config(seed: int = 3) -> ModelConfig:
    return ModelConfig(
        seed=seed,
        epochs=4,
        head_epochs=4,
        head_count=2,
        embedding_dim=16,
        batch_size=256,
        candidates_per_source=30,
        ease_lambdas=(10.0, 50.0),
    )


@pytest.fixture(scope="session")
def items() -> pd.DataFrame:
    return make_items()


@pytest.fixture(scope="session")
def interactions() -> pd.DataFrame:
    return make_interactions()


@pytest.fixture(scope="session")
def fitted(interactions: pd.DataFrame, items: pd.DataFrame) -> HybridRecommender:
    return HybridRecommender(tiny_config()).fit(interactions, item_features=items)
