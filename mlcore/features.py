"""Content features: raw item attributes -> dense, L2-normalised content vectors.

The pipeline is SimpleImputer -> StandardScaler -> SelectKBest -> PCA. SelectKBest needs a target:
we use a genre-like label column when one exists (``genre`` / ``playlist_genre`` or the configured
``target``), because genre is what "sounds alike" should preserve. Without a label we fall back to
an unsupervised score (per-column variance after imputation, i.e. "keep the most informative
columns"), so the step is still well-defined. Missing values are imputed with the column median;
an item whose features are *all* missing gets the zero vector (no content evidence at all) rather
than the "average item", which would otherwise look similar to every other featureless item.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .errors import InvalidInputError

AUDIO_COLUMNS = (
    "danceability",
    "energy",
    "valence",
    "acousticness",
    "instrumentalness",
    "liveness",
    "speechiness",
    "loudness",
    "tempo",
    "key",
    "mode",
    "duration_ms",
)
TARGET_CANDIDATES = ("genre", "playlist_genre")
MAX_LEVELS = 50  # one-hot only the commonest levels so an id-like column cannot explode the width


def variance_score(x: np.ndarray, y: object = None) -> np.ndarray:
    """Unsupervised SelectKBest score: column variance (module-level so the pipeline pickles)."""
    return np.nanvar(np.asarray(x, dtype=np.float64), axis=0)


@dataclass
class ContentFeaturizer:
    """Fits the scikit-learn pipeline and turns item attribute frames into content vectors."""

    dim: int = 32
    k_best: int = 64
    target: str | None = None
    seed: int = 0
    numeric_columns: list[str] = field(default_factory=list)
    categorical_levels: dict[str, list[str]] = field(default_factory=dict)
    target_column: str | None = None
    pipeline: Pipeline | None = None

    def _design(self, frame: pd.DataFrame) -> np.ndarray:
        parts = [frame.reindex(columns=self.numeric_columns).apply(pd.to_numeric, errors="coerce")]
        for col, levels in self.categorical_levels.items():
            values = frame[col] if col in frame.columns else pd.Series(np.nan, index=frame.index)
            onehot = np.stack([(values == lv).to_numpy() for lv in levels], axis=1)
            oh = pd.DataFrame(onehot.astype(np.float64), index=frame.index)
            # Unknown category stays NaN so the imputer, not a false "0 = not this genre", fills it.
            oh[values.isna().to_numpy()] = np.nan
            parts.append(oh)
        x = np.array(pd.concat(parts, axis=1).to_numpy(dtype=np.float64), copy=True)
        x[~np.isfinite(x)] = np.nan
        return x

    def fit(self, frame: pd.DataFrame) -> ContentFeaturizer:
        if frame.empty:
            raise InvalidInputError("item_features is empty")
        target = self.target
        if target is None:
            target = next((c for c in TARGET_CANDIDATES if c in frame.columns), None)
        self.target_column = target
        numeric, categorical = [], {}
        for col in frame.columns:
            s = frame[col]
            if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
                numeric.append(col)
            else:
                counts = s.dropna().astype(str).value_counts()
                if len(counts) > 1:
                    categorical[col] = counts.index[:MAX_LEVELS].tolist()
        if not numeric and not categorical:
            raise InvalidInputError("item_features has no usable numeric or categorical column")
        self.numeric_columns, self.categorical_levels = numeric, categorical
        x = self._design(frame)
        has = ~np.isnan(x).all(axis=1)
        if has.sum() < 2:
            raise InvalidInputError("item_features: fewer than two items have any feature")
        k = min(self.k_best, x.shape[1])
        if target is not None and frame[target].notna().sum() > 1:
            y = frame[target].astype(str).fillna("?").to_numpy()[has]
            score = f_classif
        else:
            y, score = np.zeros(int(has.sum())), variance_score
        n_comp = max(1, min(self.dim, k, int(has.sum()) - 1))
        from sklearn.decomposition import PCA  # noqa: PLC0415 - keeps import of mlcore.features light

        self.pipeline = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
                ("select", SelectKBest(score, k=k)),
                ("pca", PCA(n_components=n_comp, random_state=self.seed)),
            ]
        )
        import warnings  # noqa: PLC0415

        with warnings.catch_warnings():
            # Constant columns make f_classif divide by zero; SelectKBest then ranks them last.
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            self.pipeline.fit(x[has], y)
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Content vectors (float32, unit length; zero rows for items with no features)."""
        if self.pipeline is None:
            raise InvalidInputError("ContentFeaturizer used before fit")
        x = self._design(frame)
        has = ~np.isnan(x).all(axis=1)
        out = np.zeros((len(frame), self.pipeline.named_steps["pca"].n_components_), np.float32)
        if has.any():
            z = self.pipeline.transform(x[has])
            z /= np.linalg.norm(z, axis=1, keepdims=True) + 1e-9
            out[has] = z
        return out
