import uuid

import pytest

from audotics.exceptions import ApplicationError
from playlists import services
from playlists.models import Collaborator, Playlist, PlaylistEvent, PlaylistTrack
from recommendations.models import Interaction
from tests.factories import CollaboratorFactory, PlaylistFactory, TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


def _order(playlist):
    return list(
        PlaylistTrack.objects.filter(playlist=playlist).order_by("position")
        .values_list("track_id", flat=True)
    )


def _positions(playlist):
    return list(
        PlaylistTrack.objects.filter(playlist=playlist).order_by("position")
        .values_list("position", flat=True)
    )


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def playlist(owner):
    return services.playlist_create(owner=owner, name="Mix", is_collaborative=True)


def test_playlist_create_validates_name_and_context(owner):
    with pytest.raises(ApplicationError) as error:
        services.playlist_create(owner=owner, name="  ")
    assert error.value.code == "validation_error"
    with pytest.raises(ApplicationError):
        services.playlist_create(owner=owner, name="x", context={"colour": "red"})
    playlist = services.playlist_create(
        owner=owner, name="x", context={"mood": " Happy ", "genres": ["Rock"], "tempo": [90, 120]}
    )
    assert playlist.context == {"mood": "Happy", "genres": ["rock"], "tempo": [90.0, 120.0]}
    assert playlist.version == 0


def test_tracks_add_records_event_interactions_and_broadcast(
    playlist, owner, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr("collaboration.broadcast.playlist_event",
                        lambda pid, event: sent.append((pid, event)))
    tracks = TrackFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.playlist_tracks_add(
            playlist=playlist, user=owner, track_ids=[t.pk for t in tracks]
        )
    assert result.version == 1
    assert _order(playlist) == [t.pk for t in tracks]
    assert set(PlaylistTrack.objects.filter(playlist=playlist).values_list("added_by", flat=True)) \
        == {owner.pk}
    event = PlaylistEvent.objects.get(playlist=playlist)
    assert (event.version, event.type, event.user_id) == (1, "TRACK_ADDED", owner.pk)
    assert [t["id"] for t in event.data["tracks"]] == [str(t.pk) for t in tracks]
    assert Interaction.objects.filter(user=owner, type="add").count() == 3
    assert len(sent) == 1 and sent[0][0] == str(playlist.pk)
    assert sent[0][1]["version"] == 1 and sent[0][1]["type"] == "TRACK_ADDED"
    assert isinstance(sent[0][1]["timestamp"], int)


def test_no_broadcast_when_the_transaction_rolls_back(playlist, owner, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("collaboration.broadcast.playlist_event", lambda *a: sent.append(a))
    track = TrackFactory()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApplicationError):
        services.playlist_tracks_add(playlist=playlist, user=owner, track_ids=[track.pk, track.pk])
    assert sent == [] and Playlist.objects.get(pk=playlist.pk).version == 0


def test_insert_in_the_middle_shifts_without_collisions(playlist, owner):
    first = TrackFactory.create_batch(4)
    services.playlist_tracks_add(playlist=playlist, user=owner, track_ids=[t.pk for t in first])
    middle = TrackFactory.create_batch(2)
    services.playlist_tracks_add(playlist=playlist, user=owner,
                                 track_ids=[t.pk for t in middle], position=1)
    assert _order(playlist) == [first[0].pk, middle[0].pk, middle[1].pk, *[t.pk for t in first[1:]]]
    assert _positions(playlist) == list(range(6))
    services.playlist_tracks_add(playlist=playlist, user=owner, track_ids=[TrackFactory().pk],
                                 position=0)
    services.playlist_tracks_add(playlist=playlist, user=owner, track_ids=[TrackFactory().pk],
                                 position=1000)
    assert _positions(playlist) == list(range(8))
    assert Playlist.objects.get(pk=playlist.pk).version == 4


def test_remove_and_move_keep_positions_dense(playlist, owner):
    tracks = TrackFactory.create_batch(6)
    services.playlist_tracks_add(playlist=playlist, user=owner, track_ids=[t.pk for t in tracks])
    services.playlist_tracks_remove(playlist=playlist, user=owner,
                                    track_ids=[tracks[0].pk, tracks[3].pk])
    assert _order(playlist) == [tracks[i].pk for i in (1, 2, 4, 5)]
    assert _positions(playlist) == [0, 1, 2, 3]
    services.playlist_track_move(playlist=playlist, user=owner, track_id=tracks[1].pk, position=3)
    assert _order(playlist) == [tracks[i].pk for i in (2, 4, 5, 1)]
    services.playlist_track_move(playlist=playlist, user=owner, track_id=tracks[5].pk, position=0)
    assert _order(playlist) == [tracks[i].pk for i in (5, 2, 4, 1)]
    services.playlist_track_move(playlist=playlist, user=owner, track_id=tracks[5].pk, position=0)
    assert _positions(playlist) == [0, 1, 2, 3]
    versions = list(PlaylistEvent.objects.filter(playlist=playlist).values_list("version",
                                                                                flat=True))
    assert versions == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("scan", ["seqscan", "indexscan"])
def test_moves_and_adds_whatever_plan_postgresql_picks(playlist, owner, scan):
    """The unique (playlist, position) check is per row: no shift may pass through a taken slot.

    PostgreSQL walks an UPDATE in heap order on a sequential scan (which it picks once the
    table has statistics), in position order on an index scan; both must work.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the plan switches are PostgreSQL's")
    tracks = TrackFactory.create_batch(8)
    services.playlist_tracks_add(playlist=playlist, user=owner, track_ids=[t.pk for t in tracks])
    model = [t.pk for t in tracks]
    with connection.cursor() as cursor:
        if scan == "seqscan":
            cursor.execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
        else:
            cursor.execute("SET enable_seqscan = off")
    try:
        for old, new in [(5, 0), (7, 1), (2, 0), (0, 6), (6, 0), (1, 7), (3, 3)]:
            track = model.pop(old)
            model.insert(new, track)
            services.playlist_track_move(playlist=playlist, user=owner, track_id=track,
                                         position=new)
            assert _order(playlist) == model
        extra = TrackFactory()
        services.playlist_tracks_add(playlist=playlist, user=owner, track_ids=[extra.pk],
                                     position=0)
        services.playlist_tracks_remove(playlist=playlist, user=owner, track_ids=[model[2]])
        assert _order(playlist) == [extra.pk] + model[:2] + model[3:]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_indexscan; RESET enable_bitmapscan; RESET enable_seqscan")


@pytest.mark.parametrize(
    "call, code, status",
    [
        (lambda p, u, t: services.playlist_tracks_add(playlist=p, user=u, track_ids=[t.pk]),
         "duplicate_track", 409),
        (lambda p, u, t: services.playlist_tracks_add(playlist=p, user=u,
                                                      track_ids=[uuid.uuid4()]),
         "unknown_tracks", 400),
        (lambda p, u, t: services.playlist_tracks_add(playlist=p, user=u, track_ids=[]),
         "validation_error", 400),
        (lambda p, u, t: services.playlist_tracks_add(playlist=p, user=u, track_ids=["x"]),
         "validation_error", 400),
        (lambda p, u, t: services.playlist_tracks_add(playlist=p, user=u, track_ids=[t.pk],
                                                      position=-2),
         "validation_error", 400),
        (lambda p, u, t: services.playlist_tracks_add(
            playlist=p, user=u, track_ids=[uuid.uuid4() for _ in range(501)]), "too_large", 413),
        (lambda p, u, t: services.playlist_tracks_remove(playlist=p, user=u,
                                                         track_ids=[uuid.uuid4()]),
         "not_in_playlist", 409),
        (lambda p, u, t: services.playlist_track_move(playlist=p, user=u, track_id=uuid.uuid4(),
                                                      position=0),
         "not_in_playlist", 409),
        (lambda p, u, t: services.playlist_track_move(playlist=p, user=u, track_id=t.pk,
                                                      position=0, expected_version=0),
         "version_conflict", 409),
        (lambda p, u, t: services.playlist_tracks_add(playlist=uuid.uuid4(), user=u,
                                                      track_ids=[t.pk]),
         "not_found", 404),
        (lambda p, u, t: services.playlist_tracks_add(playlist="garbage", user=u,
                                                      track_ids=[t.pk]),
         "not_found", 404),
        (lambda p, u, t: services.playlist_tracks_add(playlist=p, user=UserFactory(),
                                                      track_ids=[t.pk]),
         "not_found", 404),
    ],
)
def test_failed_writes_change_nothing(playlist, owner, call, code, status):
    track = TrackFactory()
    services.playlist_tracks_add(playlist=playlist, user=owner, track_ids=[track.pk])
    with pytest.raises(ApplicationError) as error:
        call(playlist, owner, track)
    assert (error.value.code, error.value.status) == (code, status)
    assert Playlist.objects.get(pk=playlist.pk).version == 1
    assert _order(playlist) == [track.pk]
    assert PlaylistEvent.objects.filter(playlist=playlist).count() == 1


def test_collaborators_invite_remove_and_owner_rules(playlist, owner):
    friend = UserFactory(username="Pal")
    collaborator = services.playlist_collaborator_add(playlist=playlist, user=owner,
                                                      username="pal")
    assert collaborator.user == friend
    with pytest.raises(ApplicationError) as error:
        services.playlist_update(playlist=playlist, user=friend, name="hijack")
    assert error.value.status == 403
    with pytest.raises(ApplicationError) as error:
        services.playlist_collaborator_add(playlist=playlist, user=owner, username=owner.username)
    assert error.value.code == "already_member"
    track = TrackFactory()
    services.playlist_tracks_add(playlist=playlist, user=friend, track_ids=[track.pk])
    assert PlaylistTrack.objects.get(playlist=playlist).added_by == friend
    services.playlist_collaborator_remove(playlist=playlist, user=owner, collaborator_id=friend.pk)
    assert not Collaborator.objects.filter(playlist=playlist).exists()
    with pytest.raises(ApplicationError) as error:
        services.playlist_tracks_remove(playlist=playlist, user=friend, track_ids=[track.pk])
    assert error.value.status == 404
    types = list(PlaylistEvent.objects.filter(playlist=playlist).values_list("type", flat=True))
    assert types == ["PLAYLIST_UPDATED", "TRACK_ADDED", "PLAYLIST_UPDATED"]


def test_member_removed_is_broadcast(playlist, owner, monkeypatch,
                                     django_capture_on_commit_callbacks):
    removed = []
    monkeypatch.setattr("collaboration.broadcast.playlist_member_removed",
                        lambda pid, uid: removed.append((pid, uid)))
    friend = CollaboratorFactory(playlist=playlist).user
    with django_capture_on_commit_callbacks(execute=True):
        services.playlist_collaborator_remove(playlist=playlist, user=owner,
                                              collaborator_id=friend.pk)
    assert removed == [(str(playlist.pk), str(friend.pk))]


def test_update_without_changes_keeps_version(playlist, owner):
    services.playlist_update(playlist=playlist, user=owner, name="Mix")
    assert Playlist.objects.get(pk=playlist.pk).version == 0
    services.playlist_update(playlist=playlist, user=owner, name="New", expected_version=0)
    assert Playlist.objects.get(pk=playlist.pk).version == 1


def test_playlist_limit(playlist, owner, monkeypatch):
    monkeypatch.setattr("playlists.services.playlists.MAX_TRACKS_PER_PLAYLIST", 3)
    services.playlist_tracks_add(playlist=playlist, user=owner,
                                 track_ids=[t.pk for t in TrackFactory.create_batch(3)])
    with pytest.raises(ApplicationError) as error:
        services.playlist_tracks_add(playlist=playlist, user=owner, track_ids=[TrackFactory().pk])
    assert error.value.status == 413


def test_playlist_delete_broadcasts(playlist, owner, monkeypatch,
                                    django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("collaboration.broadcast.playlist_deleted", lambda *a: sent.append(a))
    with django_capture_on_commit_callbacks(execute=True):
        services.playlist_delete(playlist=playlist, user=owner)
    assert not Playlist.objects.filter(pk=playlist.pk).exists()
    assert sent[0][1]["data"] == {"deleted": True}


def test_works_with_factory_playlists():
    playlist = PlaylistFactory()
    services.playlist_tracks_add(playlist=playlist.pk, user=playlist.owner,
                                 track_ids=[str(TrackFactory().pk)])
    assert _positions(playlist) == [0]
