"""Step 1 of bench/library_throughput.py: Essentia analysis rounds on real Celery workers.

One round starts N `celery -A audotics worker --concurrency 1 --pool prefork -Q celery`
processes, has the library's own commands queue the work (the first round through
`scan_library --background`, later ones by resetting every track to pending and running
`analyse_library`), polls the database until no track is pending (the user's view of "done"),
stops the workers, then reads the window and per-task runtimes from the workers' JSON logs (the
workers' own records, not the polling, time the tasks).
"""
from __future__ import annotations

import calendar
import datetime as dt
import json
import os
import statistics
import time
from pathlib import Path

from bench.child_procs import BIN, LOG_DIR, box_jiffies, group_cpu, manage, pct, start, stop


def worker_records(log: Path) -> tuple[list[dict], list[str]]:
    """(analysis tasks {start, end, runtime, ok}, error records) from a worker's JSON log."""
    tasks, errors = [], []
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("level") in ("ERROR", "CRITICAL"):
            errors.append(rec.get("message", "") + ("\n" + rec["exc_info"]
                                                    if rec.get("exc_info") else ""))
        data = rec.get("data") or {}
        if rec.get("logger") != "celery.app.trace" or data.get("name") != \
                "library.audio_file_analyse" or "runtime" not in data:
            continue
        stamp = dt.datetime.strptime(rec["time"], "%Y-%m-%d %H:%M:%S,%f")  # settings: UTC
        end = calendar.timegm(stamp.timetuple()) + stamp.microsecond / 1e6
        tasks.append({"start": end - float(data["runtime"]), "end": end,
                      "runtime": float(data["runtime"]), "result": data.get("return_value")})
    return tasks, errors


def wait_workers(names: list[str], timeout: float = 120) -> None:
    from audotics.celery import app

    deadline = time.monotonic() + timeout
    up: set[str] = set()
    while time.monotonic() < deadline:
        up = {n.split("@")[0] for r in app.control.ping(timeout=1.0) or [] for n in r}
        if set(names) <= up:
            return
    raise SystemExit(f"workers {sorted(set(names) - up)} did not answer in {timeout:.0f} s")


def analysis_round(n_workers: int, *, folder: Path, tracks: int, scan: bool,
                   timeout: float) -> dict:
    from django.db.models import Count

    from library.models import AudioFile, LibraryScan
    from playlists.models import Analysis, Track

    tag = f"r{n_workers}-{'scan' if scan else 'reset'}"
    names = [f"benchlib-{tag}-{k}" for k in range(1, n_workers + 1)]
    workers = [start(name, [str(BIN / "celery"), "-A", "audotics", "worker", "--concurrency", "1",
                            "--pool", "prefork", "-Q", "celery", "-n", f"{name}@%h",
                            "--loglevel", "INFO"]) for name in names]
    try:
        wait_workers(names)
        pgids = {w.pid for w in workers}
        # CPU counted from here (reset rounds) or from the scan's end (the scan round).
        snap = None if scan else (group_cpu(pgids), box_jiffies(), time.monotonic())
        mine = Track.objects.filter(audio_file__root=str(folder))
        if scan:
            print(f"  {manage('scan_library', str(folder), '--background')}", flush=True)
        else:
            AudioFile.objects.filter(root=str(folder)).update(analysed_hash="", analysis_error="")
            Track.objects.filter(audio_file__root=str(folder)).update(analysis=Analysis.PENDING)
            print(f"  {manage('analyse_library')}", flush=True)
        deadline = time.monotonic() + timeout
        while True:
            states = dict(mine.order_by().values_list("analysis").annotate(n=Count("pk")))
            total = sum(states.values())
            scanning = scan and not LibraryScan.objects.filter(
                root=str(folder), status=LibraryScan.Status.DONE).exists()
            if snap is None and not scanning:
                snap = (group_cpu(pgids), box_jiffies(), time.monotonic())
            if not scanning and total >= tracks and not states.get(Analysis.PENDING):
                break
            if any(w.poll() is not None for w in workers):
                raise SystemExit(f"a worker exited: see {LOG_DIR['path']}")
            if time.monotonic() > deadline:
                raise SystemExit(f"analysis unfinished after {timeout:.0f} s: {states}")
            time.sleep(0.2)
        seen_done = time.time()
        cpu_used = group_cpu(pgids) - snap[0]
        busy, total_j = box_jiffies()
        box = (busy - snap[1][0]) / max(1, total_j - snap[1][1]) * (os.cpu_count() or 1)
        cpu_wall = time.monotonic() - snap[2]
    finally:
        for w in workers:
            stop(w)
    records, errors, split = [], [], []
    for name in names:
        recs, errs = worker_records(LOG_DIR["path"] / f"{name}.log")
        records += recs
        errors += errs
        split.append(len(recs))
    failed = list(AudioFile.objects.filter(root=str(folder)).exclude(analysis_error="")
                  .values_list("path", "analysis_error"))
    if not records:
        raise SystemExit(f"no analysis task records in the worker logs ({LOG_DIR['path']})")
    first, last = min(r["start"] for r in records), max(r["end"] for r in records)
    runtimes = [r["runtime"] for r in records]
    window = last - first
    return {"workers": n_workers, "how": "scan_library --background" if scan
            else "reset + analyse_library", "tasks": len(records), "window": window,
            "seen": seen_done - first, "per_min": len(records) / window * 60,
            "median": statistics.median(runtimes), "p95": pct(runtimes, 0.95),
            "max": max(runtimes), "split": split, "errors": errors, "failed": failed,
            "cpu_per_task": cpu_used / len(records), "worker_cores": cpu_used / cpu_wall,
            "box_cores": box,
            "load": os.getloadavg()[0]}
