"""Loaders for the offline research data sets (read in place, never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

AUDIO = [
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "duration_ms",
]


def default_data_dir() -> Path:
    """``$AUDOTICS_DATASETS`` or ``../shared/data`` relative to the repository root."""
    env = os.environ.get("AUDOTICS_DATASETS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_hetrec(
    data_dir: str | os.PathLike[str], n_tags: int = 300
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Last.fm 2k: (user, artist, play count) interactions and artist tag features.

    HetRec has no audio features, so an artist's content is its tag profile: log counts of the
    ``n_tags`` most widely used tags, plus its dominant tag as a "genre" (the SelectKBest
    target). Tags are aggregated over all users: item metadata, not a per-user signal.
    """
    d = Path(data_dir) / "hetrec2011-lastfm-2k"
    ua = pd.read_csv(d / "user_artists.dat", sep="\t")
    inter = pd.DataFrame(
        {
            "user_id": ua["userID"].astype(str),
            "item_id": ua["artistID"].astype(str),
            "weight": ua["weight"].astype(float),
        }
    )
    ut = pd.read_csv(d / "user_taggedartists.dat", sep="\t")
    tags = pd.read_csv(d / "tags.dat", sep="\t", encoding="latin-1")
    ut = ut.merge(tags, on="tagID", how="left")
    spread = ut.groupby("tagValue")["artistID"].nunique().sort_values(ascending=False)
    keep = spread.index[:n_tags]
    ut = ut[ut["tagValue"].isin(keep)]
    counts = ut.groupby(["artistID", "tagValue"]).size().unstack(fill_value=0)
    feats = np.log1p(counts.astype(float))
    feats.columns = [f"tag:{c}" for c in feats.columns]
    top = counts[[c for c in keep[:40] if c in counts.columns]]
    genre = top.idxmax(axis=1).where(top.sum(axis=1) > 0)
    feats["genre"] = genre
    feats.index = feats.index.astype(str)
    return inter, feats


def load_spotify(data_dir: str | os.PathLike[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spotify 30k: playlists as users, tracks as items, audio features + genre + artist.

    A track's genre is the commonest ``playlist_genre`` among its playlists. Caveat: that label
    comes from the playlist curators, so it is slightly optimistic as "track metadata".
    """
    s = pd.read_csv(Path(data_dir) / "spotify-30k-songs" / "spotify_songs.csv.gz")
    inter = pd.DataFrame(
        {
            "user_id": s["playlist_id"].astype(str),
            "item_id": s["track_id"].astype(str),
            "weight": 1.0,
        }
    )
    inter = inter.drop_duplicates(["user_id", "item_id"]).reset_index(drop=True)
    g = s.groupby("track_id")
    feats = g[AUDIO + ["track_popularity"]].first()
    feats["genre"] = g["playlist_genre"].agg(lambda x: x.value_counts().index[0])
    feats["year"] = pd.to_numeric(
        g["track_album_release_date"].first().astype(str).str[:4], errors="coerce"
    )
    feats["track_artist"] = g["track_artist"].first()
    feats.index = feats.index.astype(str)
    return inter, feats
