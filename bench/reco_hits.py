"""Cached personal lists through a WSGI server + wrk, for comparing code versions and layouts.

    DATABASE_URL=... REDIS_URL=... AUDOTICS_HOME=... .venv/bin/python bench/reco_hits.py \
        [--code /path/to/another/checkout] [--server gunicorn|granian] \
        [--worker-class gthread --workers 2 --threads 4] \
        [--users 2000] [--runs 2] [--seconds 10] [--batch]

Serves `audotics.wsgi` from --code (default: this checkout) with the given server and layout and
replays `GET /api/users/{id}/recommendations` for the first --users listeners (JWT bearer
tokens) from 50 wrk connections: an 8 s warm-up, then --runs measured runs. The lists must be
cached already (run `bench/reco_bench.py` or `recommend_batch` first, or pass --batch to compute
them here, which first clears the whole cache). Run two versions alternately on the same host:
only their ratio within one sitting means anything on a shared machine. `bench/reco_bench.py`
is the full benchmark (batch, hits, misses, generate); this is its cache-hit part, repeatable.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import WSGI_SERVERS, wsgi_server_cmd  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--code", default=str(ROOT), help="checkout whose code the server runs")
    ap.add_argument("--server", choices=WSGI_SERVERS, default="granian")
    ap.add_argument("--worker-class", default="sync", help="gunicorn's worker class")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--port", type=int, default=8795)
    ap.add_argument("--batch", action="store_true", help="clear the cache and compute the lists")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    from bench.common import wait_for_health
    from bench.reco_bench import _wrk

    if args.batch:
        from django.core.cache import cache

        from recommendations.services import batch, serving

        cache.delete_pattern("*")
        serving.served_model()
        print(f"batch: {batch.recommend_batch(days=3650, chunk=500):,} lists", flush=True)
    user_model = get_user_model()
    ids = user_model.objects.filter(username__startswith="listener").values_list("id", flat=True)
    lines = [f"GET\t/api/users/{u}/recommendations\t"
             f"{AccessToken.for_user(user_model(pk=uuid.UUID(str(u))))}\t"
             for u in ids[: args.users]]
    # One BLAS thread per worker, as reco_bench's server; the checkout's own code on sys.path.
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=args.code)
    cmd = wsgi_server_cmd(sys.executable, args.server, workers=args.workers,
                          threads=args.threads, port=args.port, worker_class=args.worker_class)
    layout = f"{args.server} {args.worker_class if args.server == 'gunicorn' else ''}" \
             f" {args.workers}x{args.threads}"
    server = subprocess.Popen(cmd, cwd=args.code, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for_health(f"http://127.0.0.1:{args.port}", tries=240)
        _wrk(args.port, lines, connections=50, seconds=8)
        for n in range(1, args.runs + 1):
            r = _wrk(args.port, lines, connections=50, seconds=args.seconds)
            print(f"HITS run {n} ({args.code}, {layout}):"
                  f" {r['rps']:,.0f} req/s, p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, "
                  f"statuses {r['statuses']}, load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
