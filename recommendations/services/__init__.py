"""Recommendation services, the only adapter between the ORM and mlcore (STYLE.md §3).

Submodules: `imports` (interaction imports), `interactions` (recording + fold-in), `serving`
(the loaded model), `ranking` (context, track rows, profiles, reasons, diversity), `fallback`
(popularity/content pools and scores), `results_cache` (per-user lists), `recommend` (personal
lists), `generation` (context playlists), `groups` (continuation, fair to every member),
`training` (train/evaluate/activate), `batch` (the hourly precompute, in process or as chunk
tasks) and `context_targets` (mood/activity targets).
"""
from .batch import batch_run_start, recommend_batch
from .generation import playlist_generate, playlist_generate_render
from .groups import playlist_recommendations
from .interactions import MAX_BATCH, interactions_record, user_interactions_apply
from .likes import dislike_remove, like_remove, likes_list, likes_tracks
from .ranking import context_vocabulary
from .recommend import (
    recommendation_list_for_user,
    recommendations_compute,
    recommendations_precompute,
)
from .training import (
    model_evaluate,
    model_train,
    model_version_activate,
    model_version_rollback,
)

__all__ = [
    "MAX_BATCH", "batch_run_start", "context_vocabulary", "interactions_record",
    "dislike_remove", "like_remove", "likes_list", "likes_tracks",
    "model_evaluate", "model_train",
    "model_version_activate", "model_version_rollback", "playlist_generate",
    "playlist_generate_render", "playlist_recommendations", "recommend_batch",
    "recommendation_list_for_user",
    "recommendations_compute", "recommendations_precompute", "user_interactions_apply",
]
