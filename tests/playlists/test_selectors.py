import uuid

import pytest
from django.http import Http404

from playlists import selectors, services
from tests.factories import CollaboratorFactory, PlaylistFactory, TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_playlist_list_is_own_and_collaborating_without_duplicates():
    me = UserFactory()
    own = PlaylistFactory(owner=me)
    shared = CollaboratorFactory(user=me).playlist
    CollaboratorFactory(playlist=shared)  # another collaborator must not duplicate the row
    PlaylistFactory()
    assert {p.pk for p in selectors.playlist_list(user=me)} == {own.pk, shared.pk}
    assert selectors.playlist_list(user=me).count() == 2


def test_playlist_get_hides_other_playlists_and_malformed_ids():
    me = UserFactory()
    theirs = PlaylistFactory()
    for playlist_id in [theirs.pk, uuid.uuid4(), "nope", None]:
        with pytest.raises(Http404):
            selectors.playlist_get(playlist_id=playlist_id, user=me)
    assert selectors.playlist_is_member(playlist_id=theirs.pk, user=theirs.owner)
    assert not selectors.playlist_is_member(playlist_id=theirs.pk, user=me)
    assert not selectors.playlist_is_member(playlist_id="bad", user=me)


def test_snapshot_and_events_since():
    owner = UserFactory()
    playlist = services.playlist_create(owner=owner, name="x")
    tracks = TrackFactory.create_batch(2)
    services.playlist_tracks_add(playlist=playlist, user=owner, track_ids=[t.pk for t in tracks])
    services.playlist_track_move(playlist=playlist, user=owner, track_id=tracks[0].pk,
                                 position=1)
    snapshot = selectors.playlist_snapshot(playlist_id=playlist.pk)
    assert snapshot["version"] == 2
    assert [t["id"] for t in snapshot["tracks"]] == [str(tracks[1].pk), str(tracks[0].pk)]
    assert [e.version for e in selectors.playlist_events_since(playlist_id=playlist.pk,
                                                               version=1)] == [2]
    assert selectors.playlist_snapshot(playlist_id=uuid.uuid4()) is None
