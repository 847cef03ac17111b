"""Artifact I/O: atomic save, memory-mapped load, serving-only models from exported vectors."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from ..context import CONTEXT_DIM
from ..data import IdIndex
from ..errors import (
    InvalidInputError,
)
from ..retrieval import VectorIndex
from .config import (
    FORMAT_VERSION,
    FitReport,
    ModelConfig,
)

if TYPE_CHECKING:
    from .recommender import HybridRecommender


class ArtifactMixin:
    """Artifact part of HybridRecommender (state lives in recommender.py)."""

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
