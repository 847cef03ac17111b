"""The model's settings, fit report and the small records its parts pass around."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..retrieval import EXACT_MAX_ITEMS

FORMAT_VERSION = 4  # 2: memory-mappable arrays; 3: RP3beta features (23); 4: several heads
GROUP_CANDIDATES = ("artist", "track_artist", "artist_id")
CONTEXT_COLUMNS = ("mood", "activity", "timeOfDay", "time_of_day")
N_FEATURES = 23


@dataclass
class BatchPlan:
    """What ``batch_run`` needs for a chunk of users (see ``batch_plan``)."""

    user_ids: list[str]
    queries: np.ndarray  # n x d query vectors
    h_rows: np.ndarray  # history as (row, item, weight) triples
    h_cols: np.ndarray
    h_w: np.ndarray
    ex_key: np.ndarray  # sorted row * n_items + item keys to leave out
    k: int
    max_per_group: int | None
    ef_search: int | None
    explain: bool
    als: np.ndarray | None = None  # n x f ALS user factors (the head's features)


@dataclass
class ModelConfig:
    """Every knob with a default that works for catalogs from a few hundred to ~1M items."""

    seed: int = 0
    embedding_dim: int = 48
    content_dim: int = 32
    content_k_best: int = 64
    feature_target: str | None = None  # SelectKBest label column; None -> genre if present
    group_column: str | None = None  # "same artist" column; None -> artist/track_artist if present
    epochs: int = 20
    batch_size: int = 2048
    tower_learning_rate: float = 0.05  # Adagrad, sparse updates (see training.train_towers)
    negatives: int = 4
    l2: float = 1e-6
    patience: int = 2
    validation_frac: float = 0.1
    head_holdout_frac: float = 0.2
    head_epochs: int = 40  # at most: the head stops early on its validation users
    head_patience: int = 4
    head_learning_rate: float = 0.02  # Adam, listwise loss (see training.train_head)
    # The head learns from ~2,000 lists and overfits within a few epochs; dropout and L2 keep it
    # from depending on its seed (NDCG@10 sd 0.0036 -> 0.0009 over head seeds on Last.fm).
    head_dropout: float = 0.3
    head_l2: float = 1e-3
    # Heads trained from different seeds, logits averaged: NDCG@10 0.2556 (one, mean of five
    # seeds) -> 0.2581 (three) on Last.fm, for 3x the head's share of a ranking (bench/README.md).
    head_count: int = 3
    head_max_users: int = 2000
    head_units: tuple[int, ...] = (128, 64)  # hidden layers of the re-ranking MLP
    # Stage B refits the generators on all data only when the head's hold-out is at least this
    # share of the positives (small data); at scale it is a sliver and a refit doubles the time.
    refit_min_share: float = 0.05
    candidates_per_source: int = 50  # per generator; 100 cost 2x at serving for -0.4% NDCG
    ease_lambdas: tuple[float, ...] = (80.0, 250.0)
    ease_min_count: int = 2
    ease_max_items: int = 12_000
    ease_tune_items: int = 4_000  # lambda is picked on this many of the most popular items
    ease_topk: int = 256
    knn_neighbours: int = 200
    als_factors: int = 32  # 0 disables the ALS feature
    als_regularization: float = 0.1
    als_alpha: float = 10.0
    knn_shrink: float = 10.0
    rp3_beta: float = 0.5  # RP3beta popularity discount (0.3 / 0.5 / 0.7 on Last.fm: 0.5 best)
    exact_max_items: int = EXACT_MAX_ITEMS
    # IVF lists the content (audio features) index scans: a secondary candidate source, so a
    # quarter of the retrieval index's breadth (its recall is not what the lists hinge on).
    content_nprobe: int = 32
    fold_in_reg: float = 1.0
    verbose: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelConfig:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for name in ("ease_lambdas", "head_units"):
            if name in kw:
                kw[name] = tuple(kw[name])
        return cls(**kw)


@dataclass
class Profile:
    hist: np.ndarray  # item indices the user liked
    weights: np.ndarray
    vector: np.ndarray  # tower user vector incl. the trailing 1 for the item bias
    als: np.ndarray | None = None  # ALS user factors (feature for the head)


@dataclass
class FitReport:
    """What fit() did, for logs and the evaluation report."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0  # process CPU time: comparable across busy/idle machines
    ease_lambda: float = 0.0
    tower_epochs: int = 0
    head_rows: int = 0
    head_positives: int = 0
    candidate_recall: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
