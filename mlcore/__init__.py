"""mlcore: Audotics' framework-free recommender library (no Django, TensorFlow only in fit)."""

from .errors import (
    EmptyDataError,
    InvalidInputError,
    MlcoreError,
    NotFittedError,
    UnknownItemError,
    UnknownUserError,
)
from .model import HybridRecommender, ModelConfig

__all__ = [
    "EmptyDataError",
    "HybridRecommender",
    "InvalidInputError",
    "MlcoreError",
    "ModelConfig",
    "NotFittedError",
    "UnknownItemError",
    "UnknownUserError",
]
