"""The serving model of this process: load once, reload when the active version changes.

Web processes check the active version id cheaply: a process-local copy refreshed at most every
RECO_ACTIVE_CHECK_SECONDS from the shared cache (one key, written on activation), falling back to
the database on a cache miss. Loading uses `HybridRecommender.load(mmap=True)`, which never
imports TensorFlow. Users' interactions since the model's training cutoff are folded into this
process's copy on demand (`user_catch_up`), so every process reaches the same user vectors from
the database alone, without a retrain.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from mlcore import HybridRecommender, MlcoreError

from ..models import Interaction, ModelVersion

logger = logging.getLogger(__name__)

ACTIVE_KEY = "reco:active-version"
_NONE = "none"  # cached marker for "no active version", so a model-less site is not a DB hit


@dataclass
class Served:
    """The loaded model and what the adapter needs to know about it."""

    version_id: str
    model: HybridRecommender
    trained_until: Any = None
    # user id -> interaction ids already folded into this process's model
    folded: dict[str, set[str]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


_lock = threading.Lock()
_state: dict[str, Any] = {"checked": 0.0, "active": None, "served": None, "failed": set()}


def _check_seconds() -> float:
    return float(getattr(settings, "RECO_ACTIVE_CHECK_SECONDS", 2.0))


def _active_from_db() -> dict[str, Any] | None:
    row = (ModelVersion.objects.filter(is_active=True)
           .values("id", "artifact_path", "trained_until").first())
    if row is None:
        return None
    return {"id": str(row["id"]), "path": row["artifact_path"],
            "trained_until": row["trained_until"].isoformat() if row["trained_until"] else None}


def active_version_publish() -> dict[str, Any] | None:
    """Write the active version to the shared cache (called after activation commits)."""
    info = _active_from_db()
    try:
        cache.set(ACTIVE_KEY, info or _NONE, timeout=None)
    except Exception:  # noqa: BLE001 - a cache outage must not fail an activation
        logger.warning("could not publish the active model version", exc_info=True)
    serving_reset()
    return info


def active_version() -> dict[str, Any] | None:
    """The active version {id, path, trained_until}, refreshed every few seconds at most."""
    now = time.monotonic()
    if now - _state["checked"] < _check_seconds():
        return _state["active"]
    try:
        info = cache.get(ACTIVE_KEY)
    except Exception:  # noqa: BLE001 - Redis down: the database still knows
        info = None
    if info is None:
        info = _active_from_db()
        with contextlib.suppress(Exception):
            cache.set(ACTIVE_KEY, info or _NONE, timeout=300)
    active = None if info == _NONE else info
    _state["active"], _state["checked"] = active, now
    return active


def serving_reset() -> None:
    """Forget the local version check so the next request looks again (tests, activation)."""
    _state["checked"] = 0.0


def serving_unload() -> None:
    """Drop the loaded model too (tests)."""
    with _lock:
        _state.update(checked=0.0, active=None, served=None, failed=set())


def served_model() -> Served | None:
    """The active model, loaded on first use and reloaded when the active version changes."""
    info = active_version()
    if info is None:
        return None
    current: Served | None = _state["served"]
    if current is not None and current.version_id == info["id"]:
        return current
    if info["id"] in _state["failed"]:
        return current  # a broken artifact: keep serving the old one (or the fallback)
    with _lock:
        current = _state["served"]
        if current is not None and current.version_id == info["id"]:
            return current
        try:
            t0 = time.perf_counter()
            model = HybridRecommender.load(info["path"], mmap=True)
        except (OSError, MlcoreError, ValueError, KeyError):
            logger.exception("could not load model version %s from %s", info["id"], info["path"])
            _state["failed"].add(info["id"])
            return current
        from django.utils.dateparse import parse_datetime  # noqa: PLC0415

        until = parse_datetime(info["trained_until"]) if info.get("trained_until") else None
        served = Served(version_id=info["id"], model=model, trained_until=until)
        _state["served"] = served
        logger.info("loaded model version %s in %.2fs", info["id"], time.perf_counter() - t0)
        return served


def user_catch_up(served: Served, *, user_id: str, limit: int = 500,
                  recent: list[tuple[Any, Any, str, Any]] | None = None) -> bool:
    """Fold the user's interactions newer than the model's cutoff into this process's model.

    Idempotent: interaction ids already folded here are skipped. Returns whether the model
    knows the user afterwards. `recent`: the user's newest interactions already read (id,
    track id, type, created_at; newest first, as `ranking.Profile.recent`): when they reach
    back to the cutoff they hold every newer one, and no query is needed.
    """
    cutoff = served.trained_until
    if recent and cutoff is not None and recent[-1][3] <= cutoff:
        rows = [(i, t, ty) for i, t, ty, at in recent if at > cutoff][:limit]
        return user_fold_in(served, user_id=user_id, rows=rows)
    qs = Interaction.objects.filter(user_id=user_id)
    if served.trained_until is not None:
        qs = qs.filter(created_at__gt=served.trained_until)
    rows = list(qs.order_by("-created_at").values_list("id", "track_id", "type")[:limit])
    return user_fold_in(served, user_id=user_id, rows=rows)


def user_fold_in(served: Served, *, user_id: str, rows: list[tuple[Any, Any, str]]) -> bool:
    """Fold (interaction id, track id, type) rows into the served model (no retrain)."""
    model = served.model
    with served.lock:
        done = served.folded.setdefault(user_id, set())
        new = [(str(i), str(t), ty) for i, t, ty in rows if str(i) not in done]
        records = [{"user_id": user_id, "item_id": t, "type": ty}
                   for _, t, ty in new if model.has_item(t)]
        if records:
            try:
                model.fold_in(user_id, records)
            except MlcoreError:
                logger.warning("fold-in failed for user %s", user_id, exc_info=True)
                return model.has_user(user_id)
        done.update(i for i, _, _ in new)
        return model.has_user(user_id)


def users_catch_up(served: Served, *, user_ids: list[str] | None, per_user: int = 200) -> None:
    """`user_catch_up` for many users with one query (the batch job); None: every user with
    interactions since the model's cutoff."""
    qs = Interaction.objects.all()
    if user_ids is not None:
        qs = qs.filter(user_id__in=user_ids)
    if served.trained_until is not None:
        qs = qs.filter(created_at__gt=served.trained_until)
    by_user: dict[str, list[tuple[Any, Any, str]]] = {}
    for uid, iid, tid, ty in qs.values_list("user_id", "id", "track_id", "type").iterator(
            chunk_size=5000):
        rows = by_user.setdefault(str(uid), [])
        if len(rows) < per_user:
            rows.append((iid, tid, ty))
    for uid, rows in by_user.items():
        user_fold_in(served, user_id=uid, rows=rows)
