"""Batch recommendations with the re-ranker head, on a model that `train_model` produced.

    .venv/bin/python bench/reco_batch.py --artifact MODEL_DIR/<version id> [--chunk 512]

Loads the artifact memory-mapped (as a web or batch worker does), then times, in one run:
  1. the per-user path, `model.recommend(u, k=20)`, over --sample users;
  2. `model.recommend_batch(all users, k=20, max_per_group=2, explain=True)` (what the hourly
     job asks) in one thread, then the same chunks on --threads threads (one BLAS thread each);
  3. checks that the batch's lists equal the per-user lists for the sample (items and order).
The version id is the artifact directory's name (a ModelVersion primary key).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--chunk", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sample", type=int, default=300)
    ap.add_argument("--users", type=int, default=0, help="batch over the first N users (0: all)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--heads", type=int, default=0,
                    help="rank with only the first N re-ranking heads (what the ensemble costs; "
                         "0: all, as served)")
    args = ap.parse_args()

    import numpy as np
    from threadpoolctl import threadpool_limits

    from mlcore import HybridRecommender, search_threads

    t0 = time.perf_counter()
    model = HybridRecommender.load(args.artifact, mmap=True)
    if args.heads:
        model._heads = model._heads[: args.heads]
    print(f"model {Path(args.artifact).name}: {len(model.item_ids):,} items, "
          f"{len(model.user_ids):,} users, heads={len(model._heads)}, "
          f"index={model.retrieval_index.kind}, loaded in {time.perf_counter() - t0:.2f} s",
          flush=True)
    users = model.user_ids[: args.users or None]
    rng = np.random.default_rng(0)
    sample = [users[i] for i in rng.choice(len(users), min(args.sample, len(users)),
                                           replace=False)]
    options = {"k": 20, "max_per_group": 2, "explain": True}

    times = []
    per_user = {}
    for u in sample:
        s = time.perf_counter()
        per_user[u] = model.recommend(u, k=20)
        times.append(time.perf_counter() - s)
    print(f"PER-USER recommend: {len(sample) / sum(times):,.0f} users/s, median "
          f"{statistics.median(times) * 1000:.2f} ms, p95 "
          f"{np.percentile(times, 95) * 1000:.2f} ms", flush=True)

    batch_plain = model.recommend_batch(sample, k=20, chunk=args.chunk)
    same = sum(batch_plain[u] == per_user[u] for u in sample)
    same_items = sum([i for i, _ in batch_plain[u]] == [i for i, _ in per_user[u]]
                     for u in sample)
    print(f"EQUALITY: {same}/{len(sample)} lists identical (items and scores), "
          f"{same_items}/{len(sample)} identical item order", flush=True)

    def run(threads: int) -> float:
        chunks = [users[s : s + args.chunk] for s in range(0, len(users), args.chunk)]

        def one(part):
            if threads > 1:
                search_threads(1)
            return len(model.batch_run(model.batch_plan(part, **options)))

        s = time.perf_counter()
        with (threadpool_limits(1 if threads > 1 else None, "blas"),
              ThreadPoolExecutor(max_workers=threads) as pool):
            done = sum(pool.map(one, chunks))
        secs = time.perf_counter() - s
        assert done == len(users), (done, len(users))
        return len(users) / secs

    for threads in sorted({1, args.threads}):
        rates = [run(threads) for _ in range(args.runs)]
        print(f"BATCH ({threads} thread{'s' if threads > 1 else ''}, chunk {args.chunk}, "
              f"{len(users):,} users, k=20, artist cap 2, reasons): median "
              f"{statistics.median(rates):,.0f} users/s (runs: "
              f"{', '.join(f'{r:,.0f}' for r in rates)})", flush=True)


if __name__ == "__main__":
    main()
