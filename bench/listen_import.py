"""History import benchmark: 100,000-listen Spotify and Last.fm histories against the real
Spotify catalog, through the `import_listens` command (the path the Celery task runs too).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/audotics_bench_listens \
    AUDOTICS_DATASETS=../shared/data .venv/bin/python bench/listen_import.py --listens 100000

Steps: (1) a fresh database (the one in DATABASE_URL is dropped and recreated) with the real
Spotify catalog (`import_tracks`), (2) two histories drawn from it with heavy-tailed popularity
and the spellings other services use (accents dropped, "- Remastered 2011", "(feat. X)",
lowercase), 8% tracks not in the catalog, 2% podcasts, short plays and skips: a Spotify
extended-history JSON with track URIs and a Last.fm CSV with names only, (3) each imported for
its own user, then imported again (must add nothing). Prints seconds, rows/s and match rates.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import re
import subprocess
import sys
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def catalog_rows(datasets: Path) -> list[tuple[str, str, str, int]]:
    """(spotify id, title, artist, duration ms) of the real catalog, one per track."""
    seen, rows = set(), []
    with gzip.open(datasets / "spotify-30k-songs" / "spotify_songs.csv.gz", "rt",
                   encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["track_id"] in seen or not row["track_name"] or not row["track_artist"]:
                continue
            seen.add(row["track_id"])
            rows.append((row["track_id"], row["track_name"], row["track_artist"],
                         int(float(row["duration_ms"] or 0))))
    return rows


def respell(rng: random.Random, artist: str, title: str) -> tuple[str, str]:
    """How another service might spell the same recording."""
    roll = rng.random()
    if roll < 0.15:
        plain = unicodedata.normalize("NFKD", artist)
        return "".join(c for c in plain if not unicodedata.combining(c)).lower(), title
    if roll < 0.25:
        return artist, f"{re.sub(r' - .*$', '', title)} - Remastered 2011"
    if roll < 0.30:
        return artist, f"{title} (feat. Guest Singer)"
    if roll < 0.35:
        return artist.upper(), title.lower()
    return artist, title


def histories(catalog, count: int, seed: int):
    """(spotify rows, lastfm rows): the same listening, as each service would export it."""
    rng = random.Random(seed)
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(catalog))]
    picks = rng.choices(range(len(catalog)), weights=weights, k=count)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    spotify, lastfm = [], []
    in_catalog = 0
    for n, index in enumerate(picks):
        at = start + timedelta(minutes=4 * n, seconds=rng.randrange(60))
        roll = rng.random()
        if roll < 0.02:
            spotify.append({"ts": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "ms_played": 1_500_000,
                            "master_metadata_track_name": None, "episode_name": f"Episode {n}",
                            "spotify_episode_uri": "spotify:episode:0Q86acNRm6V9GYx55SXKwf"})
            continue
        if roll < 0.10:
            track_id, title, artist, duration = "", f"Unreleased {n % 5000}", \
                f"Garage Band {n % 700}", 200_000
        else:
            track_id, title, artist, duration = catalog[index]
        artist, title = respell(rng, artist, title)
        kind = rng.random()
        played = duration if kind < 0.75 else rng.randrange(2_000, 25_000)
        spotify.append({
            "ts": (at + timedelta(milliseconds=played)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "platform": "android", "ms_played": played, "master_metadata_track_name": title,
            "master_metadata_album_artist_name": artist, "master_metadata_album_album_name": "",
            "spotify_track_uri": f"spotify:track:{track_id}" if track_id else None,
            "reason_end": "trackdone" if kind < 0.75 else "fwdbtn",
            "skipped": 0.75 <= kind < 0.9})
        if kind < 0.75:  # Last.fm only ever has scrobbles: completed plays
            lastfm.append([int(at.timestamp()), at.strftime("%d %b %Y, %H:%M"), artist, "",
                           "", "", title, ""])
            in_catalog += bool(track_id)
    print(f"Last.fm rows drawn from the catalog: {in_catalog / len(lastfm):.1%} "
          "(the match rate's ceiling)")
    return spotify, lastfm


def run(cmd: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listens", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/audotics-bench-listens"))
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (it is dropped and recreated)")
    datasets = Path(os.environ.get("AUDOTICS_DATASETS", ROOT.parent / "shared" / "data"))
    admin, dbname = url.rsplit("/", 1)
    subprocess.run(["psql", f"{admin}/postgres", "-qc", f"DROP DATABASE IF EXISTS {dbname}"],
                   check=True)
    subprocess.run(["psql", f"{admin}/postgres", "-qc", f"CREATE DATABASE {dbname}"], check=True)
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    seconds, _ = run([*manage, "import_tracks",
                      str(datasets / "spotify-30k-songs" / "spotify_songs.csv.gz")], env)
    catalog = catalog_rows(datasets)
    print(f"catalog: {len(catalog)} tracks imported in {seconds:.1f} s")
    spotify, lastfm = histories(catalog, args.listens, seed=7)
    args.work.mkdir(parents=True, exist_ok=True)
    files = {"spotify": args.work / "Streaming_History_Audio_2021-2023.json",
             "lastfm": args.work / "scrobbles.csv"}
    files["spotify"].write_text(json.dumps(spotify))
    with open(files["lastfm"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["uts", "utc_time", "artist", "artist_mbid", "album", "album_mbid",
                         "track", "track_mbid"])
        writer.writerows(lastfm)
    for fmt, path in files.items():
        user = f"bench_{fmt}"
        subprocess.run([*manage, "shell", "-c",
                        "from users.services import user_create; "
                        f"user_create(username='{user}', email='{user}@example.com', "
                        "password='bench-listener-2026')"],
                       cwd=ROOT, env=env, check=True)
        rows = len(spotify) if fmt == "spotify" else len(lastfm)
        for attempt in ("first", "again"):
            seconds, summary = run([*manage, "import_listens", str(path), "--user", user,
                                    "--format", fmt], env)
            print(f"{fmt} {attempt}: {rows} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s, "
                  f"command start-up included) -> {summary}")


if __name__ == "__main__":
    main()
