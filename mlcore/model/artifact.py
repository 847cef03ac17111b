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
from ..data import IdArray, IdIndex
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
        """Atomic: write a temp dir next to ``path``, fsync, then rename into place.

        Everything a server reads is a plain ``.npy`` (ids, vectors, each sparse matrix as its
        three arrays) or a faiss index, so ``load`` maps it instead of parsing it.
        """
        self._check()
        import pickle  # noqa: PLC0415

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            n_u = len(self._users)
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
            arrays: dict[str, np.ndarray] = {
                "pop": self._pop,
                "group": self._group,
                "ctx_proj": self._ctx_proj,
                "feat_mean": self._feat_mean,
                "feat_std": self._feat_std,
                "fold_gram": self._fold["gram"],
                "fold_neg_rhs": self._fold["neg_rhs"],
            }
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
                arrays["als_gram"] = self._als_gram
            self._users.save(tmp, "user")
            self._items.save(tmp, "item")
            self._index.save(tmp, "item")
            content_index = self._content_index or VectorIndex(np.asarray(self._content))
            content_index.save(tmp, "content")
            np.save(tmp / "has_content.npy", np.asarray(self._has_content))
            np.save(tmp / "user_vectors.npy", uvec)
            _save_csr(tmp, "history", hist)
            for name, matrix in (("ease", self._ease), ("knn", self._knn), ("rp3", self._rp3)):
                if matrix is not None:
                    _save_csr(tmp, name, matrix)
            for h, head in enumerate(self._heads):
                for i, (w, b) in enumerate(head):
                    arrays[f"head{h}_w{i}"], arrays[f"head{h}_b{i}"] = w, b
            np.savez(tmp / "arrays.npz", **arrays)
            meta = {
                "format_version": FORMAT_VERSION,
                "config": asdict(self.config),
                "users": n_u,
                "items": len(self._items),
                "content_index": self._content_index is not None,
                "heads": len(self._heads),
                "head_layers": len(self._heads[0]) if self._heads else 0,
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

    @staticmethod
    def readable(path: str | os.PathLike[str]) -> bool:
        """Whether `load` can read the artifact at `path` (it exists, in this release's format):
        a version saved by an older release is not worth keeping active over a new one."""
        meta = Path(path) / "meta.json"
        try:
            return json.loads(meta.read_text()).get("format_version") == FORMAT_VERSION
        except (OSError, ValueError):
            return False

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = True) -> HybridRecommender:
        """Load for serving: numpy/scipy/faiss only, no TensorFlow. Every array is memory-mapped
        (``mmap``): the page cache holds one copy for all the server's processes, and loading
        reads almost nothing."""
        p = Path(path)
        if not (p / "meta.json").exists():
            raise FileNotFoundError(f"no mlcore model at {p}")
        meta = json.loads((p / "meta.json").read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise InvalidInputError(
                f"model format {meta.get('format_version')} at {p}; this release reads format "
                f"{FORMAT_VERSION}: train a new version (train_model)")
        m = cls(ModelConfig.from_dict(meta["config"]))
        mode = "r" if mmap else None
        m._users = IdArray.load(p, "user", mmap=mmap)
        m._items = IdArray.load(p, "item", mmap=mmap)
        m._index = VectorIndex.load(p, "item", mmap=mmap)
        m._item_vec = m._index.vectors
        content = VectorIndex.load(p, "content", mmap=mmap)
        m._content = content.vectors
        m._content_index = content if meta["content_index"] else None
        m._has_content = np.load(p / "has_content.npy", mmap_mode=mode)
        m._user_vec = np.load(p / "user_vectors.npy", mmap_mode=mode)
        m._hist = _load_csr(p, "history", mode)
        m._ease = _load_csr(p, "ease", mode) if (p / "ease_data.npy").exists() else None
        m._knn = _load_csr(p, "knn", mode) if (p / "knn_data.npy").exists() else None
        m._rp3 = _load_csr(p, "rp3", mode) if (p / "rp3_data.npy").exists() else None
        with np.load(p / "arrays.npz") as a:
            m._pop, m._group, m._ctx_proj = a["pop"], a["group"], a["ctx_proj"]
            m._feat_mean, m._feat_std = a["feat_mean"], a["feat_std"]
            m._fold = {"gram": a["fold_gram"], "neg_rhs": a["fold_neg_rhs"], **meta["fold"]}
            m._heads = [[(a[f"head{h}_w{i}"], a[f"head{h}_b{i}"])
                         for i in range(meta["head_layers"])] for h in range(meta["heads"])]
            if (p / "als_item.npy").exists():
                m._als_user = np.load(p / "als_user.npy", mmap_mode=mode)
                m._als_item = np.load(p / "als_item.npy", mmap_mode=mode)
                m._als_gram = a["als_gram"]
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


def _save_csr(directory: Path, name: str, matrix: sp.spmatrix) -> None:
    m = sp.csr_matrix(matrix)
    m.sort_indices()
    for part in ("data", "indices", "indptr"):
        np.save(directory / f"{name}_{part}.npy", getattr(m, part))
    np.save(directory / f"{name}_shape.npy", np.array(m.shape, np.int64))


def _load_csr(directory: Path, name: str, mode: str | None) -> sp.csr_matrix:
    """A CSR matrix over memory-mapped arrays (scipy keeps them: no copy)."""
    parts = [np.load(directory / f"{name}_{part}.npy", mmap_mode=mode)
             for part in ("data", "indices", "indptr")]
    shape = tuple(int(v) for v in np.load(directory / f"{name}_shape.npy"))
    m = sp.csr_matrix(tuple(parts), shape=shape, copy=False)
    m.has_sorted_indices = True
    return m


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
