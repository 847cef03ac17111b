"""Library throughput on the real path: Essentia analysis on real Celery workers, then audio
streaming with Range requests through a real daphne server, measured from the user's side.

    .venv/bin/python bench/library_throughput.py [--tracks 48] [--seconds 30] [--workers 1,2]
        [--clients 16,64] [--duration 15] [--long-tracks 4] [--long-seconds 240]
        [--db audotics_bench_lib] [--redis redis://127.0.0.1:6379/5] [--keep-home]
        [--skip-analysis] [--nginx]

Everything runs against its own PostgreSQL database (--db, dropped and recreated), its own Redis
database (--redis, flushed before and after) and its own AUDOTICS_HOME (a new folder in /tmp),
with a throwaway SECRET_KEY and FIELD_ENCRYPTION_KEYS, DEBUG off (PostgreSQL + Redis = the
production settings).

1. Analysis. --tracks demo tracks of --seconds each (`library.demo_audio.write_demo_catalog`, MP3)
   are written to a folder; for the first entry of --workers, that many
   `celery -A audotics worker --concurrency 1 --pool prefork -Q celery` processes are started
   and `manage.py scan_library FOLDER --background` queues the scan, which the worker runs and
   which queues one `library.audio_file_analyse` task per file. For each later entry, new
   workers are started, every track is reset to pending and `manage.py analyse_library` sends
   the same tasks again (same files: the rounds do the same work). The window runs from the
   first analysis task starting to the last one finishing (the workers' own log records:
   finish time and runtime of each task); the database is polled meanwhile until no track is
   pending, the user's view of "done".
2. Streaming. daphne (one process, `-v 0` as in deploy/, REDIS_URL set as in a deployment,
   no nginx in front: AUDIO_ACCEL_PREFIX unset, so Django sends the bytes itself) serves the
   scanned tracks. A user is created with `manage.py shell -c` and signs in through
   `POST /api/auth/token`; the JWT then authenticates `GET /api/tracks/{id}/stream`. Asyncio
   clients (one keep-alive connection each, a minimal HTTP/1.1 client on asyncio streams: no
   httpx/aiohttp/wrk on this machine) ask for (a) whole files, (b) random 256 KiB ranges
   `bytes=a-(a+256Ki-1)` as a seeking <audio> element does, and (c) with --long-tracks, the
   same ranges inside --long-seconds tracks (a 30 s demo MP3 is smaller than 256 KiB, so (b)
   mostly gets the file's tail). Latency is time to the last byte. Every 200 is checked for its
   length and bytes, every 206 for its Content-Range, length and bytes against the file on
   disk, and both for `Content-Type: audio/mpeg`.
3. With --nginx, the production path: a new daphne with AUDIO_ACCEL_PREFIX=/_audio (the view
   answers an empty 200 with `X-Accel-Redirect: /_audio/<absolute path>`) behind nginx
   (/usr/sbin/nginx, foreground, config in AUDOTICS_HOME/nginx: deploy/nginx.conf's proxy
   directives and `location /_audio/` and `location /` blocks, read from that file, see
   bench/nginx_front.py). The same runs as in 2, same clients and checks, now against nginx,
   after one-off checks that X-Accel works as configured: /_audio/ is internal (404), no
   credentials is 401 without bytes, audio/mpeg, one `Accept-Ranges: bytes`, 416 past the end.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, so the project root (for `bench.*`, `audotics`, `library`) is not on the
# path yet: the imports below need it first.
sys.path.insert(0, str(ROOT))

from bench.analysis_rounds import analysis_round  # noqa: E402
from bench.child_procs import LOG_DIR, all_cpu, cpu_model, manage, stop_all  # noqa: E402
from bench.stream_runs import WRONG, streaming  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tracks", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--workers", default="1,2", help="worker process counts, one round each")
    ap.add_argument("--clients", default="16,64")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per streaming run")
    ap.add_argument("--long-tracks", type=int, default=4,
                    help="extra long tracks for the ranged run (c); 0: none")
    ap.add_argument("--long-seconds", type=float, default=240.0)
    ap.add_argument("--db", default="audotics_bench_lib")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    ap.add_argument("--timeout", type=float, default=900, help="per analysis round")
    ap.add_argument("--keep-home", action="store_true",
                    help="keep AUDOTICS_HOME (audio, worker and daphne logs) afterwards")
    ap.add_argument("--skip-analysis", action="store_true",
                    help="scan without measuring analysis (streaming only)")
    ap.add_argument("--nginx", action="store_true",
                    help="then the same streaming runs through nginx with X-Accel-Redirect")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="audotics-bench-lib-", dir="/tmp")).resolve()
    LOG_DIR["path"] = home
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{args.db}", REDIS_URL=args.redis,
        AUDOTICS_HOME=str(home), SECRET_KEY="bench-" + secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS="k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        DJANGO_SETTINGS_MODULE="audotics.settings", ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_FORMAT="json", LOG_LEVEL="INFO", PYTHONPATH=str(ROOT))
    os.environ.pop("DEBUG", None)
    os.environ.pop("AUDIO_ACCEL_PREFIX", None)

    def on_signal(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ok = False
    try:
        ok = run(args, home)
    finally:
        stop_all()
        subprocess.run(["redis-cli", "-u", args.redis, "flushdb"], capture_output=True)
        if ok and not args.keep_home:
            subprocess.run(["rm", "-rf", str(home)])
        else:
            print(f"AUDOTICS_HOME kept (audio, worker and daphne logs): {home}")


def run(args, home: Path) -> bool:
    import celery
    import daphne
    import essentia

    started = time.monotonic()
    before = all_cpu()
    now = dt.datetime.now(dt.UTC)
    print(f"library throughput, {now:%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}; CPU "
          f"{cpu_model()}; load average {os.getloadavg()[0]:.2f}; Python "
          f"{platform.python_version()}, Celery {celery.__version__}, daphne "
          f"{daphne.__version__}, Essentia {essentia.__version__}", flush=True)
    admin = "postgres://postgres@127.0.0.1:5432/postgres"
    subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {args.db}"], check=True,
                   capture_output=True)
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {args.db}"], check=True)
    subprocess.run(["redis-cli", "-u", args.redis, "flushdb"], check=True, capture_output=True)
    t = time.monotonic()
    manage("migrate", "-v0")
    print(f"migrated {args.db} in {time.monotonic() - t:.1f} s; AUDOTICS_HOME {home}; "
          f"broker {args.redis}", flush=True)

    import django

    django.setup()
    from django.db import connection

    from library import demo_audio, synth
    from library.models import AudioFile

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    folder = home / "demo-audio"  # home is resolved: the scan stores this root as is
    t = time.monotonic()
    demo_audio.write_demo_catalog(folder, count=args.tracks, seconds=args.seconds, fmt=".mp3")
    sizes = [p.stat().st_size for p in folder.glob("*.mp3")]
    print(f"wrote {len(sizes)} x {args.seconds:.0f} s MP3 in {time.monotonic() - t:.1f} s "
          f"({statistics.mean(sizes) / 1024:.0f} KiB each on average)", flush=True)

    rounds = []
    counts = [int(c) for c in args.workers.split(",")]
    if args.skip_analysis:
        manage("scan_library", str(folder))  # queued tasks are flushed at the end
    else:
        for n, count in enumerate(counts):
            print(f"analysis round: {count} worker process{'es' if count > 1 else ''}",
                  flush=True)
            res = analysis_round(count, folder=folder, tracks=args.tracks, scan=n == 0,
                                 timeout=args.timeout)
            rounds.append(res)
            print(f"  {res['tasks']} tasks in {res['window']:.1f} s = {res['per_min']:.0f} "
                  f"tracks/min ({res['per_min'] / count:.0f} per worker); task median "
                  f"{res['median']:.2f} s, p95 {res['p95']:.2f} s, max {res['max']:.2f} s; "
                  f"split {res['split']}; failed {len(res['failed'])}; workers' CPU "
                  f"{res['cpu_per_task']:.2f} s/task, {res['worker_cores']:.2f} cores of "
                  f"{res['box_cores']:.2f} busy on the box; load {res['load']:.2f}", flush=True)
            for err in res["errors"][:5]:
                print(f"  WORKER ERROR: {err}", flush=True)
            for path, error in res["failed"][:5]:
                print(f"  FAILED ANALYSIS: {path}: {error}", flush=True)

    long: list[tuple[str, bytes]] = []
    if args.long_tracks:
        long_folder = home / "long-audio"
        t = time.monotonic()
        # Tracks past the demo's first --tracks (other seeds, so other bytes), rendered longer.
        catalog = demo_audio.demo_catalog(args.tracks + args.long_tracks, seconds=args.long_seconds)
        long_folder.mkdir()
        for tr in catalog[args.tracks:]:
            audio = synth.render(bpm=tr.bpm, seconds=tr.seconds, key=tr.key, mode=tr.mode,
                                 timbre=tr.timbre, seed=tr.seed)
            synth.write(long_folder / f"{tr.stem}.mp3", audio, 44100,
                        tags={"title": tr.title, "artist": tr.artist, "album": tr.album})
        # Scanned without a worker running: their analysis tasks wait in Redis, flushed at the
        # end (streaming does not need the analysis).
        manage("scan_library", str(long_folder))
        for a in AudioFile.objects.filter(root=str(long_folder.resolve())):
            long.append((str(a.track_id), Path(a.path).read_bytes()))
        mib = statistics.mean(len(d) for _, d in long) / 2**20
        print(f"wrote and scanned {len(long)} x {args.long_seconds:.0f} s MP3 in "
              f"{time.monotonic() - t:.1f} s ({mib:.1f} MiB each)", flush=True)
    short = [(str(a.track_id), Path(a.path).read_bytes())
             for a in AudioFile.objects.filter(root=str(folder.resolve()))]
    if len(short) != args.tracks:
        raise SystemExit(f"{len(short)} scanned files, expected {args.tracks}")
    password = secrets.token_urlsafe(18)
    manage("shell", "-c",
           "from django.contrib.auth import get_user_model; "
           f"get_user_model().objects.create_user(username='benchlistener', "
           f"password='{password}')")
    print(f"streaming: daphne, {len(short)} + {len(long)} tracks", flush=True)
    rows = streaming(args, short, long, password)
    if args.nginx:
        print(f"streaming: nginx + X-Accel-Redirect, {len(short)} + {len(long)} tracks",
              flush=True)
        rows += streaming(args, short, long, password, nginx=True)

    # ------------------------------------------------------------------ summary
    print()
    print(f"## Library throughput ({now:%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}; "
          f"{cpu_model()}; PostgreSQL {pg}; Redis broker {args.redis})")
    if rounds:
        print()
        print(f"Analysis of {args.tracks} x {args.seconds:.0f} s MP3 (Essentia, one "
              "`library.audio_file_analyse` task per file): `celery -A audotics worker "
              "--concurrency 1 --pool prefork -Q celery` x N processes")
        print()
        print("| workers | queued by | tasks | window s | tracks/min | per worker | speed-up "
              "| task median s | task p95 s | tasks per worker | DB seen done s | failed "
              "| worker CPU s/task | cores the workers got | cores busy (box) | load |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        singles = [r["per_min"] for r in rounds if r["workers"] == 1]
        base = statistics.median(singles) if singles else rounds[0]["per_min"]
        for r in rounds:
            print(f"| {r['workers']} | {r['how']} | {r['tasks']} | {r['window']:.1f} | "
                  f"{r['per_min']:.0f} | {r['per_min'] / r['workers']:.0f} | "
                  f"{r['per_min'] / base:.2f}x | {r['median']:.2f} | {r['p95']:.2f} | "
                  f"{'/'.join(map(str, r['split']))} | {r['seen']:.1f} | {len(r['failed'])} | "
                  f"{r['cpu_per_task']:.2f} | {r['worker_cores']:.2f} | {r['box_cores']:.2f} | "
                  f"{r['load']:.2f} |")
        print("\n(speed-up: against the median of the 1-worker rounds; worker CPU: user+system "
              "time of the worker processes and their pool children from the first analysis "
              "on; cores busy: all processes on the machine over the same interval, of "
              f"{os.cpu_count()})")
    print()
    print(f"Streaming `GET /api/tracks/{{id}}/stream` (JWT), one daphne process (`daphne -v 0`, "
          f"REDIS_URL set); daphne: no nginx, Django sends the bytes; nginx+X-Accel: "
          f"AUDIO_ACCEL_PREFIX=/_audio, nginx (worker_processes auto) sends them; asyncio "
          f"keep-alive clients in one process, {args.duration:.0f} s per run")
    print()
    print("| server | request | clients | requests | req/s | MB/s | mean KiB | p50 ms | p95 ms "
          "| p99 ms | wrong | errors | daphne CPU % | nginx CPU % | client CPU % "
          "| cores busy (box) | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["mode"], r["clients"])):
        nginx_cpu = "-" if r["nginx_cpu"] is None else f"{r['nginx_cpu']:.0f}"
        print(f"| {r['server']} | {r['mode']} | {r['clients']} | {r['requests']} | "
              f"{r['rps']:.1f} | {r['mbps']:.1f} | {r['mean_kib']:.0f} | {r['p50']:.1f} | "
              f"{r['p95']:.1f} | {r['p99']:.1f} | {len(r['bad'])} | {len(r['failures'])} | "
              f"{r['server_cpu']:.0f} | {nginx_cpu} | {r['client_cpu']:.0f} | "
              f"{r['box_cores']:.2f} | {r['load']:.2f} |")
    after = all_cpu()
    others = sorted(((cpu - before.get(pid, (0.0, ""))[0], cmd) for pid, (cpu, cmd)
                     in after.items() if pid != os.getpid()), reverse=True)
    print("\nOther processes' CPU during the run (live at the end; the bench's own workers, "
          "daphne and nginx were stopped before):")
    for cpu, cmd in others[:6]:
        print(f"  {cpu:7.1f} s  {cmd}")
    problems = [p for r in rows for p in r["bad"] + r["failures"]] + WRONG
    for p in sorted(set(problems))[:10]:
        print(f"PROBLEM: {p}")
    print(f"\ntotal {time.monotonic() - started:.0f} s")
    return not problems and not any(r["failed"] or r["errors"] for r in rounds)


if __name__ == "__main__":
    main()
