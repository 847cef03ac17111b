"""API tests for the recommendation endpoints: status codes, shapes, permissions, envelopes."""
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from playlists.models import Playlist
from recommendations.models import Interaction
from tests.factories import (
    CollaboratorFactory,
    InteractionFactory,
    PlaylistFactory,
    PlaylistTrackFactory,
    TrackFactory,
    UserFactory,
)
from tests.recommendations.conftest import install_embedding_model, make_catalog

pytestmark = pytest.mark.django_db


def _url(user):
    return f"/api/users/{user.pk}/recommendations"


# ---------------------------------------------------------------------------- interactions


def test_interactions_single_and_list_are_accepted(logged_in_api_client):
    t1, t2 = TrackFactory(), TrackFactory()
    r = logged_in_api_client.post("/api/interactions", {"trackId": str(t1.pk), "type": "play",
                                  "context": {"mood": "happy", "timeOfDay": "night"}},
                                  format="json")
    assert r.status_code == 202 and r.json() == {"accepted": 1}
    r = logged_in_api_client.post("/api/interactions", [
        {"trackId": str(t1.pk), "type": "like"}, {"trackId": str(t2.pk), "type": "dislike"}],
        format="json")
    assert r.status_code == 202 and r.json() == {"accepted": 2}
    rows = Interaction.objects.filter(user=logged_in_api_client.user)
    assert rows.count() == 3
    assert rows.get(type="play").context == {"mood": "happy", "time_of_day": "night"}


def test_interactions_over_500_is_413(logged_in_api_client):
    t = TrackFactory()
    r = logged_in_api_client.post("/api/interactions",
                                  [{"trackId": str(t.pk), "type": "play"}] * 501, format="json")
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert not Interaction.objects.exists()


def test_interactions_unknown_tracks_are_named(logged_in_api_client):
    t = TrackFactory()
    missing = str(uuid.uuid4())
    r = logged_in_api_client.post("/api/interactions", [
        {"trackId": str(t.pk), "type": "play"}, {"trackId": missing, "type": "like"}],
        format="json")
    assert r.status_code == 400
    assert r.json()["error"]["fields"]["trackId"] == [missing]
    assert not Interaction.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"type": "play"}, "trackId"),
    ({"trackId": "x", "type": "love"}, "type"),
    ({"trackId": "x", "type": "play", "context": {"mood": "furious"}}, "context"),
])
def test_interactions_invalid_items_name_the_field(logged_in_api_client, body, field):
    if body.get("trackId") == "x":
        body["trackId"] = str(TrackFactory().pk)
    r = logged_in_api_client.post("/api/interactions", body, format="json")
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]


def test_interactions_require_authentication(api_client):
    r = api_client.post("/api/interactions", {"trackId": str(uuid.uuid4()), "type": "play"},
                        format="json")
    assert r.status_code == 401


# ---------------------------------------------------------------------------- personal


def test_recommendations_shape_and_reasons(logged_in_api_client):
    make_catalog()
    r = logged_in_api_client.get(_url(logged_in_api_client.user) + "?limit=10")
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"tracks", "context", "modelVersion"}
    assert len(body["tracks"]) == 10
    track = body["tracks"][0]
    assert set(track) >= {"id", "title", "artist", "album", "durationMs", "features",
                          "metadata", "score", "reason"}
    assert body["context"] == {"mood": None, "activity": None, "timeOfDay": None}


def test_recommendations_of_another_user_are_forbidden(logged_in_api_client):
    other = UserFactory()
    r = logged_in_api_client.get(_url(other))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"
    # Malformed or unknown ids are 403 too for non-staff: existence is not revealed.
    assert logged_in_api_client.get("/api/users/nope/recommendations").status_code == 403


def test_staff_may_read_anyone_and_get_404_for_unknown():
    staff = UserFactory(is_staff=True)
    client = APIClient()
    client.force_authenticate(user=staff)
    make_catalog(per_genre=3)
    assert client.get(_url(UserFactory())).status_code == 200
    assert client.get(f"/api/users/{uuid.uuid4()}/recommendations").status_code == 404
    assert client.get("/api/users/not-a-uuid/recommendations").status_code == 404


def test_recommendations_require_authentication(api_client, user):
    assert api_client.get(_url(user)).status_code == 401


@pytest.mark.parametrize("query, field", [
    ("mood=furious", "mood"), ("activity=flying", "activity"), ("timeOfDay=noonish", "timeOfDay"),
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"),
])
def test_recommendations_bad_parameters_name_the_field(logged_in_api_client, query, field):
    r = logged_in_api_client.get(_url(logged_in_api_client.user) + "?" + query)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "validation_error"
    assert field in r.json()["error"]["fields"]


def test_context_is_echoed(logged_in_api_client):
    make_catalog(per_genre=4)
    r = logged_in_api_client.get(_url(logged_in_api_client.user)
                                 + "?mood=happy&activity=workout&timeOfDay=morning")
    assert r.status_code == 200
    assert r.json()["context"] == {"mood": "happy", "activity": "workout", "timeOfDay": "morning"}


def test_new_user_gets_preference_based_list(logged_in_api_client):
    make_catalog()
    user = logged_in_api_client.user
    user.preferences = {"genres": ["rock"], "energy": 0.8}
    user.save()
    r = logged_in_api_client.get(_url(user))
    tracks = r.json()["tracks"]
    assert r.status_code == 200 and len(tracks) == 20
    rock = [t for t in tracks[:8] if t["metadata"]["genres"] == ["rock"]]
    assert len(rock) >= 6  # preferences lead the list


def test_new_user_without_preferences_gets_popular_tracks(logged_in_api_client):
    make_catalog(per_genre=2)
    r = logged_in_api_client.get(_url(logged_in_api_client.user))
    assert r.status_code == 200 and len(r.json()["tracks"]) == 12


def test_empty_catalog_is_an_empty_list(logged_in_api_client):
    r = logged_in_api_client.get(_url(logged_in_api_client.user))
    assert r.status_code == 200
    assert r.json()["tracks"] == []
    r = logged_in_api_client.post("/api/playlists/generate", {"context": {"mood": "sad"}},
                                  format="json")
    assert r.status_code == 200 and r.json()["tracks"] == []


def test_disliked_tracks_are_excluded(logged_in_api_client):
    tracks = make_catalog(per_genre=3)
    user = logged_in_api_client.user
    for t in tracks[:5]:
        InteractionFactory(user=user, track=t, type="dislike")
    install_embedding_model(tracks, [user])
    ids = {t["id"] for t in logged_in_api_client.get(_url(user) + "?limit=100").json()["tracks"]}
    assert ids and not ids & {str(t.pk) for t in tracks[:5]}


def test_playlist_tracks_are_excluded_and_playlist_checked(logged_in_api_client):
    tracks = make_catalog(per_genre=3)
    user = logged_in_api_client.user
    playlist = PlaylistFactory(owner=user)
    for pos, t in enumerate(tracks[:4]):
        PlaylistTrackFactory(playlist=playlist, track=t, position=pos)
    r = logged_in_api_client.get(_url(user) + f"?limit=100&playlistId={playlist.pk}")
    ids = {t["id"] for t in r.json()["tracks"]}
    assert r.status_code == 200 and ids
    assert not ids & {str(t.pk) for t in tracks[:4]}
    foreign = PlaylistFactory()
    r = logged_in_api_client.get(_url(user) + f"?playlistId={foreign.pk}")
    assert r.status_code == 404


def test_diversity_caps_tracks_per_artist(logged_in_api_client):
    # Two artists with many tracks, many artists with one track each.
    for _ in range(15):
        TrackFactory(artist="Big One", genre="pop", metadata={"popularity": 99})
        TrackFactory(artist="Big Two", genre="pop", metadata={"popularity": 98})
    for i in range(30):
        TrackFactory(artist=f"Small {i}", genre="pop", metadata={"popularity": 10})
    r = logged_in_api_client.get(_url(logged_in_api_client.user))
    artists = [t["artist"] for t in r.json()["tracks"]]
    assert len(artists) == 20
    assert max(artists.count(a) for a in set(artists)) <= 2
    r = logged_in_api_client.get(_url(logged_in_api_client.user) + "?diversity=false")
    artists = [t["artist"] for t in r.json()["tracks"]]
    assert artists.count("Big One") > 2


# ---------------------------------------------------------------------------- generation


def test_generate_respects_hard_ranges_exactly(logged_in_api_client):
    make_catalog()
    body = {"context": {"mood": "happy", "energy": [0.6, 0.8], "tempo": [90, 140],
                        "genres": ["pop", "rock"]}, "length": 10}
    r = logged_in_api_client.post("/api/playlists/generate", body, format="json")
    assert r.status_code == 200
    tracks = r.json()["tracks"]
    assert tracks
    for t in tracks:
        assert 0.6 <= t["features"]["energy"] <= 0.8
        assert 90 <= t["features"]["tempo"] <= 140
        assert t["metadata"]["genres"][0] in ("pop", "rock")
    assert "playlist" not in r.json()


def test_generate_reads_a_context_s_catalog_sample_once_per_process(logged_in_api_client):
    make_catalog()

    def generate(energy):
        body = {"context": {"energy": energy, "genres": ["pop"]}, "length": 5}
        with CaptureQueriesContext(connection) as queries:
            r = logged_in_api_client.post("/api/playlists/generate", body, format="json")
        assert r.status_code == 200
        assert all(0.2 <= t["features"]["energy"] <= 0.9 for t in r.json()["tracks"])
        return len(queries)

    generate([0.2, 0.9])  # reads the pools and the sample of these filters
    again = generate([0.2, 0.9])
    # Other filters are another sample: one more query than the same filters again.
    assert generate([0.3, 0.9]) == again + 1


def test_generate_orders_along_an_energy_arc(logged_in_api_client):
    make_catalog()
    r = logged_in_api_client.post("/api/playlists/generate", {"length": 12}, format="json")
    energy = [t["features"]["energy"] for t in r.json()["tracks"]]
    assert len(energy) == 12
    peak = energy.index(max(energy))
    assert 5 <= peak <= 10  # about two thirds through
    assert energy[:peak + 1] == sorted(energy[:peak + 1])
    assert energy[peak:] == sorted(energy[peak:], reverse=True)


@pytest.mark.parametrize("context, field", [
    ({"mood": "furious"}, "mood"), ({"activity": "x"}, "activity"),
    ({"timeOfDay": "teatime"}, "timeOfDay"), ({"energy": [0.9, 0.1]}, "energy"),
    ({"tempo": [0, 900]}, "tempo"), ({"genres": "rock"}, "genres"),
])
def test_generate_bad_context_names_the_field(logged_in_api_client, context, field):
    r = logged_in_api_client.post("/api/playlists/generate", {"context": context}, format="json")
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]["context"]


def test_generate_length_and_seeds_are_checked(logged_in_api_client):
    assert logged_in_api_client.post("/api/playlists/generate", {"length": 101},
                                     format="json").status_code == 400
    missing = str(uuid.uuid4())
    r = logged_in_api_client.post("/api/playlists/generate", {"seedTrackIds": [missing]},
                                  format="json")
    assert r.status_code == 400
    assert r.json()["error"]["fields"]["seedTrackIds"] == [missing]


def test_generate_with_seeds_and_model(logged_in_api_client):
    tracks = make_catalog()
    install_embedding_model(tracks, [logged_in_api_client.user])
    seeds = [str(t.pk) for t in tracks if t.genre == "edm"][:3]
    r = logged_in_api_client.post("/api/playlists/generate",
                                  {"seedTrackIds": seeds, "length": 8}, format="json")
    assert r.status_code == 200
    out = r.json()["tracks"]
    assert not {t["id"] for t in out} & set(seeds)
    assert sum(t["metadata"]["genres"] == ["edm"] for t in out) >= 6


def test_generate_save_stores_a_playlist(logged_in_api_client):
    make_catalog(per_genre=4)
    r = logged_in_api_client.post("/api/playlists/generate", {
        "context": {"activity": "workout"}, "length": 6, "save": True, "name": "Gym"},
        format="json")
    assert r.status_code == 201
    body = r.json()
    playlist = Playlist.objects.get(pk=body["playlist"]["id"])
    assert playlist.name == "Gym" and playlist.owner == logged_in_api_client.user
    assert [t["id"] for t in body["playlist"]["tracks"]] == [t["id"] for t in body["tracks"]]
    assert playlist.context == {"activity": "workout"}


def test_generate_requires_authentication(api_client):
    assert api_client.post("/api/playlists/generate", {}, format="json").status_code == 401


def test_generate_route_is_not_swallowed_by_playlist_routes():
    from django.urls import resolve

    assert resolve("/api/playlists/generate").url_name == "generate"
    assert resolve(f"/api/playlists/{uuid.uuid4()}/recommendations").url_name == "playlist-list"


# ---------------------------------------------------------------------------- continuation


def test_playlist_recommendations_for_strangers_are_404(logged_in_api_client):
    playlist = PlaylistFactory()
    assert logged_in_api_client.get(
        f"/api/playlists/{playlist.pk}/recommendations").status_code == 404
    assert logged_in_api_client.get("/api/playlists/nope/recommendations").status_code == 404


def test_playlist_continuation_excludes_its_tracks(logged_in_api_client):
    tracks = make_catalog()
    user = logged_in_api_client.user
    install_embedding_model(tracks, [user])
    playlist = PlaylistFactory(owner=user)
    rap = [t for t in tracks if t.genre == "rap"]
    for pos, t in enumerate(rap[:4]):
        PlaylistTrackFactory(playlist=playlist, track=t, position=pos)
    r = logged_in_api_client.get(f"/api/playlists/{playlist.pk}/recommendations?limit=5")
    assert r.status_code == 200
    body = r.json()
    assert body["strategy"] == "continuation"
    assert body["members"][0]["userId"] == str(user.pk)
    ids = [t["id"] for t in body["tracks"]]
    assert len(ids) == 5 and not set(ids) & {str(t.pk) for t in rap[:4]}
    assert all(t["metadata"]["genres"] == ["rap"] for t in body["tracks"][:4])


def _two_listeners(owner, owner_genre: str, friend_genre: str):
    """A catalog by genre, and a friend; each of the two likes six tracks of their genre."""
    tracks = make_catalog()
    friend = UserFactory()
    by_genre = {}
    for t in tracks:
        by_genre.setdefault(t.genre, []).append(t)
    for user, genre in ((owner, owner_genre), (friend, friend_genre)):
        for t in by_genre[genre][:6]:
            InteractionFactory(user=user, track=t, type="like")
    return tracks, by_genre, friend


def test_collaborative_playlist_balances_members(logged_in_api_client):
    owner = logged_in_api_client.user
    tracks, by_genre, friend = _two_listeners(owner, "rock", "edm")
    playlist = PlaylistFactory(owner=owner, is_collaborative=True)
    CollaboratorFactory(playlist=playlist, user=friend)
    for pos, t in enumerate([by_genre["rock"][6], by_genre["edm"][6]]):
        PlaylistTrackFactory(playlist=playlist, track=t, position=pos)
    r = logged_in_api_client.get(f"/api/playlists/{playlist.pk}/recommendations?limit=10")
    assert r.status_code == 200
    body = r.json()
    assert body["strategy"] == "fair_share"
    members = {m["username"]: m["tasteMatch"] for m in body["members"]}
    assert set(members) == {owner.username, friend.username}
    assert all(0 <= v <= 100 for v in members.values())
    genres = [t["metadata"]["genres"][0] for t in body["tracks"]]
    assert "rock" in genres and "edm" in genres  # neither member is left out
    # The friend may read it too; a stranger may not.
    friend_client = APIClient()
    friend_client.force_authenticate(user=friend)
    assert friend_client.get(f"/api/playlists/{playlist.pk}/recommendations").status_code == 200


def test_group_suggestions_serve_members_with_disjoint_tastes(logged_in_api_client):
    """One member only likes rap, the other only latin, and the playlist so far is rap: each
    still gets a fair share of the suggestions, and tasteMatch says how much each list is
    worth to each (neither 100 nor the requester's alone)."""
    owner = logged_in_api_client.user
    tracks, by_genre, friend = _two_listeners(owner, "rap", "latin")
    install_embedding_model(tracks, [owner, friend],
                            user_genres={owner.pk: "rap", friend.pk: "latin"})
    playlist = PlaylistFactory(owner=owner, is_collaborative=True)
    CollaboratorFactory(playlist=playlist, user=friend)
    for pos, t in enumerate(by_genre["rap"][6:9]):
        PlaylistTrackFactory(playlist=playlist, track=t, position=pos)
    body = logged_in_api_client.get(
        f"/api/playlists/{playlist.pk}/recommendations?limit=10").json()
    genres = [t["metadata"]["genres"][0] for t in body["tracks"]]
    assert len(genres) == 10
    assert genres.count("rap") >= 4 and genres.count("latin") >= 4, genres
    match = {m["username"]: m["tasteMatch"] for m in body["members"]}
    assert 50 <= match[owner.username] < 100 and 50 <= match[friend.username] < 100, match


def _bearer(user) -> APIClient:
    from rest_framework_simplejwt.tokens import AccessToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def test_bearer_tokens_reach_own_list_only_and_staff_any(user):
    make_catalog(per_genre=3)
    staff = UserFactory(is_staff=True)
    assert _bearer(user).get(_url(user)).status_code == 200
    r = _bearer(user).get(_url(staff))
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert _bearer(staff).get(_url(user)).status_code == 200
    assert _bearer(staff).get(f"/api/users/{uuid.uuid4()}/recommendations").status_code == 404


def test_a_cached_list_is_served_without_database_queries(user, django_assert_num_queries):
    make_catalog(per_genre=3)
    client = _bearer(user)
    first = client.get(_url(user) + "?limit=5")
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = client.get(_url(user) + "?limit=5")
    assert again.status_code == 200
    assert again.json() == first.json()
    # A new interaction invalidates the list: the next answer is computed again.
    InteractionFactory(user=user, track_id=first.json()["tracks"][0]["id"], type="dislike")
    from recommendations.services import results_cache

    results_cache.user_cache_invalidate(user_id=str(user.pk))
    third = client.get(_url(user) + "?limit=5").json()
    assert first.json()["tracks"][0]["id"] not in [t["id"] for t in third["tracks"]]


def test_a_deactivated_account_cannot_compute_a_list(user):
    make_catalog(per_genre=3)
    client = _bearer(user)
    user.is_active = False
    user.save()
    r = client.get(_url(user))
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"
