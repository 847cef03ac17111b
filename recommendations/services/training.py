"""Training, evaluation, activation and batch jobs for the recommender (SPEC.md §6).

A version is created as `training`, its artifact is written atomically (`model.save`) to
MODEL_DIR/<id>, and only then is it marked ready and perhaps activated. A worker killed at any
point before that leaves a `training` row and no active change: serving keeps the old model.
"""
from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audotics.exceptions import ApplicationError

from ..models import Interaction, ModelVersion
from . import serving

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None] | None
FEATURE_COLUMNS = ("danceability", "energy", "valence", "acousticness", "instrumentalness",
                   "liveness", "speechiness", "loudness", "tempo")
CONTEXT_KEYS = ("mood", "activity", "time_of_day")


def progress_step(cb: Progress, stage: str, done: int, total: int) -> None:
    if cb is not None:
        cb(stage, done, total)


PROGRESS_SECONDS = 2.0  # how often a training run writes its progress to its version row


def _recording_progress(version_id: Any, forward: Progress) -> Progress:
    """A progress callback that also keeps the version row's `progress` current (stage, share
    done, an ETA from the stage's pace so far), at most every PROGRESS_SECONDS."""
    state = {"stage": None, "since": 0.0, "written": 0.0}

    def record(stage: str, done: int, total: int) -> None:
        progress_step(forward, stage, done, total)
        now = time.monotonic()
        if stage != state["stage"]:
            state.update(stage=stage, since=now, written=0.0)
        if now - state["written"] < PROGRESS_SECONDS and 0 < done < total:
            return
        elapsed = now - state["since"]
        eta = round(elapsed / done * (total - done), 1) if 0 < done < total else None
        ModelVersion.objects.filter(pk=version_id).update(progress={
            "stage": stage, "done": done, "total": total, "eta_seconds": eta,
            "at": timezone.now().isoformat()})
        state["written"] = now

    return record


def _frame(qs, fields: tuple[str, ...], names: list[str], *, stage: str,
           on_progress: Progress, chunk: int = 100_000) -> Any:
    """A query's rows as a DataFrame built a chunk at a time: no Python object per row is
    kept beyond its chunk (millions of interactions, a million tracks)."""
    import pandas as pd  # noqa: PLC0415

    total = qs.count()
    parts, buf = [], []
    for row in qs.values_list(*fields).iterator(chunk_size=chunk):
        buf.append(row)
        if len(buf) == chunk:
            parts.append(pd.DataFrame(buf, columns=names))
            buf = []
            progress_step(on_progress, stage, len(parts) * chunk, total)
    parts.append(pd.DataFrame(buf, columns=names))
    progress_step(on_progress, stage, total, total)
    return pd.concat(parts, ignore_index=True)


def training_data_load(*, until, on_progress: Progress = None) -> tuple[Any, Any]:
    """(interactions frame, item features frame) from the database, for mlcore.

    Context values and audio features are read as JSON keys by the database; ids become
    strings once per distinct id, not once per row.
    """
    import pandas as pd  # noqa: PLC0415

    from mlcore.context import CONTEXT_VOCAB  # noqa: PLC0415
    from playlists.models import Track  # noqa: PLC0415

    vocab = {"mood": CONTEXT_VOCAB["mood"], "activity": CONTEXT_VOCAB["activity"],
             "time_of_day": CONTEXT_VOCAB["timeOfDay"]}
    inter = _frame(Interaction.objects.filter(created_at__lte=until).order_by(),
                   ("user_id", "track_id", "type", *(f"context__{k}" for k in CONTEXT_KEYS)),
                   ["user_id", "item_id", "type", *CONTEXT_KEYS],
                   stage="interactions", on_progress=on_progress)
    for col in ("user_id", "item_id"):
        codes, uniques = pd.factorize(inter[col])
        inter[col] = pd.Categorical.from_codes(codes, [str(u) for u in uniques]).astype(str)
    for key in CONTEXT_KEYS:
        # Playlist contexts are stored leniently: only vocabulary values reach the model.
        values = inter[key].where(inter[key].isin(vocab[key]))
        inter[key] = values.astype(object).where(values.notna(), None)
        if inter[key].isna().all():
            inter = inter.drop(columns=[key])
    features = _frame(Track.objects.order_by(),
                      ("id", "artist", "genre", *(f"features__{c}" for c in FEATURE_COLUMNS),
                       "metadata__popularity"),
                      ["item_id", "artist", "genre", *FEATURE_COLUMNS, "popularity"],
                      stage="catalog", on_progress=on_progress)
    if features.empty:
        return inter, None
    features["item_id"] = features["item_id"].map(str)
    features["genre"] = features["genre"].where(features["genre"] != "", None)
    for c in (*FEATURE_COLUMNS, "popularity"):
        features[c] = pd.to_numeric(features[c], errors="coerce")
    return inter, features.set_index("item_id")


def _evaluate(model: Any, test: Any, catalog: int, k: int = 20) -> dict[str, float]:
    from mlcore.metrics import evaluate_lists  # noqa: PLC0415
    from mlcore.splits import truth_sets  # noqa: PLC0415

    truth = truth_sets(test)
    users = [u for u in truth if model.has_user(u)]
    recs = {u: [i for i, _ in r] for u, r in model.recommend_batch(users, k=k).items()}
    return evaluate_lists(recs, truth, catalog)


def model_train(
    *, epochs: int | None = None, holdout: float = 0.2, refit: bool | None = None,
    activate: bool = True, on_progress: Progress = None, config: dict[str, Any] | None = None,
) -> ModelVersion:
    """Fit, evaluate on a hold-out, save atomically, record a version, activate if not worse."""
    import numpy as np  # noqa: PLC0415

    from mlcore import HybridRecommender, ModelConfig  # noqa: PLC0415
    from mlcore.baselines import PopularityRecommender  # noqa: PLC0415
    from mlcore.metrics import evaluate_lists  # noqa: PLC0415
    from mlcore.splits import holdout_split, truth_sets  # noqa: PLC0415

    until = timezone.now()
    if refit is None:
        refit = settings.RECO_TRAIN_REFIT
    # The towers' epochs are the long part of a fit; the heads stop early on their own
    # (seconds: ~2,000 lists at most), so their epochs stay the config's.
    cfg_dict = {"epochs": epochs or settings.RECO_TRAIN_EPOCHS,
                "head_count": settings.RECO_TRAIN_HEADS, "seed": 0, **(config or {})}
    version = ModelVersion.objects.create(config=cfg_dict, trained_until=until)
    on_progress = _recording_progress(version.pk, on_progress)
    try:
        inter, features = training_data_load(until=until, on_progress=on_progress)
        positives = inter[inter["type"].isin(("like", "add", "play"))]
        if positives.empty or positives["item_id"].nunique() < 2:
            raise ApplicationError("Not enough interactions to train on.",
                                   code="not_enough_data", status=409)
        cfg = ModelConfig.from_dict(cfg_dict)
        stats: dict[str, Any] = {}
        # The evaluation holds out part of the history of at most RECO_EVAL_USERS users: enough
        # for stable metrics, and the model is trained on everything else.
        users = np.sort(positives["user_id"].unique())
        if len(users) > settings.RECO_EVAL_USERS:
            rng = np.random.default_rng(cfg.seed)
            users = rng.choice(users, settings.RECO_EVAL_USERS, replace=False)
        _, test = holdout_split(positives[positives["user_id"].isin(users)], holdout,
                                seed=cfg.seed)
        train = inter.drop(index=test.index)
        model = HybridRecommender(cfg).fit(train, item_features=features, on_progress=on_progress)
        catalog = len(features) if features is not None else inter["item_id"].nunique()
        metrics = _evaluate(model, test, catalog)
        pop = PopularityRecommender().fit(train)
        truth = truth_sets(test)
        pop_users = [u for u in truth if u in pop._data.users]
        metrics["popularity_ndcg@10"] = evaluate_lists(
            {u: [i for i, _ in r] for u, r in pop.recommend_batch(pop_users, k=20).items()},
            truth, catalog)["ndcg@10"]
        stats["fit_eval"] = model.report.__dict__
        if refit:
            model = HybridRecommender(cfg).fit(inter, item_features=features,
                                               on_progress=on_progress)
            stats["fit_all"] = model.report.__dict__
        else:
            # A second TensorFlow fit doubles the cost; folding the held-out interactions back
            # in (one small solve per user) gives every user their full history instead.
            held = test.groupby("user_id", observed=True)
            for n, (uid, rows) in enumerate(held):
                model.fold_in(uid, rows[["item_id", "type"]].to_dict("records"))
                if n % 1000 == 0:
                    progress_step(on_progress, "fold in hold-out", n, held.ngroups)
            progress_step(on_progress, "fold in hold-out", held.ngroups, held.ngroups)
            stats["holdout_folded_in_users"] = int(held.ngroups)
        path = Path(settings.MODEL_DIR) / str(version.pk)
        model.save(path)  # atomic: a killed worker never leaves a half-written artifact here
        version.artifact_path = str(path)
        version.metrics = {k: (None if v != v else v) for k, v in metrics.items()}  # NaN -> null
        version.training_stats = stats
        version.trained_on_interactions = len(inter)
        version.trained_on_users = int(inter["user_id"].nunique())
        version.trained_on_tracks = int(catalog)
        version.status = ModelVersion.Status.READY
        # Not `progress`: the run keeps it current in the row, this copy of the row is stale.
        version.save(update_fields=["artifact_path", "metrics", "training_stats",
                                    "trained_on_interactions", "trained_on_users",
                                    "trained_on_tracks", "status"])
    except BaseException as exc:
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    if activate:
        if model_version_is_acceptable(version=version):
            model_version_activate(version=version)
        else:
            ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.REJECTED)
        version.refresh_from_db()
    return version


def model_version_is_acceptable(*, version: ModelVersion) -> bool:
    """Not worse than the active version: NDCG@10 within RECO_ACTIVATION_TOLERANCE (relative).
    An active version this release cannot read (an older artifact format) is no yardstick."""
    active = ModelVersion.objects.filter(is_active=True).exclude(pk=version.pk).first()
    if active is None or _saved_by_older_release(active.artifact_path):
        return True
    new, old = version.metrics.get("ndcg@10"), active.metrics.get("ndcg@10")
    if old is None:
        return True
    if new is None:
        return False
    return new >= old * (1.0 - settings.RECO_ACTIVATION_TOLERANCE)


def _saved_by_older_release(path: str) -> bool:
    from mlcore import HybridRecommender  # noqa: PLC0415

    saved = bool(path) and (Path(path) / "meta.json").exists()
    return saved and not HybridRecommender.readable(path)


def active_version_servable() -> str | None:
    """The active version's id when this release can serve its artifact, else None."""
    from mlcore import HybridRecommender  # noqa: PLC0415

    active = ModelVersion.objects.filter(is_active=True).values("id", "artifact_path").first()
    if active is None or not HybridRecommender.readable(active["artifact_path"]):
        return None
    return str(active["id"])


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make this version the served one; processes pick it up within seconds."""
    locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if not locked.artifact_path or not (Path(locked.artifact_path) / "meta.json").exists():
        raise ApplicationError("This version has no artifact.", code="no_artifact", status=409)
    ModelVersion.objects.filter(is_active=True).exclude(pk=locked.pk).update(
        is_active=False, status=ModelVersion.Status.RETIRED)
    locked.is_active = True
    locked.status = ModelVersion.Status.ACTIVE
    locked.activated_at = timezone.now()
    locked.save(update_fields=["is_active", "status", "activated_at"])
    transaction.on_commit(serving.active_version_publish)
    return locked


def model_version_rollback() -> ModelVersion:
    """Re-activate the version that was active before the current one."""
    current = ModelVersion.objects.filter(is_active=True).first()
    previous = (ModelVersion.objects.exclude(pk=getattr(current, "pk", None))
                .filter(activated_at__isnull=False).exclude(artifact_path="")
                .order_by("-activated_at").first())
    if previous is None:
        raise ApplicationError("No earlier version to roll back to.", code="no_previous",
                               status=409)
    return model_version_activate(version=previous)


def model_evaluate(*, version: ModelVersion | None = None, holdout: float = 0.2) -> dict[str, Any]:
    """Metrics of a version (default: the active one) on a fresh hold-out of current data.

    The served model has seen all interactions up to its cutoff, so this re-splits the data and
    scores the version's stored metrics next to a leave-out check: held-out items are removed
    from each user's profile by fold-in (replace=True) before ranking.
    """
    from mlcore import HybridRecommender  # noqa: PLC0415
    from mlcore.metrics import evaluate_lists  # noqa: PLC0415
    from mlcore.splits import holdout_split, truth_sets  # noqa: PLC0415

    version = version or ModelVersion.objects.filter(is_active=True).first()
    if version is None:
        raise ApplicationError("No active model version.", code="no_model", status=409)
    model = HybridRecommender.load(version.artifact_path, mmap=True)
    inter, _ = training_data_load(until=timezone.now())
    positives = inter[inter["type"].isin(("like", "add", "play"))]
    train, test = holdout_split(positives, holdout, seed=1)
    truth = truth_sets(test)
    recs = {}
    for uid, group in train.groupby("user_id"):
        if uid not in truth:
            continue
        items = [i for i in group["item_id"] if model.has_item(i)]
        if not items:
            continue
        model.fold_in(uid, [{"user_id": uid, "item_id": i, "type": "like"} for i in items],
                      replace=True)
        recs[uid] = [i for i, _ in model.recommend(uid, k=20)]
    live = evaluate_lists(recs, truth, model.item_count)
    return {"version": str(version.pk), "stored": version.metrics, "leave_out": live}


def model_artifacts_prune(*, keep: int = 5) -> int:
    """Delete artifacts of old, inactive versions beyond the newest `keep`."""
    old = ModelVersion.objects.filter(is_active=False).exclude(artifact_path="")[keep:]
    n = 0
    for v in old:
        shutil.rmtree(v.artifact_path, ignore_errors=True)
        ModelVersion.objects.filter(pk=v.pk).update(artifact_path="")
        n += 1
    return n
