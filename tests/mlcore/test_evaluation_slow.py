"""Full offline comparison on the real data sets (minutes): run with ``-m slow``."""

import pytest

from mlcore.datasets import default_data_dir
from mlcore.evaluate import run

# The real-data runs take minutes (more on a busy host): lift the suite-wide 300 s timeout.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]


@pytest.fixture(scope="module")
def data_dir():
    d = default_data_dir()
    if not (d / "hetrec2011-lastfm-2k").exists():
        pytest.skip(f"offline data sets not found at {d} (set AUDOTICS_DATASETS)")
    return d


def test_hybrid_beats_tuned_baselines_on_hetrec(data_dir, tmp_path):
    rep = run("hetrec", data_dir, tmp_path)
    res = rep["results"]
    for base in ("ease", "item-knn", "als"):
        assert res["hybrid"]["ndcg@10"] >= res[base]["ndcg@10"], base
        assert res["hybrid"]["recall@20"] >= res[base]["recall@20"], base
    # A clear lead over the strongest baseline: 1.103x tuned EASE with three regularised heads
    # (0.2581 / 0.2341, 2026-12-03; split seed 1: 1.080x, bench/README.md).
    assert res["hybrid"]["ndcg@10"] >= 1.10 * res["ease"]["ndcg@10"]
    assert res["hybrid"]["ndcg@10"] >= 2 * res["popularity"]["ndcg@10"]
    # CPU seconds, not wall: on a shared 2-core host wall time measures the neighbours' load.
    assert rep["hybrid_report"]["cpu_seconds"] < 180
    assert (tmp_path / "hetrec.png").exists()


def test_hybrid_beats_item_knn_on_spotify_playlists(data_dir, tmp_path):
    rep = run("spotify-playlists", data_dir, tmp_path)
    res = rep["results"]
    assert res["hybrid"]["r_precision"] >= res["item-knn"]["r_precision"]
    assert res["hybrid"]["ndcg@10"] >= res["item-knn"]["ndcg@10"]
    cold = rep["cold_start"]
    assert cold["similar_items_same_genre_rate"] > 2 * cold["chance_rate"]
