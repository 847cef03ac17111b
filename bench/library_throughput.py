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

1. Analysis. --tracks demo tracks of --seconds each (`library.synth.write_demo_catalog`, MP3)
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
import asyncio
import base64
import calendar
import contextlib
import datetime as dt
import json
import os
import platform
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import nginx_front  # noqa: E402
from bench.common import wait_for_health  # noqa: E402

BIN = Path(sys.executable).parent
RANGE = 256 * 1024
PROCS: list[subprocess.Popen] = []  # everything started here; stopped in stop_all()
LOG_DIR = {"path": Path("/tmp")}
WRONG: list[str] = []  # one-off checks that failed (printed with "<-- WRONG")


# ----------------------------------------------------------------------------- processes


def start(name: str, argv: list[str]) -> subprocess.Popen:
    """A child in a session of its own (so that its whole group can be stopped), logging to a
    file in LOG_DIR."""
    log = open(LOG_DIR["path"] / f"{name}.log", "w")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env=dict(os.environ))
    proc.bench_name = name  # type: ignore[attr-defined]
    PROCS.append(proc)
    return proc


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM to the child's process group (a prefork worker's pool too), SIGKILL if needed."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # Pool children left behind by a parent that died first (the group is the child's own).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc in PROCS:
        PROCS.remove(proc)


def stop_all() -> None:
    for proc in list(PROCS):
        stop(proc)


def manage(*args: str, capture: bool = True) -> str:
    out = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT,
                         env=dict(os.environ), capture_output=capture, text=True)
    if out.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed ({out.returncode}):\n"
                         f"{out.stdout}\n{out.stderr}")
    return (out.stdout or "").strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (not its children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu(pgids: set[int]) -> float:
    """CPU seconds of every live process in these process groups (a worker and its pool)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in pgids:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def all_cpu() -> dict[int, tuple[float, str]]:
    """{pid: (CPU seconds, command line)} of every process (what else ran meanwhile)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace").strip()
        except OSError:
            continue
        out[int(entry)] = ((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"),
                           cmd[:110])
    return out


def box_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# ----------------------------------------------------------------------------- analysis


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


# ----------------------------------------------------------------------------- streaming


class Conn:
    """One keep-alive HTTP/1.1 connection (Content-Length or chunked bodies)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def _once(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                "127.0.0.1", self.port, limit=4 * 2**20)
        self.writer.write(raw)
        line = await self.reader.readline()
        if not line:
            raise ConnectionResetError("closed before the status line")
        status = int(line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, value = line.decode("latin-1").split(":", 1)
            headers[key.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, body

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        raw = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
        try:
            return await self._once(raw)
        except (ConnectionError, asyncio.IncompleteReadError):
            # The server closed an idle keep-alive connection: once more on a new one.
            await self.close()
            return await self._once(raw)


def check(status: int, headers: dict[str, str], body: bytes, data: bytes,
          wanted: tuple[int, int] | None) -> str:
    """"" when the answer is right for the file's bytes `data`, else what is wrong."""
    size = len(data)
    if status in (200, 206) and headers.get("content-type") != "audio/mpeg":
        return f"Content-Type {headers.get('content-type')!r} for an MP3"
    if wanted is None:
        if status != 200:
            return f"status {status} for the whole file: {body[:200]!r}"
        if len(body) != size or body != data:
            return f"whole file: {len(body)} bytes, file has {size} (or bytes differ)"
        return ""
    start, last = wanted[0], min(wanted[1], size - 1)
    if status != 206:
        return f"status {status} for bytes={wanted[0]}-{wanted[1]}: {body[:200]!r}"
    expected = f"bytes {start}-{last}/{size}"
    if headers.get("content-range") != expected:
        return f"Content-Range {headers.get('content-range')!r}, expected {expected!r}"
    if len(body) != last - start + 1:
        return f"{len(body)} bytes for {expected}"
    if body != data[start:last + 1]:
        return f"bytes differ from the file for {expected}"
    return ""


async def load_run(port: int, token: str, files: list[tuple[str, bytes]], *, ranged: bool,
                   clients: int, seconds: float, seed: int) -> dict:
    lat: list[float] = []
    nbytes = [0]
    bad: list[str] = []
    statuses: dict[int, int] = {}
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    async def client(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        conn = Conn(port)
        try:
            while time.perf_counter() < deadline:
                track_id, data = files[rng.randrange(len(files))]
                headers = {"Authorization": f"Bearer {token}"}
                wanted = None
                if ranged:
                    a = rng.randrange(len(data))
                    wanted = (a, a + RANGE - 1)
                    headers["Range"] = f"bytes={a}-{a + RANGE - 1}"
                t0 = time.perf_counter()
                try:
                    status, hdrs, body = await conn.get(f"/api/tracks/{track_id}/stream", headers)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    await conn.close()
                    continue
                lat.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
                nbytes[0] += len(body)
                problem = check(status, hdrs, body, data, wanted)
                if problem:
                    bad.append(problem)
        finally:
            await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    wall = time.perf_counter() - t0
    return {"requests": len(lat), "wall": wall, "rps": len(lat) / wall,
            "mbps": nbytes[0] / wall / 1e6, "p50": pct(lat, 0.5) * 1000 if lat else 0,
            "p95": pct(lat, 0.95) * 1000 if lat else 0, "p99": pct(lat, 0.99) * 1000 if lat else 0,
            "mean_kib": nbytes[0] / max(1, len(lat)) / 1024, "bad": bad, "statuses": statuses,
            "failures": failures}


def edge_checks(port: int, token: str, track_id: str, data: bytes) -> list[str]:
    """A few answers an <audio> element relies on, checked once (not timed)."""
    import requests

    url = f"http://127.0.0.1:{port}/api/tracks/{track_id}/stream"
    auth = {"Authorization": f"Bearer {token}"}
    size, out = len(data), []
    r = requests.get(url, headers={**auth, "Range": f"bytes={size}-"}, timeout=10)
    out.append(f"past the end -> {r.status_code} {r.headers.get('Content-Range')!r}"
               + ("" if r.status_code == 416 and r.headers.get("Content-Range") == f"bytes */{size}"
                  else "  <-- WRONG"))
    r = requests.get(url, headers={**auth, "Range": "bytes=-1000"}, timeout=10)
    ok = r.status_code == 206 and r.content == data[-1000:] and \
        r.headers.get("Content-Range") == f"bytes {size - 1000}-{size - 1}/{size}"
    out.append(f"suffix bytes=-1000 -> {r.status_code} {r.headers.get('Content-Range')!r}"
               + ("" if ok else "  <-- WRONG"))
    r = requests.get(url, headers={**auth, "Range": "bytes=1000-"}, timeout=10)
    ok = r.status_code == 206 and r.content == data[1000:]
    out.append(f"open bytes=1000- -> {r.status_code} {len(r.content)} bytes"
               + ("" if ok else "  <-- WRONG"))
    r = requests.get(url, timeout=10)
    out.append(f"no credentials -> {r.status_code}" + ("" if r.status_code in (401, 403)
                                                       else "  <-- WRONG"))
    return out


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


# ----------------------------------------------------------------------------- main


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

    from library import synth
    from library.models import AudioFile

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    folder = home / "demo-audio"  # home is resolved: the scan stores this root as is
    t = time.monotonic()
    synth.write_demo_catalog(folder, count=args.tracks, seconds=args.seconds, fmt=".mp3")
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
        catalog = synth.demo_catalog(args.tracks + args.long_tracks, seconds=args.long_seconds)
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
