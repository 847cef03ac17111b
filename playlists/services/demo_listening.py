"""Listening histories at scale for the demo catalog: 100,000 listeners in a minute or two.

Structure a recommender can learn, as in real listening logs: each listener has one to three
favourite genres and a handful of favourite artists (a third of their plays), the rest follows
genre popularity, which is heavy-tailed (a track's weight grows exponentially with its
popularity); one play in ten explores another genre and is skipped half the time. History
lengths are log-normal between 5 and 500 (median 35). Generation is vectorised numpy
(`demo_listening`, pure); `demo_listeners_bulk` writes users and interactions with COPY on
PostgreSQL (bulk_create elsewhere).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from mlcore.context import CONTEXT_VOCAB
from recommendations.models import Interaction

from ..models import Track
from .bulk import tables_analyze

TYPES = ("play", "like", "add", "skip", "dislike")
_TYPE_P = (0.72, 0.17, 0.06, 0.04, 0.01)
HISTORY_DAYS = 180
LISTENER_PREFIX = "listener"


@dataclass
class Listening:
    """Interactions as parallel arrays (indices into the given users and tracks)."""

    user: np.ndarray  # int32 listener index
    track: np.ndarray  # int32 index into the catalog arrays
    type: np.ndarray  # int8 index into TYPES
    mood: np.ndarray  # int8 index into CONTEXT_VOCAB["mood"], -1 none
    activity: np.ndarray  # int8 index into CONTEXT_VOCAB["activity"], -1 none
    seconds_ago: np.ndarray  # float32
    favourite_genres: np.ndarray  # users x 3 genre codes, -1 padded

    def __len__(self) -> int:
        return len(self.user)


def _segment_sample(rng: np.random.Generator, groups: np.ndarray, weights: np.ndarray,
                    picks: np.ndarray) -> np.ndarray:
    """For each entry of ``picks`` (a group code), an element of that group drawn in proportion
    to ``weights``: one sort and one searchsorted, no loop over groups."""
    order = np.argsort(groups, kind="stable")
    cum = np.cumsum(weights[order], dtype=np.float64)
    n_groups = int(groups.max()) + 1
    starts = np.searchsorted(groups[order], np.arange(n_groups), side="left")
    ends = np.searchsorted(groups[order], np.arange(n_groups), side="right")
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    total = cum[np.maximum(ends - 1, 0)] - base
    x = base[picks] + rng.random(len(picks)) * total[picks]
    idx = np.searchsorted(cum, x, side="right").clip(starts[picks], ends[picks] - 1)
    return order[idx]


def demo_listening(*, track_genre: np.ndarray, track_artist: np.ndarray,
                   track_popularity: np.ndarray, users: int, seed: int) -> Listening:
    """Histories of ``users`` listeners over a catalog given as code arrays (pure)."""
    rng = np.random.default_rng([seed, 11])
    n_genres = int(track_genre.max()) + 1
    weight = np.exp(np.asarray(track_popularity, np.float64) / 10.0)
    # Favourite genres: one to three, with Dirichlet shares.
    fav = np.argsort(rng.random((users, n_genres)), axis=1)[:, :3]
    n_fav = rng.choice([1, 2, 3], size=users, p=[0.3, 0.45, 0.25])
    share = rng.dirichlet(np.ones(3), size=users)
    share[np.arange(3)[None, :] >= n_fav[:, None]] = 0.0
    share /= share.sum(axis=1, keepdims=True)
    lengths = np.clip(np.round(np.exp(rng.normal(np.log(35), 0.9, users))), 5, 500).astype(np.int64)
    total = int(lengths.sum())
    user = np.repeat(np.arange(users, dtype=np.int32), lengths)
    slot = (rng.random(total)[:, None] > np.cumsum(share, axis=1)[user]).sum(axis=1).clip(0, 2)
    genre = fav[user, slot]
    # A tenth of the plays explore a random genre.
    explore = rng.random(total) < 0.1
    genre = np.where(explore, rng.integers(0, n_genres, total), genre)
    track = _segment_sample(rng, track_genre, weight, genre)
    # A third of the plays go to the listener's five favourite artists (drawn by fame within
    # their genres), uniformly over each artist's tracks.
    artist_weight = np.bincount(track_artist, weights=weight)
    artist_genre = np.zeros(len(artist_weight), np.int64)
    artist_genre[track_artist] = track_genre
    fav_slots = (rng.random((users, 5, 1)) > np.cumsum(share, axis=1)[:, None, :]).sum(axis=2)
    fav_artists = _segment_sample(rng, artist_genre, artist_weight,
                                  fav[np.arange(users)[:, None], fav_slots.clip(0, 2)].ravel())
    fav_artists = fav_artists.reshape(users, 5)
    loyal = (rng.random(total) < 1 / 3) & ~explore
    by_artist = np.argsort(track_artist, kind="stable")
    first = np.searchsorted(track_artist[by_artist], np.arange(len(artist_weight)))
    count = np.bincount(track_artist, minlength=len(artist_weight))
    artists = fav_artists[user[loyal], rng.integers(0, 5, int(loyal.sum()))]
    track[loyal] = by_artist[first[artists] + (rng.random(len(artists)) * count[artists])
                             .astype(np.int64)]
    kind = rng.choice(len(TYPES), size=total, p=_TYPE_P).astype(np.int8)
    kind[explore & (rng.random(total) < 0.5)] = TYPES.index("skip")
    mood = np.where(rng.random(total) < 0.15,
                    rng.integers(0, len(CONTEXT_VOCAB["mood"]), total), -1).astype(np.int8)
    activity = np.where(rng.random(total) < 0.1,
                        rng.integers(0, len(CONTEXT_VOCAB["activity"]), total), -1).astype(np.int8)
    seconds = (rng.random(total) * HISTORY_DAYS * 86400).astype(np.float32)
    fav_out = np.where(np.arange(3)[None, :] < n_fav[:, None], fav, -1)
    return Listening(user, track.astype(np.int32), kind, mood, activity, seconds, fav_out)


def demo_listeners_bulk(*, users: int, seed: int,
                        on_progress: Callable[[str, int, int], None] | None = None,
                        ) -> tuple[int, int]:
    """Create ``users`` listeners (`listener1..N`, no password) with generated histories over
    the whole catalog; returns (users created, interactions created). Idempotent per name."""
    user_model = get_user_model()
    rows = list(Track.objects.order_by("id")
                .values_list("id", "genre", "artist", "metadata__popularity"))
    if not rows or users < 1:
        return 0, 0
    track_ids = [r[0] for r in rows]
    genre_code = {g: n for n, g in enumerate(sorted({r[1] or "" for r in rows}))}
    artist_code: dict[str, int] = {}
    t_genre = np.array([genre_code[r[1] or ""] for r in rows])
    t_artist = np.array([artist_code.setdefault(r[2], len(artist_code)) for r in rows])
    t_pop = np.array([r[3] if isinstance(r[3], (int, float)) else 20 for r in rows], np.float64)
    del rows
    existing = set(user_model.objects.filter(username__startswith=LISTENER_PREFIX)
                   .values_list("username", flat=True))
    names = [f"{LISTENER_PREFIX}{n}" for n in range(1, users + 1)]
    genres = sorted(genre_code, key=genre_code.get)
    data = demo_listening(track_genre=t_genre, track_artist=t_artist, track_popularity=t_pop,
                          users=users, seed=seed)
    new = [n for n, name in enumerate(names) if name not in existing]
    ids: dict[int, uuid.UUID] = {}
    for start in range(0, len(new), 5000):
        batch = []
        for n in new[start : start + 5000]:
            liked = [genres[g] for g in data.favourite_genres[n] if g >= 0]
            u = user_model(username=names[n], preferences={"genres": liked})
            u.set_unusable_password()
            batch.append(u)
            ids[n] = u.pk
        user_model.objects.bulk_create(batch, batch_size=5000)
        if on_progress:
            on_progress("listeners", min(start + 5000, len(new)), len(new))
    keep = np.isin(data.user, np.fromiter(ids, np.int64)) if ids else np.zeros(len(data), bool)
    written = _interactions_write(data, keep, ids, track_ids, on_progress)
    tables_analyze(Interaction, user_model)
    return len(ids), written


def _interactions_write(data: Listening, keep: np.ndarray, ids: dict[int, uuid.UUID],
                        track_ids: list, on_progress) -> int:
    moods, acts = CONTEXT_VOCAB["mood"], CONTEXT_VOCAB["activity"]
    now = datetime.now(tz=UTC)
    rows = np.flatnonzero(keep)
    total = len(rows)

    def records():
        for done, r in enumerate(rows.tolist()):
            ctx = {}
            if data.mood[r] >= 0:
                ctx["mood"] = moods[data.mood[r]]
            if data.activity[r] >= 0:
                ctx["activity"] = acts[data.activity[r]]
            if on_progress and done % 200_000 == 0:
                on_progress("interactions", done, total)
            yield (uuid.uuid4(), ids[int(data.user[r])], track_ids[data.track[r]],
                   TYPES[data.type[r]], ctx,
                   now - timedelta(seconds=float(data.seconds_ago[r])))

    with transaction.atomic():
        if connection.vendor == "postgresql":
            import json  # noqa: PLC0415

            with connection.connection.cursor() as cursor, cursor.copy(
                    "COPY recommendations_interaction (id, user_id, track_id, type, context, "
                    "created_at) FROM STDIN") as copy:
                for rec in records():
                    copy.write_row((*rec[:4], json.dumps(rec[4]), rec[5]))
        else:
            batch = []
            for rec in records():
                batch.append(Interaction(id=rec[0], user_id=rec[1], track_id=rec[2],
                                         type=rec[3], context=rec[4], created_at=rec[5]))
                if len(batch) == 10_000:
                    Interaction.objects.bulk_create(batch)
                    batch = []
            Interaction.objects.bulk_create(batch)
    if on_progress:
        on_progress("interactions", total, total)
    return total
