import math

import numpy as np
import pytest

from mlcore.metrics import (
    catalog_coverage,
    evaluate_lists,
    intra_list_diversity,
    ndcg_at_k,
    r_precision,
    recall_at_k,
)


def test_recall_at_k_counts_hits_over_all_relevant():
    assert recall_at_k(["a", "b", "c", "d"], {"b", "d", "z"}, 2) == pytest.approx(1 / 3)
    assert recall_at_k(["a", "b", "c", "d"], {"b", "d", "z"}, 4) == pytest.approx(2 / 3)
    assert recall_at_k(["a"], set(), 10) == 0.0


def test_ndcg_at_k_matches_hand_computation():
    # hits at ranks 2 and 3 (1-based); ideal puts 2 hits at ranks 1 and 2
    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3)
    assert ndcg_at_k(["x", "a", "b"], {"a", "b"}, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    # k truncates both the list and the ideal
    assert ndcg_at_k(["x", "a"], {"a", "b", "c"}, 1) == 0.0


def test_r_precision_uses_r_equal_relevant_count():
    assert r_precision(["a", "x", "b", "c"], {"a", "b", "c"}) == pytest.approx(2 / 3)


def test_coverage_and_diversity():
    assert catalog_coverage([["a", "b"], ["b", "c"]], 10) == pytest.approx(0.3)
    vec = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0]), "c": np.array([1.0, 0.0])}
    assert intra_list_diversity([["a", "b"]], vec) == pytest.approx(1.0)
    assert intra_list_diversity([["a", "c"]], vec) == pytest.approx(0.0, abs=1e-9)


def test_evaluate_lists_averages_over_users_with_truth():
    out = evaluate_lists({"u1": ["a", "b"], "u2": ["c"]}, {"u1": {"a"}, "u2": {"z"}}, 4)
    assert out["recall@10"] == pytest.approx(0.5)
    assert out["users"] == 2
