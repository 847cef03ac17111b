"""The saved model: every user served as before, everything memory-mapped, ids as arrays."""

import mmap

import numpy as np
import pytest

from mlcore import HybridRecommender, InvalidInputError
from mlcore.data import IdArray, IdIndex
from mlcore.model import FORMAT_VERSION


def test_round_trip_serves_every_user_the_same(fitted, tmp_path):
    fitted.fold_in("newcomer", ["g1-t1", "g1-t2"])
    fitted.save(tmp_path / "m")
    loaded = HybridRecommender.load(tmp_path / "m")
    assert loaded.user_ids == fitted.user_ids and loaded.item_ids == fitted.item_ids
    for u in fitted.user_ids:
        assert loaded.recommend(u, k=10) == fitted.recommend(u, k=10), u
    assert loaded.recommend_batch(fitted.user_ids, k=5) == fitted.recommend_batch(
        fitted.user_ids, k=5)


def test_loaded_arrays_are_memory_mapped(fitted, tmp_path):
    """Mapped pages are shared by every process through the page cache, not copied."""
    fitted.save(tmp_path / "m")
    loaded = HybridRecommender.load(tmp_path / "m")
    mapped = [loaded._hist.data, loaded._hist.indices, loaded._hist.indptr, loaded._knn.data,
              loaded._ease.indices, loaded._item_vec, loaded._user_vec, loaded._content,
              loaded._items._keys, loaded._users._sorted, loaded._als_item]
    assert all(_file_backed(a) for a in mapped)


def _file_backed(a) -> bool:
    """Whether the array's memory is a mapped file (scipy keeps a view, not the memmap)."""
    while a is not None:
        if isinstance(a, np.memmap | mmap.mmap):
            return True
        a = getattr(a, "base", None)
    return False


def test_an_old_format_is_refused_with_what_to_do(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    meta = (tmp_path / "m" / "meta.json").read_text().replace(
        f'"format_version": {FORMAT_VERSION}', f'"format_version": {FORMAT_VERSION - 1}')
    (tmp_path / "m" / "meta.json").write_text(meta)
    with pytest.raises(InvalidInputError, match="train_model"):
        HybridRecommender.load(tmp_path / "m")


def test_id_arrays_look_up_like_the_index(tmp_path):
    ids = ["b", "a-long-identifier", "Zoë", "c", "ä"]
    IdIndex.from_ids(ids).save(tmp_path, "x")
    arr = IdArray.load(tmp_path, "x")
    assert list(arr.ids) == ids and len(arr) == 5
    assert arr.lookup(["Zoë", "nope", "a-long-identifier-longer-still", "b"]).tolist() == [
        2, -1, -1, 0]
    assert arr.get("ä") == 4 and "c" in arr and "d" not in arr
    assert arr.add("new") == 5 and arr.get("new") == 5 and arr.add("a-long-identifier") == 1
    assert arr.lookup(["new", "c"]).tolist() == [5, 3]
    assert arr.names(np.array([[5, 2], [0, 4]])).tolist() == [["new", "Zoë"], ["b", "ä"]]
