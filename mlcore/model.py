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

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import collab
from .context import CONTEXT_DIM, context_vector
from .data import IdIndex, InteractionData, encode, to_frame
from .errors import (
    EmptyDataError,
    InvalidInputError,
    NotFittedError,
    UnknownItemError,
    UnknownUserError,
)
from .features import ContentFeaturizer
from .retrieval import EXACT_MAX_ITEMS, VectorIndex, topk
from .splits import holdout_split

FORMAT_VERSION = 1
GROUP_CANDIDATES = ("artist", "track_artist", "artist_id")
CONTEXT_COLUMNS = ("mood", "activity", "timeOfDay", "time_of_day")
N_FEATURES = 20


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
    learning_rate: float = 0.005
    negatives: int = 4
    l2: float = 1e-6
    patience: int = 2
    validation_frac: float = 0.1
    head_holdout_frac: float = 0.2
    head_epochs: int = 20
    head_learning_rate: float = 0.002
    head_max_users: int = 2000
    candidates_per_source: int = 100
    ease_lambdas: tuple[float, ...] = (80.0, 250.0)
    ease_min_count: int = 2
    ease_max_items: int = 12_000
    ease_topk: int = 256
    knn_neighbours: int = 200
    als_factors: int = 32  # 0 disables the ALS feature
    als_regularization: float = 0.1
    als_alpha: float = 10.0
    knn_shrink: float = 10.0
    exact_max_items: int = EXACT_MAX_ITEMS
    fold_in_reg: float = 1.0
    verbose: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelConfig:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if "ease_lambdas" in kw:
            kw["ease_lambdas"] = tuple(kw["ease_lambdas"])
        return cls(**kw)


@dataclass
class _Profile:
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


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _rank_feature(x: np.ndarray) -> np.ndarray:
    """1/log2(2 + rank) within the candidate list: scale-free, comparable across users."""
    r = np.empty(len(x), dtype=np.float64)
    r[np.argsort(-x, kind="stable")] = np.arange(len(x))
    return 1.0 / np.log2(2.0 + r)


class HybridRecommender:
    """Ids are strings; unknown ids raise UnknownUserError/UnknownItemError."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self._fitted = False
        self.report = FitReport()
        self._users = IdIndex()
        self._items = IdIndex()
        self._user_vec = np.zeros((0, 1), np.float32)
        self._item_vec = np.zeros((0, 1), np.float32)
        self._ctx_proj = np.zeros((CONTEXT_DIM, 1), np.float32)
        self._content = np.zeros((0, 1), np.float32)
        self._has_content = np.zeros(0, bool)
        self._ease: sp.csr_matrix | None = None
        self._knn: sp.csr_matrix | None = None
        self._als_user: np.ndarray | None = None
        self._als_item: np.ndarray | None = None
        self._als_gram: np.ndarray | None = None
        self._overlay_als: dict[int, np.ndarray] = {}
        self._hist = sp.csr_matrix((0, 0), dtype=np.float32)
        self._pop = np.zeros(0, np.float32)
        self._group = np.zeros(0, np.int64)
        self._head: list[tuple[np.ndarray, np.ndarray]] | None = None
        self._feat_mean = np.zeros(N_FEATURES)
        self._feat_std = np.ones(N_FEATURES)
        self._fold = {
            "gram": np.zeros((1, 1)),
            "neg_rhs": np.zeros(1),
            "pos": 1.0,
            "neg": -1.0,
            "alpha_scale": 0.0,
        }
        self._overlay_hist: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._overlay_vec: dict[int, np.ndarray] = {}
        self._index: VectorIndex | None = None
        self._content_index: VectorIndex | None = None
        self._featurizer: ContentFeaturizer | None = None
        self._raw_features: pd.DataFrame | None = None
        self._path: Path | None = None

    # ------------------------------------------------------------------ training
    def fit(
        self,
        interactions: pd.DataFrame | Iterable[Any],
        item_features: pd.DataFrame | None = None,
    ) -> HybridRecommender:
        """Train on implicit feedback; ``item_features`` (indexed by item id) adds cold items."""
        cfg = self.config
        t0 = time.perf_counter()
        c0 = time.process_time()
        df = to_frame(interactions)
        items = IdIndex()
        if item_features is not None:
            if not isinstance(item_features, pd.DataFrame):
                raise InvalidInputError("item_features must be a DataFrame indexed by item_id")
            item_features = item_features.copy()
            item_features.index = item_features.index.astype(str)
            if item_features.index.has_duplicates:
                raise InvalidInputError("item_features index has duplicate item ids")
            items = IdIndex.from_ids(list(item_features.index))
        full = encode(df, items=items)
        self._users, self._items = full.users, full.items
        n_items = len(self._items)
        self._setup_content(item_features)
        ctx = self._interaction_context(df)

        # Stage A: fit candidate generators on part of the training data, label the rest.
        pos_df = df[df["type_weight"] > 0]
        tr_a, ho_a = holdout_split(pos_df, cfg.head_holdout_frac, seed=cfg.seed)
        tr_a = pd.concat([tr_a, df[df["type_weight"] <= 0]])
        data_a = encode(
            tr_a, items=IdIndex.from_ids(self._items.ids), users=IdIndex.from_ids(self._users.ids)
        )
        truth = self._truth_lists(ho_a)
        t1 = time.perf_counter()
        lam = self._fit_ease(data_a, truth)
        t2 = time.perf_counter()
        tw_epochs = self._fit_towers(data_a, ctx, epochs=None)
        t3 = time.perf_counter()
        x, y, groups, cand_recall = self._head_dataset(data_a, truth)
        if y.sum() > 0 and (1 - y).sum() > 0:
            from .training import train_head  # noqa: PLC0415 - TF only while training

            self._feat_mean = x.mean(axis=0)
            std = x.std(axis=0)
            # A feature constant in training (e.g. equal history lengths) must not explode later.
            self._feat_std = np.where(std > 1e-3, std, 1.0)
            self._head = train_head(cfg, (x - self._feat_mean) / self._feat_std, y, groups)
        t4 = time.perf_counter()
        # Stage B: refit the generators on all training data with the chosen settings.
        self._fit_ease(full, None, lam=lam)
        self._fit_towers(full, ctx, epochs=tw_epochs)
        self._overlay_hist, self._overlay_vec, self._overlay_als = {}, {}, {}
        self._fitted = True
        t5 = time.perf_counter()
        self.report = FitReport(
            seconds=t5 - t0,
            cpu_seconds=time.process_time() - c0,
            ease_lambda=lam,
            tower_epochs=tw_epochs,
            head_rows=len(y),
            head_positives=int(y.sum()),
            candidate_recall=cand_recall,
            timings={
                "prepare": t1 - t0,
                "ease_tune": t2 - t1,
                "towers_a": t3 - t2,
                "head": t4 - t3,
                "refit": t5 - t4,
                "items": float(n_items),
            },
        )
        return self

    def _setup_content(self, item_features: pd.DataFrame | None) -> None:
        cfg = self.config
        n = len(self._items)
        group_col = cfg.group_column
        if item_features is None or item_features.shape[1] == 0:
            self._content = np.zeros((n, 1), np.float32)
            self._has_content = np.zeros(n, bool)
            self._group = np.full(n, -1, np.int64)
            self._featurizer, self._raw_features = None, None
            return
        frame = item_features.reindex(self._items.ids)
        if group_col is None:
            group_col = next((c for c in GROUP_CANDIDATES if c in frame.columns), None)
        if group_col is not None and group_col in frame.columns:
            codes, _ = pd.factorize(frame[group_col].astype("string"), use_na_sentinel=True)
            self._group = codes.astype(np.int64)
            feat_frame = frame.drop(columns=[group_col])
        else:
            self._group = np.full(n, -1, np.int64)
            feat_frame = frame
        self._featurizer = ContentFeaturizer(
            dim=cfg.content_dim,
            k_best=cfg.content_k_best,
            target=cfg.feature_target,
            seed=cfg.seed,
        ).fit(feat_frame.loc[item_features.index])
        self._content = self._featurizer.transform(feat_frame)
        self._has_content = np.linalg.norm(self._content, axis=1) > 0
        self._raw_features = item_features
        self._content_index = VectorIndex.build(self._content, exact_max=cfg.exact_max_items)

    def _interaction_context(self, df: pd.DataFrame) -> dict[tuple[str, str], np.ndarray] | None:
        cols = [c for c in CONTEXT_COLUMNS if c in df.columns]
        if not cols:
            return None
        out: dict[tuple[str, str], np.ndarray] = {}
        for rec in df[["user_id", "item_id", *cols]].to_dict("records"):
            key = (rec["user_id"], rec["item_id"])
            vec = context_vector({c: rec[c] for c in cols})
            out[key] = out.get(key, 0) + vec
        return {k: np.minimum(v, 1.0) for k, v in out.items()}

    def _truth_lists(self, ho: pd.DataFrame) -> dict[int, np.ndarray]:
        out: dict[int, np.ndarray] = {}
        for u, g in ho.groupby("user_id", sort=True)["item_id"]:
            out[self._users.get(u)] = np.unique(self._items.lookup(g))
        return out

    def _fit_ease(
        self, data: InteractionData, truth: dict[int, np.ndarray] | None, lam: float | None = None
    ) -> float:
        """Fit sparsified EASE; with ``truth`` pick lambda by NDCG@10 on the inner hold-out."""
        cfg = self.config
        xb = collab.binarize(data.positives)
        self._hist = data.positives.tocsr()
        self._pop = np.asarray(xb.sum(axis=0)).ravel().astype(np.float32)
        # A second item-item view (shrunk cosine) disagrees with EASE often enough to help the head.
        self._knn = collab.cosine_knn(xb, cfg.knn_neighbours, cfg.knn_shrink)
        self._fit_als(data)
        if lam is not None:
            self._ease = collab.ease_sparse(
                xb, lam, cfg.ease_min_count, cfg.ease_max_items, cfg.ease_topk
            )
            return lam
        users = np.array(sorted(truth))[:2000]
        best, best_lam, best_b = -1.0, cfg.ease_lambdas[0], None
        for lam_i in cfg.ease_lambdas:
            b = collab.ease_sparse(xb, lam_i, cfg.ease_min_count, cfg.ease_max_items, cfg.ease_topk)
            sc = (xb[users] @ b).toarray()
            seen = xb[users].tocoo()
            sc[seen.row, seen.col] = -np.inf
            nd = 0.0
            for j, u in enumerate(users):
                top = topk(sc[j], 10)
                gains = np.isin(top, truth[u]) / np.log2(np.arange(2, len(top) + 2))
                ideal = (1 / np.log2(np.arange(2, min(10, len(truth[u])) + 2))).sum()
                nd += gains.sum() / ideal
            if nd > best:
                best, best_lam, best_b = nd, lam_i, b
        self._ease = best_b
        return float(best_lam)

    def _fit_als(self, data: InteractionData) -> None:
        """Implicit ALS factors: a cheap, strong third collaborative view for the head."""
        cfg = self.config
        if cfg.als_factors <= 0:
            self._als_user = self._als_item = self._als_gram = None
            return
        from implicit.als import AlternatingLeastSquares  # noqa: PLC0415 - training only
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        conf = data.positives.copy().astype(np.float32)
        conf.data = 1.0 + cfg.als_alpha * conf.data
        model = AlternatingLeastSquares(
            factors=cfg.als_factors,
            regularization=cfg.als_regularization,
            alpha=1.0,
            iterations=15,
            random_state=cfg.seed,
        )
        with threadpool_limits(1, "blas"):
            model.fit(conf, show_progress=False)
        self._als_user = np.asarray(model.user_factors, dtype=np.float32)
        self._als_item = np.asarray(model.item_factors, dtype=np.float32)
        self._als_gram = (self._als_item.T @ self._als_item).astype(np.float64)

    def _solve_als(self, hist: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
        """ALS fold-in (Hu et al. 2008, eq. 4) for a user outside the factor matrix."""
        if self._als_item is None:
            return None
        y = self._als_item[hist].astype(np.float64)
        c = 1.0 + self.config.als_alpha * weights.astype(np.float64)
        a = self._als_gram + (y.T * (c - 1.0)) @ y
        a += self.config.als_regularization * np.eye(a.shape[0])
        return np.linalg.solve(a, y.T @ c).astype(np.float32)

    def _fit_towers(
        self,
        data: InteractionData,
        ctx: dict[tuple[str, str], np.ndarray] | None,
        epochs: int | None,
    ) -> int:
        from .training import train_towers  # noqa: PLC0415 - TF only while training

        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        pos = data.positives.tocoo()
        n_pos = len(pos.data)
        warm = np.flatnonzero(self._pop > 0)
        # Negatives come from warm items only: sampling cold items would teach the model that
        # "no interactions yet" means "bad", defeating the content path for new tracks.
        neg_items = warm[rng.integers(0, len(warm), size=n_pos * cfg.negatives)]
        neg_users = np.repeat(pos.row, cfg.negatives)
        users = np.concatenate([pos.row, neg_users, data.neg_rows])
        items = np.concatenate([pos.col, neg_items, data.neg_cols])
        labels = np.concatenate([np.ones(n_pos), np.zeros(len(neg_items) + len(data.neg_rows))])
        weights = np.concatenate([pos.data, np.ones(len(neg_items)), data.neg_weight])
        cvec = np.zeros((len(users), CONTEXT_DIM), np.float32)
        if ctx:
            uid, iid = self._users.ids, self._items.ids
            pc = np.stack(
                [
                    ctx.get((uid[u], iid[i]), np.zeros(CONTEXT_DIM, np.float32))
                    for u, i in zip(pos.row, pos.col, strict=False)
                ]
            )
            cvec[:n_pos] = pc
            cvec[n_pos : n_pos + len(neg_items)] = np.repeat(pc, cfg.negatives, axis=0)
        tw = train_towers(
            cfg,
            len(self._users),
            len(self._items),
            self._content,
            users,
            items,
            labels,
            weights,
            cvec,
            epochs=epochs,
        )
        cold = self._pop == 0
        item_emb = tw.item_emb.copy()
        item_emb[cold] = 0.0  # untrained noise: a cold item is represented by its content only
        bias = tw.item_bias.copy()
        bias[cold] = np.median(bias[~cold]) if (~cold).any() else 0.0
        v = item_emb + self._content @ tw.content_w + tw.content_b
        self._item_vec = np.hstack([v, bias[:, None]]).astype(np.float32)
        self._user_vec = np.hstack([tw.user_emb, np.ones((len(tw.user_emb), 1))]).astype(np.float32)
        ctx_w = tw.ctx_proj.copy()
        seen_ctx = cvec.any(axis=0)
        ctx_w[~seen_ctx] = 0.0  # never-seen context slots have untrained weights: neutralise
        self._ctx_proj = np.hstack([ctx_w, np.zeros((CONTEXT_DIM, 1))]).astype(np.float32)
        self._index = VectorIndex.build(self._item_vec, exact_max=cfg.exact_max_items)
        self._fit_fold_stats(pos)
        return tw.epochs

    def _fit_fold_stats(self, pos: sp.coo_matrix) -> None:
        """Precompute the pieces of the fold-in least squares (see _solve_user)."""
        warm = self._pop > 0
        v = self._item_vec[warm, :-1].astype(np.float64)
        b = self._item_vec[warm, -1].astype(np.float64)
        rng = np.random.default_rng(self.config.seed)
        sel = rng.integers(0, len(pos.data), size=min(20_000, len(pos.data)))
        uv = self._user_vec[pos.row[sel]]
        pos_logit = float(np.mean(np.sum(uv * self._item_vec[pos.col[sel]], axis=1)))
        rnd = rng.choice(np.flatnonzero(warm), size=len(sel))
        neg_logit = float(np.mean(np.sum(uv * self._item_vec[rnd], axis=1)))
        self._fold = {
            "gram": v.T @ v,
            "neg_rhs": v.T @ (neg_logit - b),
            "pos": pos_logit,
            "neg": neg_logit,
            "alpha_scale": float(self.config.negatives / max(warm.sum(), 1)),
        }

    def _head_dataset(
        self, data: InteractionData, truth: dict[int, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        rng = np.random.default_rng(self.config.seed)
        users = np.array(sorted(truth))
        if len(users) > self.config.head_max_users:
            users = np.sort(rng.choice(users, self.config.head_max_users, replace=False))
        xs, ys, gs = [], [], []
        found = total = 0
        hist = data.positives.tocsr()
        for u in users:
            h = hist.indices[hist.indptr[u] : hist.indptr[u + 1]]
            w = hist.data[hist.indptr[u] : hist.indptr[u + 1]]
            als = self._als_user[u] if self._als_user is not None else None
            prof = _Profile(h, w, self._user_vec[u], als)
            cand, feats = self._candidates_and_features(prof, exclude=h)
            if len(cand) == 0:
                continue
            lab = np.isin(cand, truth[u]).astype(np.float32)
            found += int(lab.sum())
            total += len(truth[u])
            xs.append(feats)
            ys.append(lab)
            gs.append(np.full(len(cand), u))
        if not xs:
            raise EmptyDataError("no user has enough interactions to train the re-ranker")
        return np.vstack(xs), np.concatenate(ys), np.concatenate(gs), found / max(total, 1)

    # ------------------------------------------------------------------ scoring core
    def _ease_scores(self, prof: _Profile) -> np.ndarray | None:
        if self._ease is None or self._ease.nnz == 0 or len(prof.hist) == 0:
            return None
        return np.asarray(self._ease[prof.hist].sum(axis=0)).ravel()

    def _knn_scores(self, prof: _Profile) -> np.ndarray | None:
        if self._knn is None or self._knn.nnz == 0 or len(prof.hist) == 0:
            return None
        return np.asarray(self._knn[prof.hist].sum(axis=0)).ravel()

    def _content_profile(self, prof: _Profile) -> np.ndarray | None:
        if len(prof.hist) == 0 or not self._has_content[prof.hist].any():
            return None
        cp = (self._content[prof.hist] * prof.weights[:, None]).sum(axis=0)
        n = np.linalg.norm(cp)
        return (cp / n).astype(np.float32) if n > 0 else None

    def _candidates_and_features(
        self, prof: _Profile, exclude: np.ndarray, candidates: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        n_src = self.config.candidates_per_source
        ease = self._ease_scores(prof)
        cprof = self._content_profile(prof)
        if candidates is None:
            parts = [self._index.search(prof.vector, n_src, exclude)[0]]
            if ease is not None:
                e = ease.copy()
                e[exclude] = -np.inf
                top = topk(e, n_src)
                parts.append(top[e[top] > 0])
            if prof.als is not None:
                a = self._als_item @ prof.als
                a[exclude] = -np.inf
                parts.append(topk(a, n_src))
            knn = self._knn_scores(prof)
            if knn is not None:
                kk = knn.copy()
                kk[exclude] = -np.inf
                top = topk(kk, n_src)
                parts.append(top[kk[top] > 0])
            if cprof is not None and self._content_index is not None:
                parts.append(self._content_index.search(cprof, n_src, exclude)[0])
            cand = np.unique(np.concatenate(parts))
        else:
            cand = candidates
        if len(cand) == 0:
            return cand, np.zeros((0, N_FEATURES))
        return cand, self._features(cand, prof, ease, cprof)

    def _features(
        self, cand: np.ndarray, prof: _Profile, ease: np.ndarray | None, cprof: np.ndarray | None
    ) -> np.ndarray:
        m = len(cand)
        e = ease[cand] if ease is not None else np.zeros(m)
        knn = self._knn_scores(prof)
        kn = knn[cand] if knn is not None else np.zeros(m)
        al = self._als_item[cand] @ prof.als if prof.als is not None else np.zeros(m)
        t = self._item_vec[cand] @ prof.vector
        if cprof is not None:
            cc = self._content[cand]
            c = cc @ cprof
            cmax = (cc @ self._content[prof.hist].T).max(axis=1)
        else:
            c = cmax = np.zeros(m)
        pop = self._pop[cand]
        popf = np.log1p(pop) / np.log1p(max(float(self._pop.max()), 1.0))
        gm = np.zeros(m)
        if len(prof.hist) and (self._group[cand] >= 0).any():
            hg = self._group[prof.hist]
            hg = hg[hg >= 0]
            if len(hg):
                vals, cnt = np.unique(hg, return_counts=True)
                pos = np.searchsorted(vals, self._group[cand]).clip(0, len(vals) - 1)
                hit = vals[pos] == self._group[cand]
                gm = np.where(hit, cnt[pos] / len(prof.hist), 0.0)
        emax = max(float(e.max()), 1e-6)
        return np.column_stack(
            [
                e,
                e / emax,
                _rank_feature(e),
                t,
                t - t.max(),
                _rank_feature(t),
                c,
                cmax,
                _rank_feature(c),
                popf,
                (pop == 0).astype(float),
                np.full(m, np.log1p(len(prof.hist))),
                gm,
                (gm > 0).astype(float),
                (e == 0).astype(float),
                kn,
                kn / max(float(kn.max()), 1e-6),
                _rank_feature(kn),
                al,
                _rank_feature(al),
            ]
        )

    def _head_scores(self, feats: np.ndarray, fallback: np.ndarray) -> np.ndarray:
        if self._head is None:
            return fallback
        h = (feats - self._feat_mean) / self._feat_std
        for i, (w, b) in enumerate(self._head):
            h = h @ w + b
            h = _relu(h) if i < len(self._head) - 1 else 1.0 / (1.0 + np.exp(-h))
        return h[:, 0]

    def _rank(
        self,
        prof: _Profile,
        k: int,
        exclude_seen: bool,
        candidates: Iterable[str] | None,
        exclude: Iterable[str] | None,
    ) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        ex = [prof.hist] if exclude_seen else []
        if exclude is not None:
            e_idx = self._items.lookup(exclude)
            ex.append(e_idx[e_idx >= 0])  # unknown ids cannot be recommended anyway
        ex_arr = np.unique(np.concatenate(ex)) if ex else np.empty(0, np.int64)
        cand = None
        if candidates is not None:
            cand = self._item_indices(candidates)
            cand = np.setdiff1d(cand, ex_arr) if len(ex_arr) else np.unique(cand)
        elif self._head is None:
            # No re-ranker (e.g. a model built from exported embeddings): retrieval is the answer.
            ids, sc = self._index.search(prof.vector, k, ex_arr)
            return [(self._items.ids[i], float(s)) for i, s in zip(ids, sc, strict=False)]
        cand, feats = self._candidates_and_features(prof, ex_arr, cand)
        if len(cand) == 0:
            return []
        scores = self._head_scores(feats, feats[:, 3])
        order = topk(scores, k)
        return [(self._items.ids[cand[i]], float(scores[i])) for i in order]

    # ------------------------------------------------------------------ users / items
    def _check(self) -> None:
        if not self._fitted:
            raise NotFittedError("HybridRecommender used before fit() or load()")

    def _user_index(self, user_id: str) -> int:
        self._check()
        u = self._users.get(user_id)
        if u < 0:
            raise UnknownUserError(user_id)
        return u

    def _item_indices(self, item_ids: Iterable[str]) -> np.ndarray:
        ids = [str(i) for i in item_ids]
        idx = self._items.lookup(ids)
        if (idx < 0).any():
            raise UnknownItemError(ids[int(np.argmax(idx < 0))])
        return idx

    def _profile(self, u: int, context: Mapping[str, object] | None = None) -> _Profile:
        if u in self._overlay_hist:
            h, w = self._overlay_hist[u]
        elif u < self._hist.shape[0]:
            h = self._hist.indices[self._hist.indptr[u] : self._hist.indptr[u + 1]]
            w = self._hist.data[self._hist.indptr[u] : self._hist.indptr[u + 1]]
        else:
            h, w = np.empty(0, np.int64), np.empty(0, np.float32)
        vec = self._overlay_vec.get(u)
        if vec is None:
            vec = (
                np.asarray(self._user_vec[u])
                if u < len(self._user_vec)
                else self._solve_user(np.asarray(h, np.int64), np.asarray(w, np.float32))
            )
        if context:
            vec = vec + context_vector(context) @ self._ctx_proj
        h, w = np.asarray(h, np.int64), np.asarray(w, np.float32)
        als = self._overlay_als.get(u)
        if als is None and self._als_user is not None:
            als = self._als_user[u] if u < len(self._als_user) else self._solve_als(h, w)
        return _Profile(h, w, vec, als)

    def _solve_user(self, hist: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Fold-in: ridge regression of the tower logits (ALS-style, one d x d solve).

        Liked items are pulled to the mean positive logit seen in training, all warm items
        (weighted like the sampled negatives) to the mean negative logit.
        """
        d = self._item_vec.shape[1] - 1
        if len(hist) == 0:
            return np.concatenate([np.zeros(d), [1.0]]).astype(np.float32)
        v = self._item_vec[hist, :-1].astype(np.float64)
        b = self._item_vec[hist, -1].astype(np.float64)
        c = weights.astype(np.float64)
        alpha = self._fold["alpha_scale"] * c.sum()
        a = (v.T * c) @ v + alpha * self._fold["gram"] + self.config.fold_in_reg * np.eye(d)
        rhs = (v.T * c) @ (self._fold["pos"] - b) + alpha * self._fold["neg_rhs"]
        p = np.linalg.solve(a, rhs)
        return np.concatenate([p, [1.0]]).astype(np.float32)

    # ------------------------------------------------------------------ public API
    @property
    def item_ids(self) -> list[str]:
        return list(self._items.ids)

    @property
    def user_ids(self) -> list[str]:
        return list(self._users.ids)

    @property
    def retrieval_index(self) -> VectorIndex:
        self._check()
        return self._index

    def has_item(self, item_id: str) -> bool:
        return item_id in self._items

    def has_user(self, user_id: str) -> bool:
        return user_id in self._users

    def recommend(
        self,
        user_id: str,
        k: int = 20,
        exclude_seen: bool = True,
        context: Mapping[str, object] | None = None,
        candidates: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k (item_id, score), best first. ``candidates`` restricts, ``exclude`` removes."""
        prof = self._profile(self._user_index(str(user_id)), context)
        return self._rank(prof, k, exclude_seen, candidates, exclude)

    def recommend_batch(
        self,
        user_ids: Sequence[str],
        k: int = 20,
        exclude_seen: bool = True,
        context: Mapping[str, object] | None = None,
        exclude: Mapping[str, Iterable[str]] | None = None,
        max_per_group: int | None = None,
        ef_search: int | None = None,
        chunk: int = 2048,
        explain: bool = False,
    ) -> dict[str, list[tuple[Any, ...]]]:
        """Top-k for many users; users the model does not know are left out of the answer.

        ``exclude`` maps a user id to items to leave out (besides the history when
        ``exclude_seen``); ``max_per_group`` caps items per group (artist) in each list;
        ``explain`` adds a third element to each pair: the history item the recommendation
        resembles most (see ``because``) or None. A retrieval-only model (no re-ranker)
        answers each chunk of users with one index search and array operations, with no
        Python work per recommended item; with a re-ranker every user goes through
        ``recommend``'s two stages.
        """
        self._check()
        exclude = exclude or {}
        known = [(str(u), self._users.get(str(u))) for u in user_ids]
        known = [(u, i) for u, i in known if i >= 0]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for s in range(0, len(known), chunk):
            part = known[s : s + chunk]
            if self._head is None:
                plan = self.batch_plan([u for u, _ in part], k, exclude_seen, context, exclude,
                                       max_per_group, ef_search, explain)
                out.update(self.batch_run(plan))
                continue
            for uid, u in part:
                extra = list(exclude.get(uid, ()))
                want = k * 3 if max_per_group else k
                ranked = self._rank(self._profile(u, context), want, exclude_seen, None, extra)
                ranked = self._group_cap(ranked, k, max_per_group)
                if explain:
                    why = self.because(uid, [i for i, _ in ranked])
                    ranked = [(i, sc, b) for (i, sc), b in zip(ranked, why, strict=True)]
                out[uid] = ranked
        return out

    def _group_cap(
        self, ranked: list[tuple[str, float]], k: int, cap: int | None
    ) -> list[tuple[str, float]]:
        if not cap:
            return ranked[:k]
        seen: dict[int, int] = {}
        out = []
        for item, score in ranked:
            g = int(self._group[self._items.get(item)])
            if g >= 0 and seen.get(g, 0) >= cap:
                continue
            seen[g] = seen.get(g, 0) + 1
            out.append((item, score))
            if len(out) == k:
                break
        return out

    def _batch_history(
        self, us: np.ndarray, context: Mapping[str, object] | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(query vectors, history rows, history items, history weights) for user indices.

        Stored users come from the saved matrices in one gather each; users folded in since
        (overlays) or added after training go through ``_profile`` one by one.
        """
        n = len(us)
        queries = np.zeros((n, self._item_vec.shape[1]), np.float32)
        n_hist = self._hist.shape[0]
        in_hist = us < n_hist
        sub = self._hist[us[in_hist]]
        rows_in = np.flatnonzero(in_hist)
        h_rows = np.repeat(rows_in, np.diff(sub.indptr))
        h_cols, h_w = sub.indices.astype(np.int64), sub.data.astype(np.float32)
        stored = us < len(self._user_vec)
        queries[stored] = np.asarray(self._user_vec[us[stored]])
        special = [
            r
            for r, u in enumerate(us.tolist())
            if u in self._overlay_vec or u in self._overlay_hist or u >= len(self._user_vec)
        ]
        if special:
            drop = np.isin(h_rows, special)
            h_rows, h_cols, h_w = h_rows[~drop], h_cols[~drop], h_w[~drop]
            extra_r, extra_c, extra_w = [h_rows], [h_cols], [h_w]
            for r in special:
                prof = self._profile(int(us[r]))
                queries[r] = prof.vector
                extra_r.append(np.full(len(prof.hist), r, np.int64))
                extra_c.append(prof.hist)
                extra_w.append(prof.weights)
            h_rows, h_cols = np.concatenate(extra_r), np.concatenate(extra_c)
            h_w = np.concatenate(extra_w)
        if context:
            queries += context_vector(context) @ self._ctx_proj
        return queries, h_rows, h_cols, h_w

    def batch_plan(
        self,
        user_ids: Sequence[str],
        k: int = 20,
        exclude_seen: bool = True,
        context: Mapping[str, object] | None = None,
        exclude: Mapping[str, Iterable[str]] | None = None,
        max_per_group: int | None = None,
        ef_search: int | None = None,
        explain: bool = False,
    ) -> BatchPlan | None:
        """First half of ``recommend_batch`` for a retrieval-only model (None with a re-ranker).

        The plan reads per-user state (vectors, histories, fold-in overlays): take whatever lock
        guards ``fold_in`` around it. ``batch_run`` then reads only what never changes after
        fitting (the index, item vectors, groups), so it can run outside that lock, and two
        threads can overlap one chunk's index search with another's array work.
        """
        self._check()
        if self._head is not None:
            return None
        exclude = exclude or {}
        users = [(str(u), self._users.get(str(u))) for u in user_ids]
        users = [(u, i) for u, i in users if i >= 0]
        n_items = len(self._items)
        us = np.array([u for _, u in users], np.int64)
        queries, h_rows, h_cols, h_w = self._batch_history(us, context)
        ex_rows, ex_cols = ([h_rows], [h_cols]) if exclude_seen else ([], [])
        for r, (uid, _) in enumerate(users):
            if uid in exclude:
                e = self._items.lookup(exclude[uid])
                ex_rows.append(np.full(int((e >= 0).sum()), r, np.int64))
                ex_cols.append(e[e >= 0])
        ex_key = (
            np.unique(np.concatenate(ex_rows) * n_items + np.concatenate(ex_cols))
            if ex_rows
            else np.empty(0, np.int64)
        )
        return BatchPlan([u for u, _ in users], queries, h_rows, h_cols, h_w, ex_key, k,
                         max_per_group, ef_search, explain)

    def batch_run(self, plan: BatchPlan) -> dict[str, list[tuple[Any, ...]]]:
        """Second half of ``recommend_batch``: index search, exclusions, group cap, reasons."""
        n_items, n_users, k = len(self._items), len(plan.user_ids), plan.k
        if not n_users:
            return {}
        per_row = (
            np.bincount(plan.ex_key // n_items, minlength=n_users)
            if len(plan.ex_key)
            else np.zeros(n_users, np.int64)
        )
        # Oversample so that exclusions and the artist cap still leave k per user: enough for
        # nine users in ten at once; the rest are searched again, wider.
        spare = k if plan.max_per_group else 0
        want = min(n_items, k + spare + int(np.percentile(per_row, 90)))
        top, top_sc, counts = self._retrieve_rows(plan.queries, np.arange(n_users), plan.ex_key,
                                                  want, k, plan.max_per_group, plan.ef_search)
        short = np.flatnonzero((counts < k) & (want < n_items))
        if len(short):
            wide = min(n_items, k + 2 * spare + int(per_row[short].max()) + k)
            t2, s2, c2 = self._retrieve_rows(plan.queries[short], short, plan.ex_key, wide, k,
                                             plan.max_per_group, plan.ef_search)
            top[short], top_sc[short], counts[short] = t2, s2, c2
        names = self._item_names()
        cols = [names[top].tolist(), top_sc.tolist()]
        if plan.explain:
            why = self._because_matrix(np.where(np.arange(top.shape[1]) < counts[:, None], top, -1),
                                       plan.h_rows, plan.h_cols, plan.h_w, n_users)
            cols.append(why)
        out = {}
        for r, uid in enumerate(plan.user_ids):
            n = int(counts[r])
            out[uid] = list(zip(*(c[r][:n] for c in cols), strict=True))
        return out

    def _retrieve_rows(
        self,
        queries: np.ndarray,
        row_ids: np.ndarray,
        ex_key: np.ndarray,
        want: int,
        k: int,
        max_per_group: int | None,
        ef_search: int | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Search, drop excluded (row, item) keys, cap groups: (top k, their scores, counts)."""
        n_items = len(self._items)
        ids, sc = self._index.search_batch(queries, want, ef_search=ef_search)
        rows = np.repeat(row_ids, ids.shape[1]).reshape(ids.shape)
        keep = ids >= 0
        if len(ex_key):
            keep &= ~np.isin(rows * n_items + np.where(keep, ids, 0), ex_key)
        if max_per_group:
            grp = np.where(keep, self._group[np.where(keep, ids, 0)], -1)
            # Rank of each candidate within its (user, group), in score order: lexsort by
            # (position, group, row), then count run lengths.
            pos = np.broadcast_to(np.arange(ids.shape[1]), ids.shape)
            flat_keep = keep.ravel()
            order = np.lexsort((pos.ravel(), grp.ravel(), rows.ravel(), ~flat_keep))
            g_sorted = np.stack([rows.ravel()[order], grp.ravel()[order]], axis=1)
            starts = np.ones(len(order), bool)
            starts[1:] = (g_sorted[1:] != g_sorted[:-1]).any(axis=1)
            run_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
            rank = np.empty(len(order), np.int64)
            rank[order] = np.arange(len(order)) - run_start
            capped = (rank.reshape(ids.shape) >= max_per_group) & (grp >= 0)
            keep &= ~capped
        keep &= np.cumsum(keep, axis=1) <= k
        # Left-align the kept candidates: row r's list is top[r, :counts[r]].
        counts = keep.sum(axis=1)
        order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
        top = np.zeros((len(ids), k), np.int64)
        top_sc = np.zeros((len(ids), k), np.float32)
        top[:, : order.shape[1]] = np.take_along_axis(ids, order, axis=1)
        top_sc[:, : order.shape[1]] = np.take_along_axis(sc, order, axis=1)
        return top, top_sc, counts

    def _item_names(self) -> np.ndarray:
        """Item ids as an object array, so that a matrix of indices maps to ids in one step."""
        if getattr(self, "_names", None) is None or len(self._names) != len(self._items):
            self._names = np.array(self._items.ids, dtype=object)
        return self._names

    def score_items(
        self,
        user: str | np.ndarray,
        item_ids: Sequence[str],
        context: Mapping[str, object] | None = None,
    ) -> np.ndarray:
        """Scores for a given candidate list, aligned with ``item_ids``.

        A user id gets the full re-ranker score; a bare user vector (from ``user_vector``) has
        no history, so it gets the tower dot product.
        """
        self._check()
        idx = self._item_indices(item_ids)
        if isinstance(user, np.ndarray):
            vec = user.astype(np.float32)
            if context:
                vec = vec + context_vector(context) @ self._ctx_proj
            return np.asarray(self._item_vec[idx] @ vec, dtype=np.float64)
        prof = self._profile(self._user_index(str(user)), context)
        if len(idx) == 0:
            return np.zeros(0)
        feats = self._features(idx, prof, self._ease_scores(prof), self._content_profile(prof))
        return self._head_scores(feats, feats[:, 3])

    def user_vector(
        self, liked_item_ids: Sequence[str], weights: Sequence[float] | None = None
    ) -> np.ndarray:
        """Tower vector for someone unknown to the model, from the items they liked."""
        self._check()
        idx = self._item_indices(liked_item_ids)
        w = np.ones(len(idx), np.float32) if weights is None else np.asarray(weights, np.float32)
        return self._solve_user(idx, w)

    def fold_in(
        self, user_id: str, interactions: pd.DataFrame | Iterable[Any], replace: bool = False
    ) -> np.ndarray:
        """Add or update a user without retraining (one small linear solve).

        ``interactions``: item ids, or records/DataFrame with item_id[, weight, type]. Merged
        with the user's existing history unless ``replace``; dislikes remove items.
        """
        self._check()
        user_id = str(user_id)
        rows = list(interactions) if not isinstance(interactions, pd.DataFrame) else None
        plain = (
            rows is not None
            and rows
            and all(isinstance(r, Mapping) and "weight" not in r for r in rows)
        )
        if plain:
            # Records without weights (what a web request sends): confidence is the type
            # weight, exactly what ``confidence`` gives for equal weights, without pandas.
            return self._fold_in_records(user_id, rows, replace)
        if rows is not None and rows and isinstance(rows[0], str | int):
            df = to_frame([{"user_id": user_id, "item_id": r} for r in rows])
        else:
            df = to_frame(interactions if rows is None else rows) if rows != [] else None
            if df is not None:
                df["user_id"] = user_id
        u = self._users.add(user_id)
        cur: dict[int, float] = {}
        if not replace:
            prof = self._profile(u)
            cur = dict(zip(prof.hist.tolist(), prof.weights.tolist(), strict=False))
        if df is not None:
            from .data import confidence  # noqa: PLC0415

            conf = confidence(df)
            for it, cf in zip(self._item_indices(df["item_id"]), conf, strict=False):
                cur[int(it)] = cur.get(int(it), 0.0) + float(cf)
        return self._set_overlay(u, cur)

    def _fold_in_records(
        self, user_id: str, rows: list[Mapping[str, Any]], replace: bool
    ) -> np.ndarray:
        from .data import TYPE_WEIGHTS  # noqa: PLC0415

        items = self._item_indices(r.get("item_id") for r in rows)
        types = [str(r.get("type") or "play").lower() for r in rows]
        unknown = sorted(set(types) - set(TYPE_WEIGHTS))
        if unknown:
            raise InvalidInputError(
                f"unknown interaction types {unknown}; know {sorted(TYPE_WEIGHTS)}"
            )
        u = self._users.add(user_id)
        cur: dict[int, float] = {}
        if not replace:
            prof = self._profile(u)
            cur = dict(zip(prof.hist.tolist(), prof.weights.tolist(), strict=False))
        for it, ty in zip(items.tolist(), types, strict=True):
            cur[it] = cur.get(it, 0.0) + TYPE_WEIGHTS[ty]
        return self._set_overlay(u, cur)

    def _set_overlay(self, u: int, cur: dict[int, float]) -> np.ndarray:
        keep = {i: c for i, c in cur.items() if c > 0}
        h = np.array(sorted(keep), dtype=np.int64)
        w = np.array([keep[i] for i in h], dtype=np.float32)
        self._overlay_hist[u] = (h, w)
        self._overlay_vec[u] = self._solve_user(h, w)
        als = self._solve_als(h, w)
        if als is not None:
            self._overlay_als[u] = als
        return self._overlay_vec[u]

    def because(
        self, user_id: str, item_ids: Sequence[str], min_similarity: float = 0.3
    ) -> list[str | None]:
        """For each item, the history item of the user it most resembles, or None.

        Resemblance is the cosine of the tower item vectors, the same geometry the retrieval
        score comes from, so "because you liked X" names what actually pulled the item up.
        """
        return self.because_batch({str(user_id): item_ids}, min_similarity)[str(user_id)]

    def because_batch(
        self,
        items_by_user: Mapping[str, Sequence[str]],
        min_similarity: float = 0.3,
        max_history: int = 50,
    ) -> dict[str, list[str | None]]:
        """``because`` for many users with one gather and one batched product."""
        self._check()
        users = list(items_by_user)
        if not users:
            return {}
        width = max((len(v) for v in items_by_user.values()), default=0)
        rec = np.full((len(users), max(width, 1)), -1, np.int64)
        for r, uid in enumerate(users):
            idx = self._item_indices(items_by_user[uid])
            rec[r, : len(idx)] = idx
        us = np.array([self._user_index(u) for u in users], np.int64)
        _, h_rows, h_cols, h_w = self._batch_history(us, None)
        why = self._because_matrix(rec, h_rows, h_cols, h_w, len(users), min_similarity,
                                   max_history)
        return {u: why[r][: len(items_by_user[u])] for r, u in enumerate(users)}

    def _because_matrix(
        self,
        rec: np.ndarray,
        h_rows: np.ndarray,
        h_cols: np.ndarray,
        h_w: np.ndarray,
        n: int,
        min_similarity: float = 0.3,
        max_history: int = 50,
    ) -> list[list[str | None]]:
        """Rows of ``rec`` (item indices, -1 padding) -> most similar history item ids."""
        # Each user's heaviest max_history history items, as an n x max_history matrix.
        order = np.lexsort((-h_w, h_rows))
        r_sorted = h_rows[order]
        first = np.searchsorted(r_sorted, r_sorted, side="left")
        rank = np.arange(len(order)) - first
        keep = rank < max_history
        # As wide as the longest kept history, not max_history: most users have a few items.
        width = int(min(max_history, rank.max() + 1)) if len(rank) else 1
        hist = np.full((n, width), -1, np.int64)
        hist[r_sorted[keep], rank[keep]] = h_cols[order][keep]

        def unit(rows: np.ndarray) -> np.ndarray:
            v = np.asarray(self._item_vec[np.maximum(rows, 0).ravel(), :-1], np.float32)
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
            return v.reshape(*rows.shape, -1)

        sim = unit(rec) @ unit(hist).transpose(0, 2, 1)  # batched matmul: n x k x h
        sim[np.broadcast_to((hist < 0)[:, None, :], sim.shape)] = -np.inf
        best = sim.argmax(axis=2)
        best_sim = np.take_along_axis(sim, best[..., None], axis=2)[..., 0]
        named = self._item_names()[np.take_along_axis(hist, best, axis=1)]
        ok = (best_sim >= min_similarity) & (rec >= 0)
        return np.where(ok, named, None).tolist()

    def continue_sequence(
        self,
        item_ids: Sequence[str],
        k: int = 20,
        context: Mapping[str, object] | None = None,
        exclude: Iterable[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Playlist continuation: rank items to follow the given seed tracks."""
        self._check()
        idx = self._item_indices(item_ids)
        if len(idx) == 0:
            raise EmptyDataError("continue_sequence needs at least one seed item")
        idx = np.unique(idx)
        w = np.ones(len(idx), np.float32)
        vec = self._solve_user(idx, w)
        if context:
            vec = vec + context_vector(context) @ self._ctx_proj
        prof = _Profile(idx, w, vec, self._solve_als(idx, w))
        return self._rank(prof, k, True, None, exclude)

    def similar_items(self, item_id: str, k: int = 20) -> list[tuple[str, float]]:
        """Items like this one: tower-vector cosine blended with content cosine.

        An item with no interactions has no learned id embedding, so it is matched on content
        alone; that is what makes brand-new tracks discoverable.
        """
        self._check()
        i = int(self._item_indices([item_id])[0])
        n = len(self._items)
        if n > self.config.exact_max_items:
            ids, sc = self._index.search(self._item_vec[i], k, np.array([i]))
            return [(self._items.ids[j], float(s)) for j, s in zip(ids, sc, strict=False)]
        score = np.zeros(n)
        if self._has_content[i]:
            score += self._content @ self._content[i]
        if self._pop[i] > 0:
            v = self._item_vec[:, :-1]
            cos = (v @ v[i]) / (np.linalg.norm(v, axis=1) * np.linalg.norm(v[i]) + 1e-9)
            score = 0.5 * score + cos if self._has_content[i] else cos
        elif not self._has_content[i]:
            score = self._pop.astype(np.float64).copy()  # nothing known: popular items
        score[i] = -np.inf
        order = topk(score, k)
        return [(self._items.ids[j], float(score[j])) for j in order]

    def item_content_vector(self, item_id: str) -> np.ndarray:
        """Unit content vector (zeros when the item had no features)."""
        return np.array(self._content[self._item_indices([item_id])[0]])

    def item_vector(self, item_id: str) -> np.ndarray:
        return np.array(self._item_vec[self._item_indices([item_id])[0]])

    def item_features(self, item_id: str) -> dict[str, Any]:
        """Raw features given at fit time ({} if none were given for this item)."""
        self._item_indices([item_id])
        raw = self.raw_features
        if raw is None or str(item_id) not in raw.index:
            return {}
        return raw.loc[str(item_id)].to_dict()

    @property
    def raw_features(self) -> pd.DataFrame | None:
        if self._raw_features is None and self._path is not None:
            self._load_pickles()
        return self._raw_features

    @property
    def featurizer(self) -> ContentFeaturizer | None:
        if self._featurizer is None and self._path is not None:
            self._load_pickles()
        return self._featurizer

    @classmethod
    def from_embeddings(
        cls,
        user_ids: Sequence[str],
        user_vectors: np.ndarray,
        item_ids: Sequence[str],
        item_vectors: np.ndarray,
        config: ModelConfig | None = None,
        index_kind: str = "auto",
        history: sp.spmatrix | None = None,
        item_groups: np.ndarray | None = None,
        **index_kw: int,
    ) -> HybridRecommender:
        """Serving-only model over externally produced vectors (no re-ranker).

        ``history`` (users x items, confidence > 0) is what each user already has, excluded
        from their recommendations; ``item_groups`` codes each item's artist (-1: unknown).
        """
        m = cls(config)
        m._users = IdIndex.from_ids([str(u) for u in user_ids])
        m._items = IdIndex.from_ids([str(i) for i in item_ids])
        n, d = item_vectors.shape
        m._item_vec = np.hstack([item_vectors, np.zeros((n, 1))]).astype(np.float32)
        m._user_vec = np.hstack([user_vectors, np.ones((len(user_vectors), 1))]).astype(np.float32)
        m._ctx_proj = np.zeros((CONTEXT_DIM, d + 1), np.float32)
        m._content = np.zeros((n, 1), np.float32)
        m._has_content = np.zeros(n, bool)
        m._pop = np.ones(n, np.float32)
        m._group = (
            np.full(n, -1, np.int64) if item_groups is None else np.asarray(item_groups, np.int64)
        )
        m._hist = (
            sp.csr_matrix((len(user_ids), n), dtype=np.float32)
            if history is None
            else sp.csr_matrix(history, dtype=np.float32)
        )
        if m._hist.shape != (len(user_ids), n) or len(m._group) != n:
            raise InvalidInputError("history must be users x items and item_groups one per item")
        m._index = VectorIndex.build(
            m._item_vec, kind=index_kind, exact_max=m.config.exact_max_items, **index_kw
        )
        m._fitted = True
        return m

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Atomic: write a temp dir next to ``path``, fsync, then rename into place."""
        self._check()
        import pickle  # noqa: PLC0415

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            users = list(self._users.ids)
            n_u = len(users)
            uvec = np.zeros((n_u, self._user_vec.shape[1]), np.float32)
            uvec[: len(self._user_vec)] = self._user_vec
            # Assemble in COO: a LIL/dense detour costs minutes and GBs on 1M-item catalogs.
            base = self._hist.tocoo()
            keep = ~np.isin(base.row, np.fromiter(self._overlay_hist, dtype=np.int64))
            rows, cols, vals = [base.row[keep]], [base.col[keep]], [base.data[keep]]
            for u, (h, w) in self._overlay_hist.items():
                rows.append(np.full(len(h), u))
                cols.append(np.asarray(h))
                vals.append(np.asarray(w))
            hist = sp.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(n_u, len(self._items)),
                dtype=np.float32,
            )
            for u, vec in self._overlay_vec.items():
                uvec[u] = vec
            if self._als_user is not None:
                # Folded-in users are materialised so a reload serves them without re-solving.
                als = np.zeros((n_u, self._als_user.shape[1]), np.float32)
                als[: len(self._als_user)] = self._als_user
                for u in range(len(self._als_user), n_u):
                    prof = self._profile(u)
                    if prof.als is not None:
                        als[u] = prof.als
                for u, a in self._overlay_als.items():
                    als[u] = a
                np.save(tmp / "als_user.npy", als)
                np.save(tmp / "als_item.npy", np.asarray(self._als_item))
            self._index.save(tmp)
            np.save(tmp / "user_vectors.npy", uvec)
            np.save(tmp / "content.npy", np.asarray(self._content))
            sp.save_npz(tmp / "history.npz", hist.tocsr())
            if self._ease is not None:
                sp.save_npz(tmp / "ease.npz", self._ease.tocsr())
            if self._knn is not None:
                sp.save_npz(tmp / "knn.npz", self._knn.tocsr())
            arrays: dict[str, np.ndarray] = {
                "pop": self._pop,
                "group": self._group,
                "ctx_proj": self._ctx_proj,
                "feat_mean": self._feat_mean,
                "feat_std": self._feat_std,
                "fold_gram": self._fold["gram"],
                "fold_neg_rhs": self._fold["neg_rhs"],
            }
            for i, (w, b) in enumerate(self._head or []):
                arrays[f"head_w{i}"], arrays[f"head_b{i}"] = w, b
            np.savez(tmp / "arrays.npz", **arrays)
            meta = {
                "format_version": FORMAT_VERSION,
                "config": asdict(self.config),
                "user_ids": users,
                "item_ids": list(self._items.ids),
                "head_layers": len(self._head or []),
                "fold": {k: self._fold[k] for k in ("pos", "neg", "alpha_scale")},
                "report": asdict(self.report),
            }
            (tmp / "meta.json").write_text(json.dumps(meta))
            if self.featurizer is not None:
                with open(tmp / "features.pkl", "wb") as fh:
                    pickle.dump({"featurizer": self._featurizer, "raw": self._raw_features}, fh)
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            _fsync_dir(tmp)
            backup = None
            if target.exists():
                backup = target.parent / f".{target.name}.old-{uuid.uuid4().hex}"
                os.rename(target, backup)
            os.rename(tmp, target)
            _fsync_dir(target.parent)
            if backup is not None:
                shutil.rmtree(backup, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = True) -> HybridRecommender:
        """Load for serving: numpy/scipy only; big arrays memory-mapped, shared via page cache."""
        p = Path(path)
        if not (p / "meta.json").exists():
            raise FileNotFoundError(f"no mlcore model at {p}")
        meta = json.loads((p / "meta.json").read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise InvalidInputError(f"unsupported model format {meta.get('format_version')}")
        m = cls(ModelConfig.from_dict(meta["config"]))
        m._users = IdIndex.from_ids(meta["user_ids"])
        m._items = IdIndex.from_ids(meta["item_ids"])
        mode = "r" if mmap else None
        m._index = VectorIndex.load(p, mmap=mmap)
        m._item_vec = m._index.vectors
        m._user_vec = np.load(p / "user_vectors.npy", mmap_mode=mode)
        m._content = np.load(p / "content.npy", mmap_mode=mode)
        m._has_content = np.linalg.norm(m._content, axis=1) > 0
        if m._has_content.any():
            m._content_index = VectorIndex.build(m._content, exact_max=m.config.exact_max_items)
        m._hist = sp.load_npz(p / "history.npz").tocsr()
        m._ease = sp.load_npz(p / "ease.npz").tocsr() if (p / "ease.npz").exists() else None
        m._knn = sp.load_npz(p / "knn.npz").tocsr() if (p / "knn.npz").exists() else None
        if (p / "als_item.npy").exists():
            m._als_user = np.load(p / "als_user.npy", mmap_mode=mode)
            m._als_item = np.load(p / "als_item.npy", mmap_mode=mode)
            m._als_gram = (np.asarray(m._als_item).T @ m._als_item).astype(np.float64)
        with np.load(p / "arrays.npz") as a:
            m._pop, m._group, m._ctx_proj = a["pop"], a["group"], a["ctx_proj"]
            m._feat_mean, m._feat_std = a["feat_mean"], a["feat_std"]
            m._fold = {"gram": a["fold_gram"], "neg_rhs": a["fold_neg_rhs"], **meta["fold"]}
            n = meta["head_layers"]
            m._head = [(a[f"head_w{i}"], a[f"head_b{i}"]) for i in range(n)] or None
        m.report = FitReport(**meta.get("report", {}))
        m._path = p if (p / "features.pkl").exists() else None
        m._fitted = True
        return m

    def _load_pickles(self) -> None:
        import pickle  # noqa: PLC0415

        path, self._path = self._path, None  # load once, even if it fails
        with open(path / "features.pkl", "rb") as fh:
            d = pickle.load(fh)  # noqa: S301 - our own file from a caller-trusted path
        self._featurizer, self._raw_features = d["featurizer"], d["raw"]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
