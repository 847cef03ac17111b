"""A web worker with the active (trained) model: load time, memory, in-process cache misses.

    DATABASE_URL=... REDIS_URL=... AUDOTICS_HOME=... .venv/bin/python bench/reco_serving.py \
        [--users 300]

Runs as a web worker does: `audotics.wsgi` first (one compute thread per request), then the
recommendation service. Prints
  1. the active version (a train_model ModelVersion id) and the time `served_model()` takes to
     load it (memory-mapped, cold process);
  2. the process's memory after loading and after serving: RssAnon (its own: heap, the faiss
     graph) and RssFile (mapped model files, shared with every other worker through the page
     cache), and whether TensorFlow was imported;
  3. `recommendation_list_for_user` for --users users whose cached lists were dropped first
     (cache misses: catch-up query, model, track rows, cache write): median and p95 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def memory() -> dict[str, float]:
    """RssAnon / RssFile of this process in MB (/proc/self/status)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile", "VmRSS"):
            out[key] = int(value.split()[0]) / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", type=int, default=300)
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")
    import audotics.wsgi  # noqa: F401 - as a web worker starts

    before = memory()
    from django.contrib.auth import get_user_model

    from recommendations.services import recommend, results_cache, serving

    serving.serving_unload()
    t0 = time.perf_counter()
    served = serving.served_model()
    load = time.perf_counter() - t0
    if served is None:
        sys.exit("no active model version: run train_model first")
    loaded = memory()
    model = served.model
    print(f"model {served.version_id}: {model.item_count:,} items, {len(model._users):,} users, "
          f"{len(model._heads)} re-ranking heads; loaded in {load:.2f} s", flush=True)
    print(f"memory MB before load {before}, after load {loaded}", flush=True)

    users = list(get_user_model().objects.filter(username__startswith="listener")
                 .order_by("?").only("id", "preferences", "is_staff", "is_active")[: args.users])
    for u in users:
        results_cache.user_cache_invalidate(user_id=str(u.pk))
    times = []
    for u in users:
        s = time.perf_counter()
        recommend.recommendation_list_for_user(viewer=u, user_id=str(u.pk))
        times.append(time.perf_counter() - s)
    after = memory()
    warm = times[10:] or times
    print(f"CACHE MISS in-process ({len(warm)} users after 10 warm-up): median "
          f"{statistics.median(warm) * 1000:.1f} ms, p95 "
          f"{sorted(warm)[int(0.95 * (len(warm) - 1))] * 1000:.1f} ms", flush=True)
    print(f"memory MB after serving {after}; tensorflow imported: "
          f"{'tensorflow' in sys.modules}", flush=True)


if __name__ == "__main__":
    main()
