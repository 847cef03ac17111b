"""Recommendation benchmark: 1M tracks, 100k users, API latency/throughput, batch, generation.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/audotics_bench_reco \
    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/reco_bench.py [--keep]

Steps (each reported separately):
  1. setup (skipped with --keep): recreate the database, insert a seed_demo-style catalog
     (`demo_tracks`, COPY) of --tracks tracks, --users users (bulk_create, unusable passwords,
     genre preferences) and --per-user interactions each (COPY).
  2. model: `HybridRecommender.from_embeddings` with 32-d vectors built from genre centres +
     artist offsets + noise (no TensorFlow fit at this scale: a fit of 100k users is a nightly
     job, not a benchmark step); faiss HNSW index over the 1M items; saved to MODEL_DIR and
     activated as a ModelVersion, exactly as train_model does.
  3. recommend_batch over --batch-users active users (the service, in this process): users/s.
  4. API: the WSGI server deploy/ runs (--server, default granian; gunicorn to compare) with
     JWT-authenticated `GET /api/users/{id}/recommendations` driven by wrk (Debian package
     `wrk`) from --clients connections: after a warm-up, --runs runs over users precomputed by
     the batch (cache hits), then over users whose lists were dropped (cache misses: fold-in
     catch-up + model + DB, each user once); medians reported. --parts picks among
     hits, misses, generate.
  5. API: `POST /api/playlists/generate` with varied contexts, at each of --gen-clients
     connection counts (1,4,10), after a short warm-up; one request per cold user, no user
     twice within a minute.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import WSGI_SERVERS, wait_for_health, wsgi_server_cmd  # noqa: E402

# Whose lists the benchmark asks for: its own `bench<n>` users, or (--user-prefix listener) the
# listeners `seed_demo --listeners` made for a model that `train_model` trained.
USER_PREFIX = {"value": "bench"}


def setup_data(args) -> None:
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from playlists.services.bulk import tracks_bulk_insert
    from playlists.services.demo import GENRES, demo_tracks

    t0 = time.monotonic()
    for start in range(0, args.tracks, 50_000):
        tracks_bulk_insert(demo_tracks(count=min(50_000, args.tracks - start), seed=21,
                                       start=start))
    print(f"setup: {args.tracks:,} tracks in {time.monotonic() - t0:.0f} s", flush=True)
    t0 = time.monotonic()
    user_model = get_user_model()
    rng = np.random.default_rng(5)
    for start in range(0, args.users, 5000):
        batch = []
        for n in range(start, min(args.users, start + 5000)):
            liked = [GENRES[i] for i in rng.choice(len(GENRES), size=2, replace=False)]
            u = user_model(username=f"bench{n}", preferences={
                "genres": liked, "energy": round(float(rng.uniform(0.3, 0.9)), 2)})
            u.set_unusable_password()
            batch.append(u)
        user_model.objects.bulk_create(batch, batch_size=5000)
    print(f"setup: {args.users:,} users in {time.monotonic() - t0:.0f} s", flush=True)
    t0 = time.monotonic()
    with connection.cursor() as cur:
        cur.execute("SELECT id, genre FROM playlists_track")
        by_genre: dict[str, list] = {}
        for tid, genre in cur.fetchall():
            by_genre.setdefault(genre, []).append(tid)
    users = list(user_model.objects.filter(username__startswith="bench")
                 .values_list("id", "preferences"))
    types = ["play"] * 6 + ["like"] * 3 + ["skip"]
    with transaction.atomic():
        raw = connection.connection
        with raw.cursor() as cur, cur.copy(
                "COPY recommendations_interaction (id, user_id, track_id, type, context, "
                "created_at) FROM STDIN") as copy:
            now = time.time()
            for uid, prefs in users:
                pools = [by_genre[g] for g in prefs["genres"]]
                for k in range(args.per_user):
                    pool = pools[k % 2]
                    # Heavy-tailed: low indices (early artists) are far more popular.
                    idx = min(len(pool) - 1, int(rng.pareto(1.2) * 50))
                    copy.write_row((uuid.uuid4(), uid, pool[idx], types[k % len(types)], "{}",
                                    _ts(now - rng.uniform(0, 6 * 86400))))
    print(f"setup: {args.users * args.per_user:,} interactions in {time.monotonic() - t0:.0f} s",
          flush=True)


def _ts(epoch: float):
    from datetime import datetime

    return datetime.fromtimestamp(epoch, tz=UTC)


def build_model(args) -> None:
    import numpy as np
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from mlcore import HybridRecommender
    from playlists.models import Track
    from playlists.services.demo import GENRES
    from recommendations.models import ModelVersion
    from recommendations.services import training

    t0 = time.monotonic()
    rng = np.random.default_rng(9)
    d = 32
    centres = rng.normal(0, 1, (len(GENRES), d))
    rows = list(Track.objects.values_list("id", "genre", "artist").iterator(chunk_size=50_000))
    item_ids = [str(r[0]) for r in rows]
    g_idx = np.array([GENRES.index(r[1]) for r in rows])
    artist_codes = {}
    a_idx = np.array([artist_codes.setdefault(r[2], len(artist_codes)) for r in rows])
    artist_off = rng.normal(0, 0.4, (len(artist_codes), d))
    items = (centres[g_idx] + artist_off[a_idx] + rng.normal(0, 0.3, (len(rows), d))) / 4
    users = list(get_user_model().objects.values_list("id", "preferences")
                 .iterator(chunk_size=50_000))
    uvec = np.array([centres[[GENRES.index(g) for g in (p or {}).get("genres", ["pop"])]]
                     .mean(axis=0) for _, p in users]) / 4
    uvec += rng.normal(0, 0.05, uvec.shape)
    # What training would have learnt from: every interaction so far is history (positives
    # only; skips are negatives), and the model's cutoff is now.
    import scipy.sparse as sp

    from mlcore.data import TYPE_WEIGHTS
    from recommendations.models import Interaction

    trained_until = timezone.now()
    u_pos = {str(u): n for n, (u, _) in enumerate(users)}
    i_pos = {i: n for n, i in enumerate(item_ids)}
    r, c, w = [], [], []
    for uid, tid, ty in Interaction.objects.filter(created_at__lte=trained_until).values_list(
            "user_id", "track_id", "type").iterator(chunk_size=100_000):
        r.append(u_pos[str(uid)])
        c.append(i_pos[str(tid)])
        w.append(TYPE_WEIGHTS[ty])
    hist = sp.csr_matrix((np.array(w, np.float32), (r, c)), shape=(len(users), len(item_ids)))
    hist.data[hist.data < 0] = 0
    hist.eliminate_zeros()
    print(f"model: vectors and history ({hist.nnz:,} positives) for {len(item_ids):,} items / "
          f"{len(users):,} users in {time.monotonic() - t0:.0f} s", flush=True)
    t0 = time.monotonic()
    model = HybridRecommender.from_embeddings([str(u) for u, _ in users], uvec.astype(np.float32),
                                              item_ids, items.astype(np.float32), history=hist,
                                              item_groups=a_idx)
    print(f"model: index ({model.retrieval_index.kind}) built in {time.monotonic() - t0:.0f} s",
          flush=True)
    version = ModelVersion.objects.create(status="ready", trained_until=trained_until,
                                          metrics={"note": "from_embeddings benchmark model"},
                                          trained_on_users=len(users),
                                          trained_on_tracks=len(item_ids))
    path = settings.MODEL_DIR / str(version.pk)
    t0 = time.monotonic()
    model.save(path)
    version.artifact_path = str(path)
    version.save()
    training.model_version_activate(version=version)
    print(f"model: saved + activated {version.pk} in {time.monotonic() - t0:.0f} s", flush=True)


def recent_activity(args) -> None:
    """Interactions after the model's cutoff for --recent-share of users: the hourly batch then
    folds them in (catch-up) as it would after a nightly training."""
    import numpy as np
    from django.contrib.auth import get_user_model

    from playlists.models import Track
    from recommendations.models import Interaction

    rng = np.random.default_rng(11)
    users = list(get_user_model().objects.filter(username__startswith=USER_PREFIX["value"])
                 .values_list("id", flat=True))
    picked = rng.choice(len(users), size=int(len(users) * args.recent_share), replace=False)
    tracks = list(Track.objects.order_by()[:5000].values_list("id", flat=True))
    Interaction.objects.bulk_create(
        [Interaction(user_id=users[i], track_id=tracks[int(rng.integers(len(tracks)))],
                     type=("like", "play", "dislike")[k % 3], context={})
         for i in picked for k in range(2)], batch_size=5000)
    print(f"batch: {len(picked):,} users got 2 interactions after the model's cutoff",
          flush=True)


def run_batch(args) -> list[str]:

    from recommendations.services import batch, serving

    serving.serving_unload()
    t0 = time.monotonic()
    serving.served_model()
    print(f"batch: model load (mmap) {time.monotonic() - t0:.2f} s", flush=True)
    t0 = time.monotonic()
    done = batch.recommend_batch(days=30, chunk=args.batch_chunk)
    secs = time.monotonic() - t0
    print(f"BATCH: {done:,} users in {secs:.1f} s = {done / secs:,.0f} users/s "
          "(active-user query, catch-up of recent interactions, dislikes, vectorised model "
          "top-k with artist cap, reasons, cache write)", flush=True)
    return _batch_users(args)


def _batch_users(args) -> list[str]:
    """The users whose lists the batch computed (cache hits draw from them, misses avoid them)."""
    from django.contrib.auth import get_user_model

    users = list(get_user_model().objects.filter(username__startswith=USER_PREFIX["value"])
                 .order_by("username").values_list("id", flat=True)[: args.batch_users])
    return [str(u) for u in users]


def _wrk(port: int, lines: list[str], *, connections: int, seconds: int,
         distinct: bool = False) -> dict[str, float]:
    """Replay (method, path, token, body) lines with wrk; the parsed WRK summary line.
    `distinct`: the run must not get round to any line twice (cold caches); it fails if it
    did, asking for more lines or fewer seconds. (wrk always runs its full duration, so a
    "one pass then stop" run would count idle time in its rate.)"""
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"reco-bench-{port}.tsv"
    path.write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "load" / "wrk_replay.lua"), f"http://127.0.0.1:{port}"],
        env=dict(os.environ, WRK_REQUESTS=str(path)), capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK "))
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    result = {k: (v if k == "statuses" else float(v)) for k, v in fields.items()}
    # Each wrk thread walks its own share of the lines: leave room for an uneven split.
    if distinct and result["requests"] > 0.9 * len(lines):
        sys.exit(f"a 'distinct' run sent {result['requests']:.0f} requests over {len(lines)} "
                 "lines: some repeated; give it more lines or fewer seconds")
    return result


def _median_runs(name: str, runs: list[dict[str, float]]) -> None:
    for n, r in enumerate(runs, 1):
        print(f"{name} run {n}: {r['requests']:.0f} requests, {r['rps']:,.0f} req/s, p50 "
              f"{r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms, socket errors "
              f"{r['errors']:.0f}, statuses {r['statuses']}", flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p95", "p99")}
    print(f"{name.upper()} (median of {len(runs)}): {med['rps']:,.0f} req/s, p50 {med['p50']:.1f} "
          f"ms, p95 {med['p95']:.1f} ms, p99 {med['p99']:.1f} ms", flush=True)


def run_api(args, warm_users: list[str]) -> None:
    """The WSGI server (--server, one request thread per worker) driven by wrk."""
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    # One BLAS/OpenMP thread per worker: on 2 shared cores, more threads only oversubscribe.
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               DB_CONN_MAX_AGE="60")
    server = subprocess.Popen(
        wsgi_server_cmd(sys.executable, args.server, workers=args.workers, threads=1,
                        port=args.port), cwd=ROOT, env=env)
    try:
        wait_for_health(f"http://127.0.0.1:{args.port}", tries=240)
        users = list(get_user_model().objects.filter(username__startswith=USER_PREFIX["value"])
                     .values_list("id", flat=True))
        random.seed(3)
        warm_set = set(warm_users)
        cold = [str(u) for u in random.sample(users, args.cold_users * 2)
                if str(u) not in warm_set][: args.cold_users]
        hot = random.sample(warm_users, min(len(warm_users), args.hot_users))

        def token(u: str) -> str:
            return str(AccessToken.for_user(get_user_model()(pk=uuid.UUID(u))))

        def personal(uids):
            return [f"GET\t/api/users/{u}/recommendations\t{token(u)}\t" for u in uids]

        parts = set(args.parts.split(","))
        hits = personal(hot)
        # Warm-up, not measured: each worker loads the model, renders the catalog fragments it
        # serves and opens its connections, as a long-running worker has.
        _wrk(args.port, hits, connections=args.clients, seconds=args.warmup)
        if "hits" in parts:
            _median_runs(f"API personal, cache hits, {args.clients} clients",
                         [_wrk(args.port, hits, connections=args.clients, seconds=args.seconds)
                          for _ in range(args.runs)])
        if "misses" in parts:
            # Cold users, each once: their precomputed lists are dropped first (a new
            # interaction does the same), so every request computes (fold-in catch-up, model,
            # rows) and writes the list.
            from recommendations.services import results_cache

            for u in cold:
                results_cache.user_cache_invalidate(user_id=u)
            _median_runs(f"API personal, cache misses, {args.miss_clients} clients",
                         [_wrk(args.port, personal(cold[n::args.runs]),
                               connections=args.miss_clients,
                               seconds=args.miss_seconds, distinct=True)
                          for n in range(args.runs)])
        if "generate" in parts:
            # One request per cold listener, and each run starts where the last one stopped:
            # nobody asks twice within a minute, so nothing of one listener is reused (the
            # candidate rows a process keeps for 30 s are reused across listeners, as live).
            moods = ["happy", "sad", "calm", "energetic", "chill"]
            acts = ["workout", "party", "study", "relax", "driving"]
            gen = []
            for i, u in enumerate(cold):
                ctx = {"mood": moods[i % 5], "activity": acts[(i // 5) % 5],
                       "energy": [0.3 + 0.05 * (i % 5), 0.9]}
                if i % 3 == 0:
                    ctx["genres"] = ["pop", "rock"]
                if i % 4 == 0:
                    ctx["tempo"] = [90, 140]
                gen.append(f"POST\t/api/playlists/generate\t{token(u)}\t"
                           + json.dumps({"context": ctx, "length": 20}))
            _wrk(args.port, gen[-600:], connections=2, seconds=5)  # warm-up: the last lines
            offset = 0
            for clients in (int(c) for c in args.gen_clients.split(",")):
                runs = []
                for _ in range(args.runs):
                    runs.append(_wrk(args.port, gen[offset:] + gen[:offset], connections=clients,
                                     seconds=args.seconds, distinct=True))
                    offset = (offset + int(runs[-1]["requests"])) % len(gen)
                _median_runs(f"API generate, {clients} clients", runs)
    finally:
        server.terminate()
        server.wait()


def profile_misses(n: int = 200) -> None:
    """Where a cache miss spends its time: the service called in-process, by stage."""
    import cProfile
    import pstats

    from django.contrib.auth import get_user_model

    from recommendations.services import recommend, serving

    users = list(get_user_model().objects.filter(username__startswith=USER_PREFIX["value"])
                 .order_by("-username").only("id", "preferences", "is_staff")[: n + 20])
    serving.served_model()
    for u in users[:20]:
        recommend.recommendation_list_for_user(viewer=u, user_id=str(u.pk))
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for u in users[20:]:
        recommend.recommendation_list_for_user(viewer=u, user_id=str(u.pk))
    prof.disable()
    per = (time.perf_counter() - t0) / n * 1000
    print(f"PROFILE: {per:.1f} ms per cache miss in-process (profiler on); by stage:")
    stats = pstats.Stats(prof)
    wanted = {"user_catch_up": "catch-up query", "profiles_load": "profile query",
              "_model_candidates": "model top-k", "tracks_fetch": "track rows",
              "_rank_for": "blend/fallback/diversity/reasons", "cache_get": "cache reads",
              "user_cache_keys": "generation key", "cache_set": "cache write"}
    for (file, _, func), (_, _, _, cum, _) in stats.stats.items():
        if func in wanted and "recommendations" in file:
            print(f"  {wanted[func]:<34} {cum / n * 1000:6.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tracks", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--per-user", type=int, default=10)
    ap.add_argument("--batch-users", type=int, default=20_000,
                    help="precomputed users the API cache-hit run draws from")
    ap.add_argument("--batch-chunk", type=int, default=2000)
    ap.add_argument("--recent-share", type=float, default=0.1)
    ap.add_argument("--hot-users", type=int, default=5000,
                    help="precomputed users the cache-hit runs cycle through")
    ap.add_argument("--cold-users", type=int, default=9000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--miss-clients", type=int, default=10,
                    help="connections of the cache-miss runs")
    ap.add_argument("--gen-clients", default="1,4,10",
                    help="connection counts of the generate runs (comma-separated)")
    ap.add_argument("--seconds", type=int, default=20, help="per measured wrk run")
    ap.add_argument("--miss-seconds", type=int, default=8,
                    help="per cache-miss run (each request a different cold user)")
    ap.add_argument("--parts", default="hits,misses,generate",
                    help="API parts to run (comma-separated)")
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--server", choices=WSGI_SERVERS, default="granian",
                    help="the WSGI server of the API steps (one request thread per worker)")
    ap.add_argument("--port", type=int, default=8791)
    ap.add_argument("--keep", action="store_true", help="reuse the database and model")
    ap.add_argument("--user-prefix", default="bench",
                    help="usernames to ask for (listener: a seed_demo --listeners database whose "
                         "active model train_model trained; use with --keep)")
    ap.add_argument("--skip-api", action="store_true")
    ap.add_argument("--skip-batch", action="store_true",
                    help="no batch run (--parts generate needs none)")
    ap.add_argument("--only-profile", action="store_true")
    ap.add_argument("--rebuild-model", action="store_true")
    ap.add_argument("--setup-only", action="store_true", help="stop after the data and model")
    args = ap.parse_args()
    USER_PREFIX["value"] = args.user_prefix
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("set DATABASE_URL (PostgreSQL; dropped and recreated) and REDIS_URL")
    os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(50))
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS",
                          "k1:" + base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("AUDOTICS_HOME", str(ROOT / "bench" / "out" / "reco-home"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ.setdefault("RECO_ACTIVE_CHECK_SECONDS", "5")
    print(f"load before: {os.getloadavg()}", flush=True)
    if not args.keep:
        dbname = url.rsplit("/", 1)[-1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {dbname}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {dbname}"], check=True)
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], check=True)
    import django

    django.setup()
    from django.core.cache import cache

    if not args.keep:
        setup_data(args)
        subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)
    if not args.keep or args.rebuild_model:
        build_model(args)
    if args.setup_only:
        return
    if args.only_profile:
        profile_misses()
        return
    cache.delete_pattern("reco:*")
    if not args.keep or args.rebuild_model:
        recent_activity(args)
    warm = run_batch(args) if not args.skip_batch else _batch_users(args)
    print(f"load after batch: {os.getloadavg()}", flush=True)
    if not args.skip_api:
        run_api(args, warm)
    print(f"load after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
