"""Catalog benchmark: import throughput and search latency over a large synthetic catalog.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/audotics_bench \
        .venv/bin/python bench/catalog.py --tracks 1000000

Steps: (1) write a Spotify-format CSV of N synthetic tracks (seed_demo's generator, repeated
rows for ~10% of tracks as in the real file), (2) `import_tracks` it into a fresh database and
report tracks/s, (3) serve the API with uvicorn (1 worker) and time `GET /api/tracks?q=` for
a mix of real words, artist names, prefixes and typos, reporting p50/p95/p99 over all requests.
The database named in DATABASE_URL is dropped and recreated.
"""

from __future__ import annotations

import argparse
import base64
import csv
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import wait_for_health  # noqa: E402
from mlcore.datasets import AUDIO  # noqa: E402

HEADER = [
    "track_id",
    "track_name",
    "track_artist",
    "track_popularity",
    "track_album_id",
    "track_album_name",
    "track_album_release_date",
    "playlist_name",
    "playlist_id",
    "playlist_genre",
    "playlist_subgenre",
    *AUDIO,
]


def write_csv(path: Path, count: int) -> int:
    from playlists.services.demo import demo_tracks

    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for start in range(0, count, 50_000):
            for i, t in enumerate(
                demo_tracks(count=min(50_000, count - start), seed=11, start=start)
            ):
                f = t["features"]
                base = [
                    t["external_id"],
                    t["title"],
                    t["artist"],
                    t["metadata"]["popularity"],
                    f"alb-{t['album']}",
                    t["album"],
                    f"{t['metadata']['release_year']}-01-01",
                ]
                tail = [
                    f["danceability"],
                    f["energy"],
                    f["key"],
                    f["loudness"],
                    f["mode"],
                    f["speechiness"],
                    f["acousticness"],
                    f["instrumentalness"],
                    f["liveness"],
                    f["valence"],
                    f["tempo"],
                    t["duration_ms"],
                ]
                writer.writerow(
                    [*base, f"{t['genre']} mix", f"pl-{t['genre']}", t["genre"], t["genre"], *tail]
                )
                rows += 1
                if (start + i) % 10 == 0:  # like the real file: some tracks in two playlists
                    writer.writerow([*base, "Favourites", "pl-fav", "pop", "pop", *tail])
                    rows += 1
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tracks", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true", help="reuse an existing CSV and database")
    parser.add_argument("--reuse-csv", action="store_true", help="reuse the CSV, import again")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (it is dropped and recreated)")
    os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(50))
    os.environ.setdefault(
        "FIELD_ENCRYPTION_KEYS", "k1:" + base64.b64encode(secrets.token_bytes(32)).decode()
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")
    import django

    django.setup()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / f"catalog-{args.tracks}.csv"

    if not ((args.keep or args.reuse_csv) and csv_path.exists()):
        t0 = time.monotonic()
        rows = write_csv(csv_path, args.tracks)
        print(f"wrote {rows} rows for {args.tracks} tracks in {time.monotonic() - t0:.0f} s")

    dbname = url.rsplit("/", 1)[-1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    manage = [sys.executable, str(ROOT / "manage.py")]
    if not args.keep:
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {dbname}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {dbname}"], check=True)
        subprocess.run([*manage, "migrate", "-v0"], check=True)
        t0 = time.monotonic()
        subprocess.run(
            [*manage, "import_tracks", str(csv_path), "--batch-size", "10000"], check=True
        )
        seconds = time.monotonic() - t0
        print(
            f"IMPORT: {args.tracks} tracks in {seconds:.1f} s = "
            f"{args.tracks / seconds:,.0f} tracks/s "
            "(whole command, including Django start-up)"
        )
        subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE playlists_track"], check=True)

    import requests

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "audotics.asgi:application",
            "--port",
            str(args.port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{args.port}"
        wait_for_health(base)
        from playlists.services.demo import _WORDS, demo_tracks

        sample = demo_tracks(count=200, seed=11, start=args.tracks // 2)
        queries = []
        for i in range(args.requests):
            kind = i % 4
            if kind == 0:
                queries.append(_WORDS[i % len(_WORDS)])  # a title word
            elif kind == 1:
                queries.append(sample[i % 200]["artist"].split()[0])  # an artist name
            elif kind == 2:
                queries.append(sample[i % 200]["title"])  # a full title
            else:
                word = _WORDS[i % len(_WORDS)]
                queries.append(word[:-2] + word[-1] + word[-2])  # a typo
        session = requests.Session()
        for q in queries[:20]:  # warm-up
            session.get(f"{base}/api/tracks", params={"q": q})
        timings: dict[int, list[float]] = {k: [] for k in range(4)}
        for i, q in enumerate(queries):
            t0 = time.perf_counter()
            response = session.get(f"{base}/api/tracks", params={"q": q})
            timings[i % 4].append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.text
        everything = [t for values in timings.values() for t in values]
        names = ["title word", "artist", "full title", "typo"]
        for k, name in enumerate(names):
            v = timings[k]
            print(
                f"SEARCH {name:>10}: p50 {statistics.median(v):6.1f} ms  "
                f"p95 {percentile(v, 95):6.1f} ms"
            )
        print(
            f"SEARCH all {len(everything)} requests: p50 {statistics.median(everything):.1f} ms, "
            f"p95 {percentile(everything, 95):.1f} ms, p99 {percentile(everything, 99):.1f} ms"
        )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
