"""The hourly batch as chunk tasks, on 1 and then 2 real Celery worker processes.

    DATABASE_URL=... REDIS_URL=... AUDOTICS_HOME=... .venv/bin/python bench/reco_batch_workers.py \
        [--workers 1,2] [--days 7] [--chunk 5000]

For each worker count: starts that many `celery -A audotics worker --pool=solo` processes on a
queue of their own (same database, Redis and model as the caller), waits until they answer,
warms each one's model with a first small run, then times `batch_run_start` over the users
active in the last --days days until the run is marked finished. Users/s counts the whole run:
dispatch, catch-up of each chunk's users, the model's ranking with the head, the cache writes.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start(queue: str, name: str, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - the worker keeps it
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "audotics", "worker", "--pool=solo",
         "--concurrency=1", "-Q", queue, "-n", f"{name}@%h", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))


def wait_run(run, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        run.refresh_from_db()
        if run.finished_at:
            return (run.finished_at - run.started_at).total_seconds()
        time.sleep(0.5)
    raise SystemExit(f"run {run.pk} unfinished after {timeout:.0f} s: {run.chunks_done}/"
                     f"{run.chunks_total} chunks")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--chunk", type=int, default=5000)
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")
    import django

    django.setup()
    from audotics.celery import app
    from recommendations.models import BatchChunk
    from recommendations.services import batch, serving

    active = serving.active_version()
    print(f"model version {active['id'] if active else None}; load {os.getloadavg()}", flush=True)
    log_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    for count in (int(c) for c in args.workers.split(",")):
        queue = f"bench-batch-{uuid.uuid4().hex[:8]}"
        names = [f"bench{n}" for n in range(1, count + 1)]
        procs = [start(queue, name, log_dir) for name in names]
        try:
            deadline = time.monotonic() + 120
            up: set[str] = set()
            while up != set(names) and time.monotonic() < deadline:
                up = {n.split("@")[0] for r in app.control.ping(timeout=1.0) or [] for n in r}
                up &= set(names)
            # Warm-up: a few small chunks, so that every worker has loaded the model.
            some = batch.active_user_ids(days=args.days)[: 100 * count]
            wait_run(batch.batch_run_start(user_ids=some, chunk=50, queue=queue), args.timeout)
            run = batch.batch_run_start(days=args.days, chunk=args.chunk, queue=queue)
            secs = wait_run(run, args.timeout)
            took = sorted({c.split("@")[0] for c in BatchChunk.objects.filter(run=run)
                           .values_list("worker", flat=True)})
            print(f"BATCH RUN, {count} worker process{'es' if count > 1 else ''}: "
                  f"{run.users_total:,} users in {run.chunks_total} chunks, {secs:.1f} s = "
                  f"{run.users_total / secs:,.0f} users/s (chunks taken by {', '.join(took)}); "
                  f"load {os.getloadavg()}", flush=True)
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=30)


if __name__ == "__main__":
    main()
