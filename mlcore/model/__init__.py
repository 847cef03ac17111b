"""Hybrid recommender: two-tower retrieval + MLP re-ranking, served on numpy alone.

Training (``fit``) imports TensorFlow lazily through :mod:`mlcore.training`. Everything else —
``load``, ``recommend``, ``similar_items``, ``continue_sequence``, ``fold_in`` — uses the
exported embeddings and head weights with numpy/scipy, so web workers never import TensorFlow.

Two stages. Candidates come from (a) the tower dot product (user vector . item vector, where an
item vector is its id embedding plus a projection of its content vector, so a track without
interactions still has one), (b) a sparsified EASE item-item model and (c) content neighbours of
the user's profile. The head re-ranks the union from features: the three scores and their
in-list ranks, max content similarity to any history item, same-artist share, popularity and a
cold-item flag. The head is trained on an inner hold-out carved from the training data only.
"""

from .config import FORMAT_VERSION, N_FEATURES, BatchPlan, FitReport, ModelConfig
from .recommender import HybridRecommender

__all__ = [
    "FORMAT_VERSION",
    "N_FEATURES",
    "BatchPlan",
    "FitReport",
    "HybridRecommender",
    "ModelConfig",
]
