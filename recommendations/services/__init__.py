"""Recommendation services, the only adapter between the ORM and mlcore (STYLE.md §3).

Submodules: `imports` (interaction imports), `interactions` (recording + fold-in), `serving`
(the loaded model), `ranking` (profiles, fallback, reasons, cache), `recommend` (personal,
generated and continued lists), `training` (train/evaluate/activate/batch jobs) and
`context_targets` (mood/activity audio-feature targets).
"""
from .interactions import MAX_BATCH, interactions_record, user_interactions_apply
from .recommend import (
    playlist_generate,
    playlist_generate_render,
    playlist_recommendations,
    recommendation_list_for_user,
    recommendations_compute,
    recommendations_precompute,
)
from .training import (
    model_evaluate,
    model_train,
    model_version_activate,
    model_version_rollback,
    recommend_batch,
)

__all__ = [
    "MAX_BATCH", "interactions_record", "model_evaluate", "model_train",
    "model_version_activate", "model_version_rollback", "playlist_generate",
    "playlist_generate_render", "playlist_recommendations", "recommend_batch",
    "recommendation_list_for_user",
    "recommendations_compute", "recommendations_precompute", "user_interactions_apply",
]
