"""Offline evaluation: every model on one deterministic split, one table, JSON and PNG.

    python -m mlcore.evaluate --dataset hetrec|spotify-playlists --data-dir ../shared/data

Protocol: the test split is carved first and used only for the final numbers. Baselines are
tuned on a validation split carved from the training data, then refit on all training data.
The hybrid tunes itself internally on its own inner hold-out of the training data.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from .baselines import (
    ALSRecommender,
    BaseRecommender,
    EASERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
)
from .datasets import default_data_dir, load_hetrec, load_spotify
from .metrics import evaluate_lists
from .model import HybridRecommender, ModelConfig
from .splits import holdout_split, truth_sets

GRIDS: dict[str, tuple[type[BaseRecommender], dict[str, list[Any]]]] = {
    "item-knn": (ItemKNNRecommender, {"k": [50, 100, 200, 400], "shrink": [0.0, 10.0, 50.0]}),
    "ease": (EASERecommender, {"lam": [50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]}),
    "als": (
        ALSRecommender,
        {"factors": [32, 64, 128], "regularization": [0.01, 0.1], "alpha": [1.0, 10.0]},
    ),
}
DATASETS: dict[str, tuple[Callable[..., tuple[pd.DataFrame, pd.DataFrame]], float]] = {
    "hetrec": (load_hetrec, 0.2),
    "spotify-playlists": (load_spotify, 0.3),
}


def _lists(recs: dict[str, list[tuple[str, float]]]) -> dict[str, list[str]]:
    return {u: [i for i, _ in r] for u, r in recs.items()}


def _eval_model(
    model: Any,
    truth: dict[str, set[str]],
    k: int,
    catalog: int,
    vectors: dict[str, np.ndarray] | None,
) -> dict[str, float]:
    users = [u for u in truth if model_knows(model, u)]
    recs = model.recommend_batch(users, k=k)
    return evaluate_lists(_lists(recs), truth, catalog, vectors)


def model_knows(model: Any, user: str) -> bool:
    if isinstance(model, HybridRecommender):
        return model.has_user(user)
    return user in model._data.users


def tune(
    name: str, train: pd.DataFrame, val: pd.DataFrame, k: int, seed: int, select: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Grid search on the validation split; returns the best params and the whole trace."""
    cls, grid = GRIDS[name]
    truth = truth_sets(val)
    n_items = train["item_id"].nunique()
    trace = []
    combos = [dict(zip(grid, v, strict=False)) for v in itertools.product(*grid.values())]
    for params in tqdm(combos, desc=f"tune {name}", leave=False):
        kw = dict(params, seed=seed) if name == "als" else params
        m = cls(**kw).fit(train)
        trace.append({"params": params, **_eval_model(m, truth, k, n_items, None)})
    best = max(trace, key=lambda r: r[select])
    return best["params"], trace


def run(
    dataset: str,
    data_dir: Path,
    out: Path | None,
    seed: int = 0,
    hybrid_config: ModelConfig | None = None,
) -> dict[str, Any]:
    loader, frac = DATASETS[dataset]
    inter, feats = loader(data_dir)
    train, test = holdout_split(inter, frac, seed=seed)
    truth = truth_sets(test)
    max_r = max(len(v) for v in truth.values())
    k = int(min(100, max(20, max_r)))
    catalog = len(set(inter["item_id"]) | set(feats.index))
    select = "ndcg@10"
    print(
        f"{dataset}: {len(inter):,} interactions, {inter['user_id'].nunique():,} users, "
        f"catalog {catalog:,}; train {len(train):,} / test {len(test):,}; lists of {k}"
    )
    tr_v, val = holdout_split(train, frac, seed=seed + 1)
    results: dict[str, dict[str, Any]] = {}

    cfg = hybrid_config or ModelConfig(seed=seed, verbose=False)
    t0 = time.perf_counter()
    hybrid = HybridRecommender(cfg).fit(train, item_features=feats)
    fit_s = time.perf_counter() - t0
    print(f"hybrid fit {fit_s:.1f}s  {hybrid.report}")
    vectors = {
        i: hybrid._content[j] for j, i in enumerate(hybrid.item_ids) if hybrid._has_content[j]
    }

    models: dict[str, Any] = {"popularity": PopularityRecommender().fit(train)}
    tuned: dict[str, Any] = {}
    for name in GRIDS:
        t = time.perf_counter()
        params, trace = tune(name, tr_v, val, k, seed, select)
        tuned[name] = {"best": params, "trace": trace}
        cls = GRIDS[name][0]
        kw = dict(params, seed=seed) if name == "als" else params
        models[name] = cls(**kw).fit(train)
        print(
            f"  {name}: best {params} (val {select}="
            f"{max(r[select] for r in trace):.4f}) in {time.perf_counter() - t:.1f}s"
        )
    models["hybrid"] = hybrid
    for name, m in tqdm(models.items(), desc="test", leave=False):
        t = time.perf_counter()
        results[name] = _eval_model(m, truth, k, catalog, vectors)
        results[name]["eval_seconds"] = time.perf_counter() - t
    extra = cold_start_report(hybrid, train, test, feats)
    report = {
        "dataset": dataset,
        "seed": seed,
        "k": k,
        "catalog": catalog,
        "hybrid_fit_seconds": fit_s,
        "hybrid_report": hybrid.report.__dict__,
        "results": results,
        "tuning": tuned,
        "cold_start": extra,
    }
    print_table(dataset, results)
    print("cold start:", json.dumps(extra))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{dataset}.json").write_text(json.dumps(report, indent=2, default=str))
        plot(dataset, results, out / f"{dataset}.png")
        print(f"wrote {out / f'{dataset}.json'} and {out / f'{dataset}.png'}")
    return report


def cold_start_report(
    hybrid: HybridRecommender,
    train: pd.DataFrame,
    test: pd.DataFrame,
    feats: pd.DataFrame,
    k: int = 10,
    max_items: int = 1000,
) -> dict[str, Any]:
    """Held-out items absent from training: genre agreement of similar_items vs chance."""
    if "genre" not in feats.columns:
        return {}
    cold = sorted(set(test["item_id"]) - set(train["item_id"]))
    cold = [i for i in cold if hybrid.has_item(i) and pd.notna(feats["genre"].get(i))]
    if not cold:
        return {"cold_items": 0}
    rng = np.random.default_rng(0)
    sample = sorted(rng.choice(cold, size=min(max_items, len(cold)), replace=False))
    genre = feats["genre"]
    dist = genre.dropna().value_counts(normalize=True)
    match = tot = 0
    for it in sample:
        for j, _ in hybrid.similar_items(it, k):
            g = genre.get(j)
            if pd.notna(g):
                tot += 1
                match += int(g == genre[it])
    # Where do cold items land in the hybrid's top-20 lists?
    truth = truth_sets(test)
    cold_set = set(cold)
    n_cold_recs = n_recs = cold_hits = 0
    for u in list(truth)[:500]:
        if not hybrid.has_user(u):
            continue
        recs = [i for i, _ in hybrid.recommend(u, k=20)]
        n_recs += len(recs)
        n_cold_recs += sum(i in cold_set for i in recs)
        cold_hits += sum(i in cold_set and i in truth[u] for i in recs)
    return {
        "cold_items": len(cold),
        "sampled": len(sample),
        "similar_items_same_genre_rate": match / max(tot, 1),
        "chance_rate": float((dist**2).sum()),
        "share_of_top20_recs_that_are_cold": n_cold_recs / max(n_recs, 1),
        "cold_hits_in_top20_first500_users": cold_hits,
    }


def print_table(dataset: str, results: dict[str, dict[str, float]]) -> None:
    cols = ["recall@10", "recall@20", "ndcg@10", "r_precision", "coverage@10", "diversity@10"]
    print(f"\n{dataset}")
    print(f"{'model':<12}" + "".join(f"{c:>13}" for c in cols))
    for name, r in results.items():
        print(f"{name:<12}" + "".join(f"{r[c]:>13.4f}" for c in cols))


def plot(dataset: str, results: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = ["recall@10", "recall@20", "ndcg@10", "r_precision"]
    names = list(results)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    w = 0.8 / len(names)
    for i, n in enumerate(names):
        ax.bar(np.arange(len(cols)) + i * w, [results[n][c] for c in cols], w, label=n)
    ax.set_xticks(np.arange(len(cols)) + 0.4 - w / 2, cols)
    ax.set_title(f"mlcore offline evaluation: {dataset}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    data_dir = args.data_dir or default_data_dir()
    if not data_dir.exists():
        raise SystemExit(f"data directory {data_dir} not found (set AUDOTICS_DATASETS)")
    run(args.dataset, data_dir, args.out, args.seed)


if __name__ == "__main__":
    main()
