"""The mood/activity/time-of-day target table: complete, learned where data allows."""
import gzip

import pytest

from mlcore.context import CONTEXT_VOCAB
from recommendations.services import context_targets as ct


def test_table_covers_the_whole_vocabulary():
    table = ct.context_targets()
    for field, values in CONTEXT_VOCAB.items():
        for value in values:
            entry = table[field][value]
            assert 0 <= entry["energy"] <= 1 and 40 <= entry["tempo"] <= 220


def test_committed_table_has_learned_entries():
    table = ct.context_targets()
    assert table["activity"]["workout"]["source"] == "learned"
    assert table["activity"]["workout"]["energy"] > table["activity"]["relax"]["energy"]
    assert table["activity"]["sleep"]["source"] == "hand-set"


def test_context_target_averages_given_values():
    both = ct.context_target({"mood": "sad", "activity": "workout"})
    sad = ct.context_target({"mood": "sad"})
    assert sad["energy"] < both["energy"]
    assert ct.context_target({}) is None
    assert ct.closeness({"energy": 0.5}, {"energy": 0.5}) == 1.0


def test_learning_from_a_small_file(tmp_path):
    path = tmp_path / "songs.csv.gz"
    rows = ["track_id,playlist_name,valence,energy,danceability,tempo,acousticness"]
    rows += [f"w{i},Beast Mode Workout,0.4,0.9,0.6,130,0.05" for i in range(3)]
    rows += [f"c{i},Chill Vibes,0.5,0.3,0.6,95,0.6" for i in range(3)]
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(rows) + "\n")
    table = ct.context_targets_learn(path=path, min_tracks=3)["targets"]
    assert table["activity"]["workout"] | {} == table["activity"]["workout"]
    assert table["activity"]["workout"]["source"] == "learned"
    assert table["activity"]["workout"]["energy"] == pytest.approx(0.9)
    assert table["activity"]["relax"]["energy"] == pytest.approx(0.3)
    assert table["mood"]["angry"]["source"] == "hand-set"
