import numpy as np
import pandas as pd
import pytest

from mlcore import (
    EmptyDataError,
    HybridRecommender,
    InvalidInputError,
    NotFittedError,
    UnknownItemError,
    UnknownUserError,
)
from mlcore.model import batch

from .conftest import COLD_PER_GENRE, N_GENRES, PER_GENRE, tiny_config


def _same(a, b):
    assert [i for i, _ in a] == [i for i, _ in b]
    np.testing.assert_allclose([s for _, s in a], [s for _, s in b], rtol=1e-5, atol=1e-7)


def _genre(item_id: str) -> str:
    return item_id.split("-")[0]


def test_recommend_returns_k_unseen_items_mostly_in_users_genre(fitted, interactions):
    recs = fitted.recommend("u0", k=10)
    assert len(recs) == 10
    seen = set(interactions[interactions.user_id == "u0"].item_id)
    assert not seen & {i for i, _ in recs}
    scores = [s for _, s in recs]
    assert scores == sorted(scores, reverse=True)
    assert sum(_genre(i) == "g0" for i, _ in recs[:5]) >= 3


def test_recommend_batch_candidates_and_exclude(fitted):
    batch = fitted.recommend_batch(["u1", "u2"], k=5)
    assert set(batch) == {"u1", "u2"} and all(len(v) == 5 for v in batch.values())
    cands = ["g3-t1", "g3-t2", "g1-t1"]
    got = fitted.recommend("u1", k=5, candidates=cands, exclude_seen=False)
    assert {i for i, _ in got} <= set(cands)
    top = fitted.recommend("u1", k=3)[0][0]
    assert top not in {i for i, _ in fitted.recommend("u1", k=3, exclude=[top])}


def test_save_load_round_trip_gives_same_scores(fitted, tmp_path):
    path = tmp_path / "model"
    fitted.save(path)
    fitted.save(path)  # overwriting an existing model is atomic too
    loaded = HybridRecommender.load(path)
    _same(loaded.recommend("u3", k=10), fitted.recommend("u3", k=10))
    assert loaded.similar_items("g2-t3", k=5) == fitted.similar_items("g2-t3", k=5)
    items = ["g0-t1", "g4-t5", "g2-t19"]
    np.testing.assert_allclose(loaded.score_items("u3", items), fitted.score_items("u3", items))
    assert loaded.item_features("g1-t2")["genre"] == "genre1"
    assert not list(tmp_path.glob(".model.*"))  # no temp dirs left behind


def test_fit_is_deterministic_for_a_seed(interactions, items, fitted):
    again = HybridRecommender(tiny_config()).fit(interactions, item_features=items)
    _same(again.recommend("u7", k=10), fitted.recommend("u7", k=10))


def test_fold_in_moves_recommendations_toward_new_likes(fitted):
    before = fitted.recommend("u0", k=10)  # a genre-0 user
    liked = [f"g3-t{j}" for j in range(6)]
    fitted.fold_in("u0-copy", [i for i, _ in before[:0]] + liked)
    after = fitted.recommend("u0-copy", k=10)
    assert sum(_genre(i) == "g3" for i, _ in after) > sum(_genre(i) == "g3" for i, _ in before)
    vec = fitted.fold_in("brand-new", liked)
    assert vec.shape == fitted.user_vector(liked).shape
    assert sum(_genre(i) == "g3" for i, _ in fitted.recommend("brand-new", k=5)) >= 3


def test_cold_items_found_through_content(fitted):
    cold = f"g2-t{PER_GENRE - 1}"
    assert fitted.has_item(cold)
    sims = fitted.similar_items(cold, k=10)
    same = sum(_genre(i) == "g2" for i, _ in sims) / len(sims)
    assert same >= 0.8 > 1 / N_GENRES
    assert np.linalg.norm(fitted.item_content_vector(cold)) == pytest.approx(1.0, abs=1e-4)
    # a cold track is reachable: the tower scores it through its content projection ...
    cold_all = [
        f"g{g}-t{j}" for g in range(N_GENRES) for j in range(PER_GENRE - COLD_PER_GENRE, PER_GENRE)
    ]
    vec = fitted.user_vector([f"g2-t{j}" for j in range(5)])
    scores = fitted.score_items(vec, cold_all)
    assert {_genre(cold_all[i]) for i in np.argsort(-scores)[:COLD_PER_GENRE]} == {"g2"}
    # ... and recommend() returns cold items when they are the candidates
    got = fitted.recommend("u2", k=4, candidates=cold_all)
    assert len(got) == 4 and {i for i, _ in got} <= set(cold_all)


def test_context_vector_changes_user_vector_shape_safely(fitted):
    recs = fitted.recommend("u0", k=5, context={"mood": "happy", "timeOfDay": "night"})
    assert len(recs) == 5
    with pytest.raises(InvalidInputError):
        fitted.recommend("u0", context={"mood": "hungry"})


def test_unknown_ids_raise_clear_errors(fitted):
    with pytest.raises(UnknownUserError):
        fitted.recommend("nobody")
    with pytest.raises(KeyError):  # also a KeyError for callers that catch that
        fitted.recommend("nobody")
    with pytest.raises(UnknownItemError, match="nope"):
        fitted.similar_items("nope")
    with pytest.raises(UnknownItemError):
        fitted.continue_sequence(["g0-t1", "nope"])
    with pytest.raises(UnknownItemError):
        fitted.score_items("u0", ["nope"])
    with pytest.raises(EmptyDataError):
        fitted.continue_sequence([])


def test_bad_training_input_raises(items):
    m = HybridRecommender(tiny_config())
    with pytest.raises(EmptyDataError):
        m.fit([])
    with pytest.raises(EmptyDataError):
        m.fit(pd.DataFrame(columns=["user_id", "item_id"]))
    with pytest.raises(InvalidInputError, match="NaN"):
        m.fit(pd.DataFrame({"user_id": ["a"], "item_id": ["b"], "weight": [np.nan]}))
    with pytest.raises(InvalidInputError, match="columns"):
        m.fit(pd.DataFrame({"user": ["a"], "item_id": ["b"]}))
    with pytest.raises(InvalidInputError, match="types"):
        m.fit(pd.DataFrame({"user_id": ["a"], "item_id": ["b"], "type": ["teleport"]}))
    with pytest.raises(NotFittedError):
        m.recommend("a")


def test_nan_item_features_are_imputed(interactions, items):
    holes = items.copy()
    holes.loc["g1-t3", "energy"] = np.nan
    holes.loc["g4-t19", ["energy", "danceability", "valence", "tempo", "genre"]] = np.nan
    m = HybridRecommender(tiny_config()).fit(interactions, item_features=holes)
    assert np.linalg.norm(m.item_content_vector("g1-t3")) == pytest.approx(1.0, abs=1e-4)
    # nothing known about it: zero content vector rather than "the average item"
    assert not m.item_content_vector("g4-t19").any()
    assert len(m.similar_items("g4-t19", k=3)) == 3


def test_folded_in_user_survives_save_and_load(fitted, tmp_path):
    fitted.fold_in("fresh", ["g4-t1", "g4-t2", "g4-t3"])
    before = fitted.recommend("fresh", k=5)
    fitted.save(tmp_path / "m")
    loaded = HybridRecommender.load(tmp_path / "m")
    assert loaded.has_user("fresh")
    _same(loaded.recommend("fresh", k=5), before)


def _embedding_model(n_users=40, n_items=600, d=8, seed=0):
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    items = rng.normal(size=(n_items, d)).astype(np.float32)
    users = rng.normal(size=(n_users, d)).astype(np.float32)
    hist = sp.random(n_users, n_items, density=0.02, random_state=seed, format="csr")
    hist.data[:] = 1.0
    groups = rng.integers(0, 60, n_items)
    model = HybridRecommender.from_embeddings(
        [f"u{i}" for i in range(n_users)], users, [f"i{j}" for j in range(n_items)], items,
        history=hist, item_groups=groups)
    return model, hist, groups


def test_vectorised_batch_equals_one_by_one_with_exclusions():
    model, hist, _ = _embedding_model()
    model.fold_in("u5", ["i1", "i2", "i3"])  # folded in since training: an overlay
    model.fold_in("fresh", ["i7", "i8"])  # unknown at training time
    users = [f"u{i}" for i in range(40)] + ["fresh", "nobody"]
    extra = {"u3": [i for i, _ in model.recommend("u3", k=2)]}
    batch = model.recommend_batch(users, k=15, exclude=extra, chunk=16)
    assert "nobody" not in batch and len(batch) == 41
    for u in users[:-1]:
        _same(batch[u], model.recommend(u, k=15, exclude=extra.get(u)))
    for u in users[:40]:
        seen = {f"i{j}" for j in hist[int(u[1:])].indices}
        assert not seen & {i for i, _ in batch[u]}
    assert not {"i1", "i2", "i3"} & {i for i, _ in batch["u5"]}
    explained = model.recommend_batch(["u5", "fresh"], k=15, explain=True)
    for u, recs in explained.items():
        assert [(i, s) for i, s, _ in recs] == batch[u]
        assert [b for _, _, b in recs] == model.because(u, [i for i, _, _ in recs])
    assert not set(extra["u3"]) & {i for i, _ in batch["u3"]}


def test_batch_caps_items_per_group_and_keeps_score_order():
    model, _, groups = _embedding_model(seed=1)
    batch = model.recommend_batch(["u1", "u2", "u5"], k=20, max_per_group=2)
    for u, recs in batch.items():
        assert len(recs) == 20
        per = np.bincount([groups[int(i[1:])] for i, _ in recs])
        assert per.max() <= 2
        scores = [s for _, s in recs]
        assert scores == sorted(scores, reverse=True)
        # Nothing better was skipped except for the cap: the uncapped list's items that are
        # missing all belong to groups that are already full.
        full = model.recommend(u, k=60)
        chosen = {i for i, _ in recs}
        floor = recs[-1][1]
        for item, score in full:
            if score > floor and item not in chosen:
                assert per[groups[int(item[1:])]] == 2


def test_fold_in_of_plain_records_equals_the_dataframe_path(fitted):
    records = [{"item_id": "g3-t1", "type": "like"}, {"item_id": "g3-t2", "type": "play"},
               {"item_id": "g1-t1", "type": "skip"}, {"item_id": "g3-t1", "type": "play"}]
    fast = fitted.fold_in("rec-fast", records)
    slow = fitted.fold_in("rec-slow", pd.DataFrame(records).assign(user_id="rec-slow"))
    np.testing.assert_allclose(fast, slow, rtol=1e-5)
    _same(fitted.recommend("rec-fast", k=10), fitted.recommend("rec-slow", k=10))


def test_because_names_the_most_similar_history_item():
    import scipy.sparse as sp

    items = np.array([[1, 0], [0, 1], [0.9, 0.1], [0.1, 0.9], [-1, 0]], np.float32)
    hist = sp.csr_matrix(np.array([[1, 1, 0, 0, 0]], np.float32))
    model = HybridRecommender.from_embeddings(["u"], np.array([[1, 1]], np.float32),
                                              ["a", "b", "c", "d", "e"], items, history=hist)
    assert model.because("u", ["c", "d", "e"]) == ["a", "b", None]
    fresh = HybridRecommender.from_embeddings(["v"], np.array([[1, 1]], np.float32),
                                              ["a", "b", "c", "d", "e"], items)
    assert fresh.because("v", ["c"]) == [None]


def test_because_batch_equals_one_user_at_a_time():
    model, _, _ = _embedding_model(seed=2)
    recs = {u: [i for i, _ in r] for u, r in model.recommend_batch(
        [f"u{i}" for i in range(10)], k=8).items()}
    batch = model.because_batch(recs)
    assert batch == {u: model.because(u, items) for u, items in recs.items()}
    assert any(v is not None for names in batch.values() for v in names)


def test_batch_searches_again_for_users_with_long_histories():
    """One heavy listener among light ones: the first search is too narrow for them alone."""
    import scipy.sparse as sp

    rng = np.random.default_rng(4)
    n_users, n_items, d = 30, 400, 6
    items = rng.normal(size=(n_items, d)).astype(np.float32)
    users = rng.normal(size=(n_users, d)).astype(np.float32)
    hist = np.zeros((n_users, n_items), np.float32)
    hist[0, np.argsort(-(items @ users[0]))[:120]] = 1.0  # u0 already has its best 120 items
    for u in range(1, n_users):
        hist[u, rng.choice(n_items, 3, replace=False)] = 1.0
    model = HybridRecommender.from_embeddings(
        [f"u{i}" for i in range(n_users)], users, [f"i{j}" for j in range(n_items)], items,
        history=sp.csr_matrix(hist), item_groups=rng.integers(0, 100, n_items))
    batch = model.recommend_batch([f"u{i}" for i in range(n_users)], k=10, max_per_group=2)
    assert all(len(v) == 10 for v in batch.values())
    groups = model._group
    for u in ("u0", "u1"):
        capped = _group_capped(model.recommend(u, k=60),
                               dict(zip(model.item_ids, groups, strict=True)), 10, 2)
        _same(batch[u], capped)


def _group_capped(ranked, groups, k, cap):
    """The plain reference of the artist cap: walk the list, skip a group's extra items."""
    seen: dict[int, int] = {}
    out = []
    for item, score in ranked:
        g = groups[item]
        if seen.get(g, 0) >= cap:
            continue
        seen[g] = seen.get(g, 0) + 1
        out.append((item, score))
        if len(out) == k:
            break
    return out


def test_batch_plan_then_run_equals_recommend_batch_and_ignores_later_fold_ins():
    model, _, _ = _embedding_model(seed=2)
    users = ["u1", "u2", "u3", "nobody"]
    options = {"k": 10, "exclude": {"u2": ["i4"]}, "max_per_group": 2, "explain": True}
    expected = model.recommend_batch(users, **options)
    plan = model.batch_plan(users, **options)
    assert plan.user_ids == ["u1", "u2", "u3"]
    # The plan holds the users' state: a fold-in after it (another thread, say) changes the
    # next plan, not the run of this one.
    model.fold_in("u1", [i for i, _, _ in expected["u1"][:5]])
    assert model.batch_run(plan) == expected
    assert model.batch_run(model.batch_plan(users, **options))["u1"] != expected["u1"]


def test_batch_with_the_head_equals_the_per_user_path(fitted):
    """The head re-ranks whole chunks at once; each list is the per-user list, item for item
    and score for score, whatever chunk the user falls in."""
    assert len(fitted._heads) == fitted.config.head_count > 1
    users = fitted.user_ids
    some = {u: [f"g{n % 5}-t{n % 7}"] for n, u in enumerate(users[::3])}
    for options in ({}, {"context": {"mood": "happy", "activity": "workout"}}):
        batch = fitted.recommend_batch(users, k=10, chunk=7, exclude=some, **options)
        assert set(batch) == set(users)
        for u in users:
            assert batch[u] == fitted.recommend(u, k=10, exclude=some.get(u), **options), u
            assert len(batch[u]) == 10


def test_a_plan_ranked_in_parts_equals_the_per_user_path(fitted, monkeypatch):
    """A plan larger than the rows ranked at once (RANK_ROWS) is ranked in parts: each part
    keeps its users' histories, exclusions and factors, so every list is the per-user one."""
    monkeypatch.setattr(batch, "RANK_ROWS", 4)
    users = fitted.user_ids
    assert len(users) > 3 * batch.RANK_ROWS
    some = {u: [f"g{n % 5}-t{n % 3}"] for n, u in enumerate(users[::2])}
    options = {"k": 10, "exclude": some, "context": {"mood": "happy"}}
    whole = fitted.batch_run(fitted.batch_plan(users, **options))
    assert set(whole) == set(users)
    for u in users:
        assert whole[u] == fitted.recommend(u, k=10, exclude=some.get(u),
                                            context={"mood": "happy"}), u


def test_batch_with_the_head_caps_artists_over_the_ranked_list(fitted):
    groups = [int(i.split("-t")[1]) % 3 for i in fitted.item_ids]  # three "artists"
    fitted._group = np.array(groups)
    try:
        batch = fitted.recommend_batch(fitted.user_ids[:20], k=6, max_per_group=2)
        for u, recs in batch.items():
            ranked = fitted.recommend(u, k=len(fitted.item_ids))
            expected = _group_capped(ranked, dict(zip(fitted.item_ids, groups, strict=True)),
                                     6, 2)
            assert recs == expected
    finally:
        fitted._group = np.full(len(groups), -1)


def test_fit_with_a_catalog_without_usable_features(interactions, items):
    """Artist-level imports (Last.fm) have ids and artists but no audio features: the model
    trains without the content path instead of refusing."""
    bare = items[[]].assign(artist=[f"a{n % 7}" for n in range(len(items))],
                           energy=np.nan, tempo=np.nan)
    model = HybridRecommender(tiny_config()).fit(interactions, item_features=bare)
    assert not model._has_content.any()
    assert len(set(model.item_ids)) == len(items)
    assert (model._group >= 0).all()
    assert len(model.recommend("u1", k=5)) == 5


def test_fit_learns_the_contexts_it_saw_and_only_those(interactions, items):
    """Contexts per interaction (the vectorised path): seen slots get trained projections,
    unseen ones stay neutral; an unknown value is refused."""
    with_ctx = interactions.assign(
        mood=np.where(np.arange(len(interactions)) % 3 == 0, "happy", None),
        timeOfDay=np.where(np.arange(len(interactions)) % 5 == 0, "Night ", None))
    model = HybridRecommender(tiny_config()).fit(with_ctx, item_features=items)
    from mlcore.context import CONTEXT_OFFSETS, CONTEXT_VOCAB

    used = {CONTEXT_OFFSETS["mood"] + CONTEXT_VOCAB["mood"].index("happy"),
            CONTEXT_OFFSETS["timeOfDay"] + CONTEXT_VOCAB["timeOfDay"].index("night")}
    trained = {int(i) for i in np.flatnonzero(np.abs(model._ctx_proj).sum(axis=1) > 0)}
    assert trained == used
    with pytest.raises(InvalidInputError):
        HybridRecommender(tiny_config()).fit(with_ctx.assign(mood="hungry"), item_features=items)
