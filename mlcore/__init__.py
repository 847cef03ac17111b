"""mlcore: Audotics' framework-free recommender library (no Django, TensorFlow only in fit)."""

from .errors import (
    EmptyDataError,
    InvalidInputError,
    MlcoreError,
    NotFittedError,
    UnknownItemError,
    UnknownUserError,
)
from .model import BatchPlan, HybridRecommender, ModelConfig
from .retrieval import search_threads

__all__ = [
    "BatchPlan",
    "EmptyDataError",
    "HybridRecommender",
    "InvalidInputError",
    "MlcoreError",
    "ModelConfig",
    "NotFittedError",
    "UnknownItemError",
    "UnknownUserError",
    "search_threads",
]
