"""The playlist services against a plain Python list, driven by hypothesis."""
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from audotics.exceptions import ApplicationError
from playlists import services
from playlists.models import Playlist, PlaylistEvent, PlaylistTrack
from tests.factories import TrackFactory, UserFactory

pytestmark = pytest.mark.django_db

POOL = 8


class PlaylistMachine(RuleBasedStateMachine):
    """Every service call either changes the model the same way or fails and changes nothing."""

    @initialize()
    def setup(self):
        PlaylistTrack.objects.all().delete()
        self.user = UserFactory()
        self.pool = [TrackFactory() for _ in range(POOL)]
        self.playlist = services.playlist_create(owner=self.user, name="state")
        self.model: list = []
        self.version = 0

    def _apply(self, call, change) -> None:
        try:
            call()
        except ApplicationError:
            return
        change()
        self.version += 1

    @rule(picks=st.lists(st.integers(0, POOL - 1), min_size=1, max_size=3),
          position=st.none() | st.integers(0, 12))
    def add(self, picks, position):
        ids = [self.pool[i].pk for i in picks]
        expect_ok = len(set(ids)) == len(ids) and not set(ids) & set(self.model)

        def change():
            assert expect_ok
            at = len(self.model) if position is None else min(position, len(self.model))
            self.model[at:at] = ids

        before = self.version
        self._apply(lambda: services.playlist_tracks_add(
            playlist=self.playlist, user=self.user, track_ids=ids, position=position), change)
        assert (self.version == before + 1) == expect_ok

    @rule(picks=st.lists(st.integers(0, POOL - 1), min_size=1, max_size=3, unique=True))
    def remove(self, picks):
        ids = [self.pool[i].pk for i in picks]
        expect_ok = set(ids) <= set(self.model)

        def change():
            assert expect_ok
            self.model[:] = [t for t in self.model if t not in ids]

        before = self.version
        self._apply(lambda: services.playlist_tracks_remove(
            playlist=self.playlist, user=self.user, track_ids=ids), change)
        assert (self.version == before + 1) == expect_ok

    @rule(pick=st.integers(0, POOL - 1), position=st.integers(0, 10))
    def move(self, pick, position):
        track = self.pool[pick].pk
        expect_ok = track in self.model

        def change():
            assert expect_ok
            self.model.remove(track)
            self.model.insert(min(position, len(self.model)), track)

        before = self.version
        self._apply(lambda: services.playlist_track_move(
            playlist=self.playlist, user=self.user, track_id=track, position=position), change)
        assert (self.version == before + 1) == expect_ok

    @rule(stale=st.integers(1, 5))
    def stale_write_is_refused(self, stale):
        before = list(self.model)
        with pytest.raises(ApplicationError) as error:
            services.playlist_tracks_add(
                playlist=self.playlist, user=self.user, track_ids=[self.pool[0].pk],
                expected_version=self.version + stale)
        assert error.value.code == "version_conflict"
        assert self.model == before

    @invariant()
    def database_matches_model(self):
        rows = list(PlaylistTrack.objects.filter(playlist=self.playlist).order_by("position")
                    .values_list("track_id", "position"))
        assert [t for t, _ in rows] == self.model
        assert [p for _, p in rows] == list(range(len(rows)))
        assert Playlist.objects.get(pk=self.playlist.pk).version == self.version
        assert PlaylistEvent.objects.filter(playlist=self.playlist).count() == self.version


PlaylistMachine.TestCase.settings = settings(
    max_examples=15, stateful_step_count=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_playlist_services_state_machine():
    PlaylistMachine.TestCase().runTest()
