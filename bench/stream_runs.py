"""Steps 2 and 3 of bench/library_throughput.py: the timed streaming runs, daphne and nginx.

streaming() starts one daphne (alone: Django sends the bytes; or with AUDIO_ACCEL_PREFIX=/_audio
behind nginx configured from deploy/nginx.conf by bench/nginx_front.py: nginx sends them), signs
in through the API, runs the one-off checks, then the timed load runs of bench/stream_load.py,
measuring the CPU of daphne, nginx, the client and the whole box around each run. The servers
are stopped before it returns, whatever happened.

WRONG collects the one-off checks that failed, so that the report can list them as problems
next to the timed runs' wrong answers.
"""
from __future__ import annotations

import asyncio
import os
import time

from bench import nginx_front
from bench.child_procs import BIN, LOG_DIR, box_jiffies, free_port, group_cpu, start, stop
from bench.common import wait_for_health
from bench.stream_load import edge_checks, load_run

WRONG: list[str] = []  # one-off checks that failed (printed with "<-- WRONG")


def streaming(args, short: list[tuple[str, bytes]], long: list[tuple[str, bytes]],
              password: str, *, nginx: bool = False) -> list:
    """The timed runs against daphne alone, or (nginx=True) against nginx in front of a daphne
    with AUDIO_ACCEL_PREFIX=/_audio, so that nginx sends the bytes (X-Accel-Redirect)."""
    import requests

    port = free_port()
    os.environ.pop("AUDIO_ACCEL_PREFIX", None)
    if nginx:
        os.environ["AUDIO_ACCEL_PREFIX"] = "/_audio"  # start() hands os.environ to daphne
    server = start("daphne-accel" if nginx else "daphne",
                   [str(BIN / "daphne"), "-v", "0", "-b", "127.0.0.1", "-p", str(port),
                    "audotics.asgi:application"])
    os.environ.pop("AUDIO_ACCEL_PREFIX", None)
    procs, front, name = [server], port, "daphne"
    rows: list[dict] = []
    try:
        wait_for_health(f"http://127.0.0.1:{port}", tries=240)
        if server.poll() is not None:
            raise SystemExit(f"daphne exited: see the logs in {LOG_DIR['path']}")
        if nginx:  # the clients now talk to nginx only
            front, name = free_port(), "nginx+X-Accel"
            conf, notes = nginx_front.write_config(LOG_DIR["path"] / "nginx", listen=front,
                                                   upstream=port)
            for note in notes:  # a deploy/nginx.conf problem the bench works around
                print(f"  deploy check: {note}  <-- WRONG", flush=True)
                WRONG.append(f"{name}: {note}")
            procs.append(start("nginx", nginx_front.argv(conf)))
            nginx_front.wait_port(front)
            wait_for_health(f"http://127.0.0.1:{front}", tries=40)
        r = requests.post(f"http://127.0.0.1:{front}/api/auth/token", timeout=30,
                          json={"username": "benchlistener", "password": password})
        if r.status_code != 200:
            raise SystemExit(f"sign-in failed: {r.status_code} {r.text[:500]}")
        token = r.json()["access"]
        print(f"  daphne on 127.0.0.1:{port} (pid {server.pid})"
              + (f", nginx on 127.0.0.1:{front} (pid {procs[1].pid}, config {conf})"
                 if nginx else "")
              + "; signed in through POST /api/auth/token", flush=True)
        if nginx:
            from library.models import AudioFile

            track_id, data = short[0]
            path = AudioFile.objects.get(track_id=track_id).path
            for line in nginx_front.accel_checks(front, port, token, track_id, data, path):
                print(f"  accel check: {line}", flush=True)
                if "<-- WRONG" in line:
                    WRONG.append(f"{name}: {line}")
        for line in edge_checks(front, token, *short[0]):
            print(f"  check: {line}", flush=True)
            if "<-- WRONG" in line:
                WRONG.append(f"{name}: {line}")
        # Warm-up, not measured: the server's first requests import and connect.
        asyncio.run(load_run(front, token, short, ranged=False, clients=8, seconds=3, seed=0))
        modes = [("whole file", short, False), ("256 KiB range", short, True)]
        if long:
            modes.append((f"256 KiB range, {args.long_seconds:.0f} s tracks", long, True))
        seed = 1
        for label, files, ranged in modes:
            for clients in (int(c) for c in args.clients.split(",")):
                seed += 1  # the same seeds in both passes: the same requests
                cpu0, client0 = [group_cpu({p.pid}) for p in procs], time.process_time()
                box0 = box_jiffies()
                res = asyncio.run(load_run(front, token, files, ranged=ranged, clients=clients,
                                           seconds=args.duration, seed=seed))
                # CPU of daphne (its process group) and of nginx (master and workers).
                cpu = [(group_cpu({p.pid}) - c0) / res["wall"] * 100
                       for p, c0 in zip(procs, cpu0, strict=True)]
                res["server_cpu"], res["nginx_cpu"] = cpu[0], (cpu[1] if nginx else None)
                res["client_cpu"] = (time.process_time() - client0) / res["wall"] * 100
                box1 = box_jiffies()
                res["box_cores"] = ((box1[0] - box0[0]) / max(1, box1[1] - box0[1])
                                    * (os.cpu_count() or 1))
                res.update(mode=label, clients=clients, load=os.getloadavg()[0], server=name)
                rows.append(res)
                print(f"  {name:<13} {label:<28} {clients:>3} clients: {res['requests']:>6} "
                      f"requests, {res['rps']:7.1f} req/s, {res['mbps']:6.1f} MB/s, p50 "
                      f"{res['p50']:7.1f} ms, p95 {res['p95']:7.1f} ms, statuses "
                      f"{res['statuses']}, wrong {len(res['bad'])}, socket errors "
                      f"{len(res['failures'])}", flush=True)
                if any(p.poll() is not None for p in procs):
                    raise SystemExit(f"{name} exited: see the logs in {LOG_DIR['path']}")
    finally:
        for p in reversed(procs):
            stop(p)
    return rows
