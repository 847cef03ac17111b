"""playlists.rendering writes exactly what PlaylistSerializer + the camelCase renderer write."""
import json

import pytest
from djangorestframework_camel_case.render import CamelCaseJSONRenderer

from playlists import rendering, selectors
from playlists.serializers import PlaylistSerializer
from tests.factories import CollaboratorFactory, PlaylistFactory, PlaylistTrackFactory, TrackFactory

pytestmark = pytest.mark.django_db


def _reference(playlist) -> bytes:
    return CamelCaseJSONRenderer().render(PlaylistSerializer(playlist).data)


def test_playlist_bytes_equal_the_serializer_output(user):
    rendering.fragments_forget()
    playlist = PlaylistFactory(owner=user, is_collaborative=True,
                               description='Ünïcode "described"\nover two lines',
                               context={"mood": "happy", "time_of_day": "morning",
                                        "energy": [0.2, 0.8]})
    odd = TrackFactory(title='Ünïcode "quoted" \\ title', duration_ms=None,
                       features={"time_signature": 4, "energy": 0.51, "key": 0},
                       metadata={"release_date": "2001", "genres": ["pop", "art pop"],
                                 "nested_dict": {"inner_key": None}})
    PlaylistTrackFactory(playlist=playlist, track=odd, position=0, added_by=None)
    for n in range(1, 4):
        PlaylistTrackFactory(playlist=playlist, track=TrackFactory(), position=n, added_by=user)
    CollaboratorFactory(playlist=playlist)
    loaded = selectors.playlist_get(playlist_id=playlist.pk, user=user)
    assert rendering.playlist_bytes(loaded) == _reference(loaded)
    # Second time from cached fragments: still identical.
    assert rendering.playlist_bytes(loaded) == _reference(loaded)


def test_an_updated_track_is_rendered_afresh(user):
    playlist = PlaylistFactory(owner=user)
    track = TrackFactory(title="Before")
    PlaylistTrackFactory(playlist=playlist, track=track, position=0, added_by=user)
    first = rendering.playlist_bytes(selectors.playlist_get(playlist_id=playlist.pk, user=user))
    track.title = "After"
    track.save()
    again = selectors.playlist_get(playlist_id=playlist.pk, user=user)
    body = json.loads(rendering.playlist_bytes(again))
    assert b"Before" in first and body["tracks"][0]["title"] == "After"


def test_list_endpoint_pages_are_the_serializer_output(logged_in_api_client):
    user = logged_in_api_client.user
    for n in range(3):
        p = PlaylistFactory(owner=user, name=f"p{n}", context={"time_of_day": "night"})
        PlaylistTrackFactory(playlist=p, track=TrackFactory(), position=0, added_by=user)
        PlaylistTrackFactory(playlist=p, track=TrackFactory(features={"time_signature": 4}),
                             position=1, added_by=None)
        CollaboratorFactory(playlist=p)
    r = logged_in_api_client.get("/api/playlists?pageSize=2")
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    body = r.json()
    assert body["count"] == 3 and body["next"].endswith("page=2&pageSize=2")
    expected = [json.loads(_reference(p)) for p in selectors.playlist_list(user=user)[:2]]
    assert body["results"] == expected


def test_track_endpoints_are_the_serializer_output(logged_in_api_client):
    from playlists.serializers import TrackSerializer

    track = TrackFactory(title="Blue Signal", features={"time_signature": 3, "energy": 0.4},
                         metadata={"release_date": "1999", "genres": ["rock"]})
    reference = json.loads(CamelCaseJSONRenderer().render(TrackSerializer(track).data))
    assert logged_in_api_client.get(f"/api/tracks/{track.pk}").json() == reference
    body = logged_in_api_client.get("/api/tracks?q=signal").json()
    assert body["count"] == 1 and body["results"] == [reference]


def test_a_process_new_to_a_track_takes_its_fragment_from_the_shared_cache(
        settings, django_assert_num_queries):
    """A list read in a worker that never rendered its tracks costs no query: another worker's
    fragments wait in the shared cache, trusted for RECO_FRAGMENT_SECONDS from their rendering."""
    tracks = [TrackFactory(title=f"Shared {n}") for n in range(3)]
    ids = [str(t.pk) for t in tracks]
    with django_assert_num_queries(1):
        first = rendering.track_fragments(ids)
    rendering.fragments_forget()  # another process: nothing of its own yet
    with django_assert_num_queries(0):
        assert rendering.track_fragments(ids) == first
    settings.RECO_FRAGMENT_SECONDS = 0  # every fragment is now too old, here and shared
    rendering.fragments_forget()
    with django_assert_num_queries(1):
        assert rendering.track_fragments(ids) == first
