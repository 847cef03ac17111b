"""Child processes and CPU accounting for bench/library_throughput.py.

Every process the bench starts (Celery workers, daphne, nginx) goes through start(), which puts
it in a session of its own and logs it to a file in LOG_DIR, and is remembered in PROCS so that
the entry point's teardown can stop whatever is still running, whichever step failed. The CPU
figures in the report come from /proc (no psutil on this machine): per process group, for the
whole box, and for every process (what else ran meanwhile).

PROCS and LOG_DIR are shared, mutable module state: the entry point sets LOG_DIR["path"] to its
AUDOTICS_HOME once, and the analysis and streaming modules read it (a dict, so that the one
assignment is seen by every module that imported it).
"""
from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PROCS: list[subprocess.Popen] = []  # everything started here; stopped in stop_all()
LOG_DIR = {"path": Path("/tmp")}


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
