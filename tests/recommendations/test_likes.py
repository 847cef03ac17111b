"""GET /api/users/me/likes and DELETE /api/users/me/likes/{trackId} (SPEC.md "Listening and
library"): what a page reads to show a like after a reload (issue 12, item 6)."""
import uuid

import pytest
from rest_framework.test import APIClient

from recommendations.models import Interaction
from tests.factories import TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


def _like(client, track):
    response = client.post("/api/interactions", {"trackId": str(track.pk), "type": "like"},
                           format="json")
    assert response.status_code == 202, response.content


def test_likes_are_listed_latest_first_and_only_to_their_owner(logged_in_api_client):
    first, second, other = TrackFactory.create_batch(3)
    _like(logged_in_api_client, first)
    _like(logged_in_api_client, second)
    logged_in_api_client.post("/api/interactions", {"trackId": str(other.pk), "type": "play"},
                              format="json")
    body = logged_in_api_client.get("/api/users/me/likes").json()
    assert body["count"] == 2
    assert [t["id"] for t in body["results"]] == [str(second.pk), str(first.pk)]
    assert body["results"][0]["title"] == second.title

    wanted = f"{first.pk},{other.pk},not-a-uuid,{uuid.uuid4()}"
    only = logged_in_api_client.get("/api/users/me/likes", {"trackIds": wanted}).json()
    assert [t["id"] for t in only["results"]] == [str(first.pk)]

    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.get("/api/users/me/likes").json()["count"] == 0
    assert APIClient().get("/api/users/me/likes").status_code == 401


def test_unlike_removes_the_like_and_is_idempotent(logged_in_api_client):
    track = TrackFactory()
    _like(logged_in_api_client, track)
    _like(logged_in_api_client, track)  # liked twice: one entry, and one unlike ends it
    assert logged_in_api_client.get("/api/users/me/likes").json()["count"] == 1
    for _ in range(2):
        assert logged_in_api_client.delete(f"/api/users/me/likes/{track.pk}").status_code == 204
    assert logged_in_api_client.get("/api/users/me/likes").json()["count"] == 0
    assert not Interaction.objects.filter(type="like", track=track).exists()
    assert logged_in_api_client.delete("/api/users/me/likes/not-a-track").status_code == 204


def test_unlike_touches_only_the_callers_like(logged_in_api_client):
    track = TrackFactory()
    friend = APIClient()
    friend.force_authenticate(UserFactory())
    _like(logged_in_api_client, track)
    _like(friend, track)
    friend.delete(f"/api/users/me/likes/{track.pk}")
    assert logged_in_api_client.get("/api/users/me/likes").json()["count"] == 1
