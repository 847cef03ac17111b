"""Benchmark: one analysis worker's throughput on the 30-second demo tracks.

Run ``python bench/audio_analysis.py [--count 24] [--seconds 30] [--fmt .mp3]``. The tracks are
written to a temporary folder first (timed separately), then `library.analysis.analyse` runs on
each in this one process, as one Celery worker would. Process CPU time is printed too: wall time
is meaningless on a shared, busy box.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from library import analysis, demo_audio  # noqa: E402


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo, or what platform knows elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--fmt", default=".mp3")
    args = ap.parse_args()
    print(f"date {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, nproc {os.cpu_count()}, "
          f"CPU {cpu_model()}, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        paths = demo_audio.write_demo_catalog(Path(tmp), count=args.count, seconds=args.seconds,
                                         fmt=args.fmt)
        print(f"rendered and encoded {len(paths)} x {args.seconds:.0f} s {args.fmt} tracks "
              f"in {time.perf_counter() - t:.1f} s")
        analysis.analyse(paths[0])  # warm-up: Essentia's import and first configure
        walls, cpus = [], []
        for path in paths:
            t, c = time.perf_counter(), time.process_time()
            analysis.analyse(path)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
    median = statistics.median(walls)
    print(f"analyse(): median {median:.2f} s/track wall ({statistics.median(cpus):.2f} s CPU), "
          f"min {min(walls):.2f}, max {max(walls):.2f}; "
          f"{60 / median:.0f} tracks/min per worker")


if __name__ == "__main__":
    main()
