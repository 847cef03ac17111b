"""A synthetic but plausible demo catalog, users, listening histories and playlists.

Audio features are drawn around per-genre centres (rap is speechy, classical acoustic and
instrumental, edm fast and loud), artists release several tracks on a few albums, and popularity
is heavy-tailed. Everything is deterministic for a seed. Vectorised with numpy and written with
COPY, so a million tracks take well under a minute of CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction

from recommendations.models import Interaction

from ..models import Collaborator, Playlist, PlaylistTrack, Track
from .bulk import tables_analyze, tracks_bulk_insert

# genre: (danceability, energy, valence, acousticness, instrumentalness, speechiness,
#         loudness dB, tempo BPM)
GENRE_CENTRES: dict[str, tuple[float, ...]] = {
    "pop": (0.68, 0.70, 0.55, 0.15, 0.02, 0.07, -6.0, 118),
    "rock": (0.50, 0.78, 0.48, 0.10, 0.08, 0.05, -6.5, 128),
    "rap": (0.75, 0.65, 0.50, 0.12, 0.01, 0.28, -6.8, 100),
    "edm": (0.66, 0.85, 0.42, 0.05, 0.35, 0.07, -4.8, 126),
    "latin": (0.73, 0.72, 0.65, 0.18, 0.03, 0.09, -5.9, 104),
    "r&b": (0.66, 0.55, 0.50, 0.25, 0.02, 0.10, -7.5, 96),
    "jazz": (0.55, 0.38, 0.50, 0.70, 0.40, 0.05, -11.0, 110),
    "classical": (0.30, 0.18, 0.25, 0.92, 0.85, 0.04, -20.0, 95),
    "country": (0.58, 0.62, 0.58, 0.30, 0.01, 0.04, -6.8, 115),
    "indie": (0.52, 0.58, 0.42, 0.35, 0.15, 0.05, -8.0, 120),
}
GENRES = list(GENRE_CENTRES)
_SYLLABLES = (
    "ka lo mi ra ven tor sel an ix ol um be ri sa no chi de lu ma zo fi el ar qu ta ne vo "
    "li pa ro su ga ne mo"
).split()
_WORDS = (
    "midnight summer neon heart river golden fire dream city lights ocean echo wild "
    "silver shadow electric velvet broken paper sky morning rain starlight highway honey "
    "thunder fever gravity crystal satellite memory paradise holiday mirror secret island "
    "diamond horizon runaway wonder lullaby cherry smoke desert signal tokyo cosmic"
).split()
DEMO_PASSWORD = "audotics-demo-2026"


@dataclass
class DemoResult:
    tracks: int
    users: int
    interactions: int
    playlists: int


def _name(rng: np.random.Generator, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES, size=parts)).capitalize()


def _album_name(artist: int, album: int) -> str:
    """Each artist's tracks fall on a couple of albums with a stable name."""
    return f"{_WORDS[(artist * 7 + album) % len(_WORDS)].capitalize()} Sessions"


def demo_tracks(*, count: int, seed: int, start: int = 0) -> list[dict]:
    """Track rows `start..start+count` of the demo catalog for `seed` (pure, no database)."""
    rng = np.random.default_rng([seed, start])
    per_artist = 8
    _first_artist, last_artist = start // per_artist, (start + count - 1) // per_artist + 1
    artist_rng = np.random.default_rng([seed, 1])
    # Artists are the same whichever chunk asks for them: derive them from the seed alone.
    artist_genre = artist_rng.integers(0, len(GENRES), size=last_artist + 1)
    artist_fame = artist_rng.pareto(1.5, size=last_artist + 1)
    indices = np.arange(start, start + count)
    artists = indices // per_artist
    genre_idx = artist_genre[artists]
    centres = np.array([GENRE_CENTRES[g] for g in GENRES])[genre_idx]
    noise = rng.normal(0, 1, size=centres.shape) * np.array(
        [0.12, 0.12, 0.2, 0.15, 0.15, 0.05, 2.5, 18]
    )
    values = centres + noise
    values[:, :6] = np.clip(values[:, :6], 0.0, 1.0)
    values[:, 6] = np.clip(values[:, 6], -60.0, 5.0)
    values[:, 7] = np.clip(values[:, 7], 40.0, 220.0)
    liveness = np.clip(rng.beta(2, 10, size=count), 0, 1)
    keys = rng.integers(0, 12, size=count)
    modes = rng.integers(0, 2, size=count)
    durations = rng.integers(120_000, 330_000, size=count)
    popularity = np.clip(
        20 + 25 * np.log1p(artist_fame[artists]) + rng.normal(0, 10, count), 0, 100
    )
    years = rng.integers(1965, 2026, size=count)
    words = rng.integers(0, len(_WORDS), size=(count, 2))
    rows = []
    artist_names: dict[int, str] = {}
    for i in range(count):
        artist = int(artists[i])
        if artist not in artist_names:
            name_rng = np.random.default_rng([seed, 2, artist])
            artist_names[artist] = f"{_name(name_rng, 2)} {_name(name_rng, 2)}"
        d, e, v, a, ins, sp, loud, tempo = (float(x) for x in values[i])
        genre = GENRES[int(genre_idx[i])]
        rows.append(
            {
                "external_id": f"demo-{seed}-{start + i}",
                "title": f"{_WORDS[words[i, 0]].capitalize()} {_WORDS[words[i, 1]].capitalize()}",
                "artist": artist_names[artist],
                "album": _album_name(artist, (start + i) % per_artist // 4),
                "duration_ms": int(durations[i]),
                "genre": genre,
                "features": {
                    "danceability": round(d, 3),
                    "energy": round(e, 3),
                    "valence": round(v, 3),
                    "acousticness": round(a, 3),
                    "instrumentalness": round(ins, 3),
                    "liveness": round(float(liveness[i]), 3),
                    "speechiness": round(sp, 3),
                    "loudness": round(loud, 2),
                    "tempo": round(tempo, 1),
                    "key": int(keys[i]),
                    "mode": int(modes[i]),
                    "time_signature": 4,
                },
                "metadata": {
                    "genres": [genre],
                    "popularity": int(popularity[i]),
                    "release_year": int(years[i]),
                    "explicit": bool(genre == "rap" and i % 3 == 0),
                    "source": "demo",
                },
            }
        )
    return rows


def demo_seed(
    *,
    tracks: int = 5000,
    users: int = 20,
    seed: int = 7,
    chunk: int = 20_000,
    on_progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Create the demo catalog (skipping tracks already there) and demo users with histories."""
    existing = Track.objects.filter(external_id__startswith=f"demo-{seed}-").count()
    for start in range(existing, tracks, chunk):
        tracks_bulk_insert(demo_tracks(count=min(chunk, tracks - start), seed=seed, start=start))
        if on_progress:
            on_progress(min(chunk, tracks - start))
    made_users, interactions, playlists = _demo_listeners(users=users, seed=seed)
    tables_analyze(Track, Interaction, get_user_model())
    return DemoResult(
        tracks=max(0, tracks - existing),
        users=made_users,
        interactions=interactions,
        playlists=playlists,
    )


@transaction.atomic
def _demo_listeners(*, users: int, seed: int) -> tuple[int, int, int]:
    """Demo users `demo1..N` with genre tastes, listening histories and a few playlists."""
    user_model = get_user_model()
    rng = np.random.default_rng([seed, 3])
    catalog = list(
        Track.objects.filter(external_id__startswith=f"demo-{seed}-").values_list("id", "genre")[
            :200_000
        ]
    )
    if not catalog or users < 1:
        return 0, 0, 0
    by_genre: dict[str, list] = {}
    for track_id, genre in catalog:
        by_genre.setdefault(genre, []).append(track_id)
    genres = sorted(by_genre)
    created, interactions, playlists = 0, [], 0
    made: list = []
    for n in range(1, users + 1):
        username = f"demo{n}"
        if user_model.objects.filter(username=username).exists():
            continue
        liked = [str(g) for g in rng.choice(genres, size=min(2, len(genres)), replace=False)]
        user = user_model(
            username=username,
            email=f"{username}@demo.audotics.invalid",
            preferences={"genres": liked, "energy": round(float(rng.uniform(0.3, 0.9)), 2)},
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        made.append(user)
        created += 1
        pool = [t for g in liked for t in by_genre[g]]
        picks = rng.choice(len(pool), size=min(60, len(pool)), replace=False)
        for j, idx in enumerate(picks):
            kind = "like" if j % 5 == 0 else ("skip" if j % 11 == 0 else "play")
            interactions.append(Interaction(user=user, track_id=pool[idx], type=kind))
        playlist = Playlist.objects.create(
            name=f"{liked[0].title()} favourites", owner=user, version=1, context={"mood": "happy"}
        )
        entries = [
            PlaylistTrack(playlist=playlist, track_id=pool[idx], position=pos, added_by=user)
            for pos, idx in enumerate(picks[:15])
        ]
        PlaylistTrack.objects.bulk_create(entries)
        playlists += 1
    Interaction.objects.bulk_create(interactions, batch_size=2000)
    # Pairs of demo users share a collaborative playlist, so live editing can be tried at once.
    for first, second in zip(made[::2], made[1::2], strict=False):
        shared = Playlist.objects.create(
            name=f"{first.username} + {second.username} mix",
            owner=first,
            is_collaborative=True,
            version=0,
        )
        Collaborator.objects.create(playlist=shared, user=second)
        playlists += 1
    return created, len(interactions), playlists
