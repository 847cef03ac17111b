import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import TrackFactory

pytestmark = pytest.mark.django_db


def _envelope(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


def test_track_list_is_paginated_camel_case(api_client):
    TrackFactory.create_batch(3, features={"time_signature": 4, "energy": 0.5})
    response = api_client.get("/api/tracks", {"pageSize": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    track = body["results"][0]
    assert set(track) == {"id", "title", "artist", "album", "durationMs", "features", "metadata",
                          "hasAudio", "hasCover", "analysis"}
    assert track["features"] == {"timeSignature": 4, "energy": 0.5}


def test_track_search_matches_title_or_artist_case_insensitively(api_client):
    TrackFactory(title="Golden Hour", artist="JVKE")
    TrackFactory(title="Other", artist="The Golden Band")
    TrackFactory(title="Unrelated", artist="Nobody")
    response = api_client.get("/api/tracks", {"q": "gOLDen"})
    titles = {t["title"] for t in response.json()["results"]}
    assert titles == {"Golden Hour", "Other"}


def test_track_search_escapes_like_wildcards(api_client):
    TrackFactory(title="100% Pure", artist="A")
    TrackFactory(title="1000 Pure", artist="B")
    results = api_client.get("/api/tracks", {"q": "%"}).json()["results"]
    assert [t["title"] for t in results] == ["100% Pure"]
    results = api_client.get("/api/tracks", {"q": "100%"}).json()["results"]
    assert results[0]["title"] == "100% Pure"


def test_track_search_tolerates_a_typo(api_client):
    # pg_trgm and a vocabulary on PostgreSQL, FTS5 trigrams on SQLite (playlists/search.py).
    TrackFactory(title="Bohemian Rhapsody", artist="Queen")
    TrackFactory(title="Other Song", artist="Someone")
    results = api_client.get("/api/tracks", {"q": "Rhapsodi"}).json()["results"]
    assert [t["title"] for t in results] == ["Bohemian Rhapsody"]


def test_track_search_ranks_by_relevance_not_by_artist_name(api_client):
    TrackFactory(title="Golden Slumbers", artist="Aardvark", metadata={"popularity": 90})
    TrackFactory(title="Golden", artist="Zed", metadata={"popularity": 10})
    body = api_client.get("/api/tracks", {"q": "golden"}).json()
    assert [t["title"] for t in body["results"]] == ["Golden", "Golden Slumbers"]


def test_track_search_count_is_true_and_pages_reach_every_result(api_client):
    TrackFactory.create_batch(7, title="Nightfall Anthem")
    first = api_client.get("/api/tracks", {"q": "nightfall", "pageSize": 3})
    assert first.json()["count"] == 7 and "X-Count-Capped" not in first
    seen, url = [], "/api/tracks?q=nightfall&pageSize=3"
    while url:
        page = api_client.get(url).json()
        seen += [t["id"] for t in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 7


def test_track_search_past_the_count_cap_says_so_and_keeps_paging(api_client, monkeypatch):
    from playlists import search

    monkeypatch.setattr(search, "COUNT_CAP", 4)
    TrackFactory.create_batch(9, title="Moonrise Waltz")
    response = api_client.get("/api/tracks", {"q": "moonrise", "pageSize": 4})
    assert response["X-Count-Capped"] == "true" and response.json()["count"] == 4
    seen, url = [], "/api/tracks?q=moonrise&pageSize=4"
    while url:
        page = api_client.get(url).json()
        seen += [t["id"] for t in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 9
    assert api_client.get("/api/tracks", {"q": "moonrise", "pageSize": 4,
                                          "page": 4}).status_code == 404


def test_track_filters_by_artist_and_genre(api_client):
    TrackFactory(artist="Queen", genre="rock")
    TrackFactory(artist="Queen", genre="pop")
    TrackFactory(artist="Abba", genre="pop")
    assert api_client.get("/api/tracks", {"artist": "queen"}).json()["count"] == 2
    assert api_client.get("/api/tracks", {"genre": "POP"}).json()["count"] == 2
    assert api_client.get("/api/tracks", {"artist": "Queen", "genre": "pop"}).json()["count"] == 1


def test_track_detail(api_client):
    track = TrackFactory()
    response = api_client.get(f"/api/tracks/{track.id}")
    assert response.status_code == 200 and response.json()["id"] == str(track.id)


@pytest.mark.parametrize("track_id", ["nope", "00000000-0000-0000-0000-000000000000", "1" * 500])
def test_track_detail_unknown_or_malformed_id_is_404(api_client, track_id):
    _envelope(api_client.get(f"/api/tracks/{track_id}"), 404, "not_found")


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99999", "1e9"])
def test_track_list_bad_page_is_404(api_client, page):
    TrackFactory()
    _envelope(api_client.get("/api/tracks", {"page": page}), 404, "not_found")


def test_track_list_huge_query_is_400_naming_the_field(api_client):
    body = _envelope(api_client.get("/api/tracks", {"q": "x" * 5000}), 400, "validation_error")
    assert "q" in body["error"]["fields"]


def test_unknown_api_path_gets_the_envelope(api_client):
    _envelope(api_client.get("/api/no-such-thing"), 404, "not_found")


def test_method_not_allowed_gets_the_envelope(api_client):
    _envelope(api_client.post("/api/tracks", {}), 405, "method_not_allowed")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(["q", "artist", "genre", "page", "pageSize", "other"]),
        st.text(max_size=300),
    )
)
def test_track_list_never_fails_with_500(api_client, params):
    response = api_client.get("/api/tracks", params)
    assert response.status_code in (200, 400, 404)
    if response.status_code != 200:
        assert "error" in response.json()
