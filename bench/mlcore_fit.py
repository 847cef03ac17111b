"""Benchmark: HybridRecommender.fit wall/CPU time on the HetRec training split.

Run ``python bench/mlcore_fit.py [--data-dir ../shared/data]``; the target is < 180 s on the
2-core machine. CPU time is printed too: wall time is meaningless on a shared, busy box.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlcore import HybridRecommender, ModelConfig  # noqa: E402
from mlcore.datasets import default_data_dir, load_hetrec  # noqa: E402
from mlcore.splits import holdout_split  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    inter, feats = load_hetrec(args.data_dir or default_data_dir())
    train, _ = holdout_split(inter, 0.2, seed=args.seed)
    load1 = os.getloadavg()[0]
    t = time.perf_counter()
    model = HybridRecommender(ModelConfig(seed=args.seed)).fit(train, item_features=feats)
    wall = time.perf_counter() - t
    print(
        f"HetRec fit: wall {wall:.1f}s, process CPU {model.report.cpu_seconds:.1f}s "
        f"(load average at start {load1:.1f}, {os.cpu_count()} cores)"
    )
    print({k: round(v, 1) for k, v in model.report.timings.items()})


if __name__ == "__main__":
    main()
