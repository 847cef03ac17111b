"""Answering playlists: the project's cached JSON fragments against a maintained fast encoder.

    .venv/bin/python bench/json_render.py [--tracks 200] [--runs 200]

Issue 16 asks whether orjson (through plain dicts, or behind DRF as a renderer) comes close
enough to `playlists.rendering`'s hand-joined, per-process cached track fragments that the
fragments could go. Against the configured database (DATABASE_URL; the embedded SQLite
otherwise), one playlist of `--tracks` catalog tracks is read once with the selectors'
prefetches, then rendered `--runs` times each way; all four produce the same JSON (checked):

- fragments:    `rendering.playlist_bytes` (today's path; fragments warm, as in a serving process)
- drf:          `PlaylistSerializer(...).data` + the camelCase JSON renderer (the schema's path)
- drf+orjson:   the same serializer data, camelized, encoded by orjson
- dicts+orjson: plain dicts built from the loaded rows (camelCase keys written out, features and
                metadata camelized), encoded by orjson -- the "fewer moving parts" candidate
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, runs: int) -> tuple[float, bytes]:
    out = fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")
    import django

    django.setup()
    import orjson
    from django.contrib.auth import get_user_model
    from djangorestframework_camel_case.render import CamelCaseJSONRenderer
    from djangorestframework_camel_case.settings import api_settings as camel_settings
    from djangorestframework_camel_case.util import camelize

    from playlists import rendering, selectors, services
    from playlists.models import Playlist, Track
    from playlists.serializers import PlaylistSerializer

    user = get_user_model().objects.order_by("date_joined").first()
    ids = list(Track.objects.order_by("id").values_list("pk", flat=True)[:args.tracks])
    playlist = services.playlist_create(owner=user, name="json bench")
    try:
        services.playlist_tracks_add(playlist=playlist, user=user, track_ids=ids)
        loaded = selectors.playlist_get(playlist_id=playlist.pk, user=user)
        list(loaded.entries.all()), list(loaded.collaborators.all())
        camel = camel_settings.JSON_UNDERSCOREIZE
        datetime = rendering._datetime.to_representation  # the same ISO format as DRF

        def drf() -> bytes:
            return CamelCaseJSONRenderer().render(PlaylistSerializer(loaded).data)

        def drf_orjson() -> bytes:
            return orjson.dumps(camelize(PlaylistSerializer(loaded).data, **camel))

        def dicts_orjson() -> bytes:
            def entry(e):
                t = e.track
                return {"id": str(t.pk), "title": t.title, "artist": t.artist, "album": t.album,
                        "durationMs": t.duration_ms, "features": camelize(t.features, **camel),
                        "metadata": camelize(t.metadata, **camel), "hasAudio": t.has_audio,
                        "hasCover": t.has_cover, "analysis": t.analysis,
                        "addedBy": None if e.added_by is None else {
                            "id": str(e.added_by.pk), "username": e.added_by.username},
                        "addedAt": datetime(e.added_at), "position": e.position}
            p = loaded
            return orjson.dumps({
                "id": str(p.pk), "name": p.name,
                "owner": {"id": str(p.owner.pk), "username": p.owner.username},
                "isCollaborative": p.is_collaborative, "context": camelize(p.context, **camel),
                "version": p.version, "tracks": [entry(e) for e in p.entries.all()],
                "collaborators": [{"id": str(c.user.pk), "username": c.user.username,
                                   "role": c.role, "addedAt": datetime(c.added_at)}
                                  for c in p.collaborators.all()],
                "createdAt": datetime(p.created_at), "updatedAt": datetime(p.updated_at)})

        ways = {"fragments": lambda: rendering.playlist_bytes(loaded), "drf": drf,
                "drf+orjson": drf_orjson, "dicts+orjson": dicts_orjson}
        results = {name: timed(fn, args.runs) for name, fn in ways.items()}
        reference = json.loads(results["drf"][1])
        for name, (_, body) in results.items():
            assert json.loads(body) == reference, f"{name} differs from the serializer's JSON"
        base = results["fragments"][0]
        print(f"playlist of {len(ids)} tracks, {len(results['fragments'][1]):,} bytes, "
              f"median of {args.runs} renders (orjson {orjson.__version__}):")
        for name, (ms, _) in results.items():
            print(f"  {name:13s} {ms:7.2f} ms  {ms / base:5.1f}x fragments")
    finally:
        Playlist.objects.filter(pk=playlist.pk).delete()


if __name__ == "__main__":
    main()
