"""Fitting: the candidate generators (EASE, kNN, ALS, towers), fold-in statistics, the head."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import collab
from ..context import CONTEXT_DIM, CONTEXT_OFFSETS, CONTEXT_VOCAB
from ..data import IdIndex, InteractionData, encode, to_frame
from ..errors import (
    EmptyDataError,
    InvalidInputError,
)
from ..features import ContentFeaturizer
from ..retrieval import VectorIndex, topk
from ..splits import holdout_split
from .chunk import Chunk
from .config import (
    CONTEXT_COLUMNS,
    GROUP_CANDIDATES,
    FitReport,
)

if TYPE_CHECKING:
    from .recommender import HybridRecommender


class FittingMixin:
    """Fitting part of HybridRecommender (state lives in recommender.py)."""

    def fit(
        self,
        interactions: pd.DataFrame | Iterable[Any],
        item_features: pd.DataFrame | None = None,
        on_progress: Callable[[str, int, int], None] | None = None,
    ) -> HybridRecommender:
        """Train on implicit feedback; ``item_features`` (indexed by item id) adds cold items.

        ``on_progress(stage, done, total)`` hears each stage begin and advance (the towers
        epoch by epoch), for progress bars and job states.
        """
        cfg = self.config
        t0 = time.perf_counter()
        c0 = time.process_time()
        self._timings: dict[str, float] = {}
        self._on_progress = on_progress or (lambda stage, done, total: None)
        self._on_progress("prepare", 0, 1)
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

        # Stage A: fit candidate generators on part of the training data, label the rest. Only
        # the users the head learns from (at most head_max_users) lose part of their history.
        pos_df = df[df["type_weight"] > 0]
        in_head = pos_df["user_id"].isin(self._head_users(pos_df))
        tr_h, ho_a = holdout_split(pos_df[in_head], cfg.head_holdout_frac, seed=cfg.seed)
        tr_a = pd.concat([tr_h, pos_df[~in_head], df[df["type_weight"] <= 0]])
        data_a = encode(
            tr_a, items=IdIndex.from_ids(self._items.ids), users=IdIndex.from_ids(self._users.ids)
        )
        truth = self._truth_lists(ho_a)
        refit = len(ho_a) >= cfg.refit_min_share * len(pos_df)
        t1 = time.perf_counter()
        self._on_progress("prepare", 1, 1)
        lam = self._fit_collaborative(data_a, truth)
        t2 = time.perf_counter()
        tw_epochs = self._fit_towers(data_a, ctx, epochs=None)
        t3 = time.perf_counter()
        steps = 1 + cfg.head_count
        self._on_progress("re-ranker", 0, steps)
        x, y, groups, cand_recall = self._head_dataset(data_a, truth)
        self._on_progress("re-ranker", 1, steps)
        if y.sum() > 0 and (1 - y).sum() > 0:
            from ..training import train_head  # noqa: PLC0415 - TF only while training

            self._feat_mean = x.mean(axis=0)
            std = x.std(axis=0)
            # A feature constant in training (e.g. equal history lengths) must not explode later.
            self._feat_std = np.where(std > 1e-3, std, 1.0)
            xn = (x - self._feat_mean) / self._feat_std
            self._heads = []
            for n in range(cfg.head_count):
                self._heads.append(train_head(replace(cfg, seed=cfg.seed + n), xn, y, groups))
                self._on_progress("re-ranker", 2 + n, steps)
        self._on_progress("re-ranker", steps, steps)
        t4 = time.perf_counter()
        if refit:
            # Stage B: refit the generators on all training data with the chosen settings.
            self._fit_collaborative(full, None, lam=lam)
            self._fit_towers(full, ctx, epochs=tw_epochs)
        else:
            # The hold-out was a sliver of the data (a few thousand users' items of millions):
            # a second fit would double the time for nothing; the histories get it back.
            self._hist = full.positives.tocsr()
        self._overlay_hist, self._overlay_vec, self._overlay_als = {}, {}, {}
        self._fitted = True
        del self._on_progress  # the caller's callback is not the model's to keep
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
                **self._timings,
                "prepare": t1 - t0,
                "collaborative": t2 - t1,
                "towers_a": t3 - t2,
                "head": t4 - t3,
                "refit": t5 - t4,
                "refitted": float(refit),
                "items": float(n_items),
            },
        )
        return self

    def _setup_content(self, item_features: pd.DataFrame | None) -> None:
        cfg = self.config
        n = len(self._items)
        group_col = cfg.group_column
        self._content = np.zeros((n, 1), np.float32)
        self._has_content = np.zeros(n, bool)
        self._group = np.full(n, -1, np.int64)
        self._featurizer, self._raw_features = None, None
        if item_features is None or item_features.shape[1] == 0:
            return
        frame = item_features.reindex(self._items.ids)
        if group_col is None:
            group_col = next((c for c in GROUP_CANDIDATES if c in frame.columns), None)
        if group_col is not None and group_col in frame.columns:
            codes, _ = pd.factorize(frame[group_col].astype("string"), use_na_sentinel=True)
            self._group = codes.astype(np.int64)
            feat_frame = frame.drop(columns=[group_col])
        else:
            feat_frame = frame
        try:
            self._featurizer = ContentFeaturizer(
                dim=cfg.content_dim,
                k_best=cfg.content_k_best,
                target=cfg.feature_target,
                seed=cfg.seed,
            ).fit(feat_frame.loc[item_features.index])
        except InvalidInputError:
            # A catalog without usable features (artist-level imports, say): items and
            # artists are still known, the content path simply stays off.
            return
        self._content = self._featurizer.transform(feat_frame)
        self._has_content = np.linalg.norm(self._content, axis=1) > 0
        self._raw_features = item_features
        self._content_index = VectorIndex.build(self._content, exact_max=cfg.exact_max_items,
                                                nprobe=cfg.content_nprobe)

    def _head_users(self, pos_df: pd.DataFrame) -> np.ndarray:
        """The users whose held-out items teach the head: up to head_max_users of those with
        at least two items (a hold-out needs one left), drawn with the seed."""
        counts = pos_df.drop_duplicates(["user_id", "item_id"])["user_id"].value_counts()
        users = np.sort(counts.index[counts >= 2].to_numpy(dtype=str))
        if len(users) > self.config.head_max_users:
            rng = np.random.default_rng(self.config.seed)
            users = np.sort(rng.choice(users, self.config.head_max_users, replace=False))
        return users

    def _interaction_context(
        self, df: pd.DataFrame
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Contexts seen per (user, item): (sorted user * n_items + item keys, a pattern id
        per key, the patterns' one-hot rows; row 0 is "no context").

        Vectorised: one categorical code per context column, one bitmask per row, OR-ed per
        pair (a slot seen once counts as seen).
        """
        cols = [c for c in CONTEXT_COLUMNS if c in df.columns]
        if not cols:
            return None
        bits = np.zeros(len(df), np.int64)
        for col in cols:
            field = "timeOfDay" if col in ("timeOfDay", "time_of_day") else col
            vocab = CONTEXT_VOCAB[field]
            raw = df[col]
            values = raw.where(raw.isna(), raw.astype(str).str.strip().str.lower())
            codes = pd.Categorical(values, categories=list(vocab)).codes.astype(np.int64)
            unknown = values.notna().to_numpy() & (codes < 0)
            if unknown.any():
                bad = values[unknown].iloc[0]
                raise InvalidInputError(f"unknown {field} {bad!r}; use one of {list(vocab)}")
            slot = CONTEXT_OFFSETS[field] + codes
            bits |= np.where(codes >= 0, np.left_shift(1, np.maximum(slot, 0)), 0)
        has = bits > 0
        if not has.any():
            return None
        n_items = len(self._items)
        keys = (self._users.lookup(df["user_id"][has]) * n_items
                + self._items.lookup(df["item_id"][has]))
        pairs = pd.Series(bits[has]).groupby(keys).agg(np.bitwise_or.reduce)
        patterns, pattern_id = np.unique(pairs.to_numpy(), return_inverse=True)
        table = np.zeros((len(patterns) + 1, CONTEXT_DIM), np.float32)
        for n, mask in enumerate(patterns.tolist(), start=1):
            table[n] = [(mask >> b) & 1 for b in range(CONTEXT_DIM)]
        return pairs.index.to_numpy(np.int64), (pattern_id + 1).astype(np.int32), table

    def _truth_lists(self, ho: pd.DataFrame) -> dict[int, np.ndarray]:
        out: dict[int, np.ndarray] = {}
        for u, g in ho.groupby("user_id", sort=True)["item_id"]:
            out[self._users.get(u)] = np.unique(self._items.lookup(g))
        return out

    def _fit_collaborative(
        self, data: InteractionData, truth: dict[int, np.ndarray] | None, lam: float | None = None
    ) -> float:
        """Histories, popularity, item-kNN, ALS and sparsified EASE; with ``truth`` EASE's
        lambda is picked by NDCG@10 on the inner hold-out. Returns lambda."""
        cfg = self.config
        xb = collab.binarize(data.positives)
        self._hist = data.positives.tocsr()
        self._pop = np.asarray(xb.sum(axis=0)).ravel().astype(np.float32)
        steps = 2 + (1 if lam is not None else len(cfg.ease_lambdas) + 1)
        self._on_progress("item-item models", 0, steps)
        t0 = time.perf_counter()
        # A second item-item view (shrunk cosine) disagrees with EASE often enough to help the head.
        self._knn = collab.cosine_knn(xb, cfg.knn_neighbours, cfg.knn_shrink)
        self._rp3 = collab.rp3_beta(xb, cfg.knn_neighbours, cfg.rp3_beta)
        self._on_progress("item-item models", 1, steps)
        t1 = time.perf_counter()
        self._fit_als(data)
        self._on_progress("item-item models", 2, steps)
        t2 = time.perf_counter()
        self._timings.update(knn=t1 - t0, als=t2 - t1)
        if lam is not None:
            self._ease = collab.ease_sparse(
                xb, lam, cfg.ease_min_count, cfg.ease_max_items, cfg.ease_topk
            )
            self._on_progress("item-item models", steps, steps)
            return lam
        users = np.array(sorted(truth))[:2000]
        best, best_lam, best_b = -1.0, cfg.ease_lambdas[0], None
        # Lambda is tuned on the most popular ease_tune_items items (a dense inverse costs n^3;
        # lambda is on the scale of co-occurrence counts, not of the item count, so it carries
        # over), then the chosen one is fitted once over all of EASE's items.
        tune_items = min(cfg.ease_tune_items, cfg.ease_max_items)
        for n, lam_i in enumerate(cfg.ease_lambdas):
            b = collab.ease_sparse(xb, lam_i, cfg.ease_min_count, tune_items, cfg.ease_topk)
            self._on_progress("item-item models", 3 + n, steps)
            # Scores only exist on EASE's own items (a few thousand of a million): a dense
            # users x catalog matrix would take gigabytes.
            cols = np.unique(b.indices)
            sc = (xb[users] @ b[:, cols]).toarray()
            seen = xb[users][:, cols].tocoo()
            sc[seen.row, seen.col] = -np.inf
            nd = 0.0
            for j, u in enumerate(users):
                top = cols[topk(sc[j], 10)]
                gains = np.isin(top, truth[u]) / np.log2(np.arange(2, len(top) + 2))
                ideal = (1 / np.log2(np.arange(2, min(10, len(truth[u])) + 2))).sum()
                nd += gains.sum() / ideal
            if nd > best:
                best, best_lam, best_b = nd, lam_i, b
        eligible = int((np.asarray(xb.sum(axis=0)).ravel() >= cfg.ease_min_count).sum())
        if min(eligible, cfg.ease_max_items) > tune_items:
            best_b = collab.ease_sparse(xb, best_lam, cfg.ease_min_count, cfg.ease_max_items,
                                        cfg.ease_topk)
        self._ease = best_b
        self._on_progress("item-item models", steps, steps)
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

    def _fit_towers(
        self,
        data: InteractionData,
        ctx: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        epochs: int | None,
    ) -> int:
        from ..training import train_towers  # noqa: PLC0415 - TF only while training

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
        ctx_ids = np.zeros(len(users), np.int32)
        table = np.zeros((1, CONTEXT_DIM), np.float32)
        if ctx is not None:
            keys, ids, table = ctx
            want = pos.row.astype(np.int64) * len(self._items) + pos.col
            at = np.searchsorted(keys, want).clip(0, len(keys) - 1)
            pc = np.where(keys[at] == want, ids[at], 0)
            ctx_ids[:n_pos] = pc
            ctx_ids[n_pos : n_pos + len(neg_items)] = np.repeat(pc, cfg.negatives)
        tw = train_towers(
            cfg,
            len(self._users),
            len(self._items),
            self._content,
            users,
            items,
            labels,
            weights,
            ctx_ids,
            table,
            epochs=epochs,
            on_epoch=lambda done, total: self._on_progress("towers (epochs)", done, total),
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
        seen_ctx = table[np.unique(ctx_ids)].any(axis=0)
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
        """Features and labels of the candidates of a sample of users, through the very
        chunk ranking that serves them (history excluded, held-out items are positives)."""
        rng = np.random.default_rng(self.config.seed)
        users = np.array(sorted(truth))
        if len(users) > self.config.head_max_users:
            users = np.sort(rng.choice(users, self.config.head_max_users, replace=False))
        n_items = len(self._items)
        truth_key = np.unique(np.concatenate(
            [u * n_items + truth[u] for u in users] or [np.empty(0, np.int64)]))
        hist = data.positives.tocsr()
        xs, ys, gs = [], [], []
        found = total = 0
        for s in range(0, len(users), 512):
            us = users[s : s + 512]
            h = hist[us]
            h.sort_indices()
            rows = np.repeat(np.arange(len(us)), np.diff(h.indptr))
            als = np.asarray(self._als_user[us]) if self._als_user is not None else None
            chunk = Chunk(np.asarray(self._user_vec[us]), h, als,
                          rows.astype(np.int64) * n_items + h.indices)
            cand, scores = self._chunk_candidates(chunk)
            feats = self._chunk_features(chunk, cand, scores)
            valid = cand >= 0
            keys = us[:, None] * n_items + np.maximum(cand, 0)
            pos = np.searchsorted(truth_key, keys).clip(0, max(len(truth_key) - 1, 0))
            lab = (truth_key[pos] == keys) & valid if len(truth_key) else valid & False
            has = valid.any(axis=1)
            found += int(lab.sum())
            total += sum(len(truth[u]) for u in us[has])
            xs.append(feats[valid])
            ys.append(lab[valid].astype(np.float32))
            gs.append(np.repeat(us, valid.sum(axis=1)))
        if not xs or not sum(len(y) for y in ys):
            raise EmptyDataError("no user has enough interactions to train the re-ranker")
        return np.vstack(xs), np.concatenate(ys), np.concatenate(gs), found / max(total, 1)
