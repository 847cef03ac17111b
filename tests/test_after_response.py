"""Work queued with `after_response` runs once the response is closed, never inside the view."""
from __future__ import annotations

import asyncio

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from audotics.after_response import after_response, after_response_middleware
from recommendations.models import Interaction
from tests.factories import PlaylistFactory, TrackFactory


def _view(ran: list[str]):
    def view(request):
        after_response(lambda: ran.append("queued"))
        ran.append("view returned")
        return HttpResponse(b"ok")
    return view


@pytest.mark.django_db  # closing a response ends the request: Django tidies its connections
def test_sync_requests_run_queued_work_when_the_response_closes():
    ran: list[str] = []
    response = after_response_middleware(_view(ran))(RequestFactory().get("/"))
    assert ran == ["view returned"]
    response.close()
    assert ran == ["view returned", "queued"]


@pytest.mark.django_db
def test_async_requests_run_queued_work_when_the_response_closes():
    ran: list[str] = []
    view = _view(ran)

    async def get_response(request):
        return view(request)

    response = asyncio.run(after_response_middleware(get_response)(RequestFactory().get("/")))
    assert ran == ["view returned"]
    response.close()
    assert ran == ["view returned", "queued"]


def test_outside_a_request_the_work_runs_at_once_and_failures_stay_in_the_log(caplog):
    ran: list[str] = []
    after_response(lambda: ran.append("now"))
    after_response(lambda: 1 / 0)
    assert ran == ["now"]
    assert "Work queued after a response failed" in caplog.text


def test_a_playlist_add_folds_into_the_recommender_after_its_answer(
        transactional_db, logged_in_api_client, monkeypatch):
    """The add's interactions are stored in its transaction; the fold-in waits for the answer
    (a real commit here, so on_commit hooks run as in production)."""
    from recommendations.services import interactions

    folded: list[tuple[str, int]] = []
    monkeypatch.setattr(interactions, "user_interactions_apply",
                        lambda *, user_id, interactions: folded.append((user_id,
                                                                        len(interactions))))
    playlist = PlaylistFactory(owner=logged_in_api_client.user)
    track = TrackFactory()
    seen_during_view: list[int] = []
    from playlists import rendering

    real = rendering.change_bytes

    def change_bytes(event):  # runs inside the view, after the commit
        seen_during_view.append(len(folded))
        return real(event)

    monkeypatch.setattr(rendering, "change_bytes", change_bytes)
    response = logged_in_api_client.put(f"/api/playlists/{playlist.pk}/tracks",
                                        {"trackIds": [str(track.pk)]}, format="json")
    assert response.status_code == 200
    assert seen_during_view == [0]  # committed, answered, not yet folded in
    assert folded == [(str(logged_in_api_client.user.pk), 1)]  # the test client closed it
    assert Interaction.objects.filter(user=logged_in_api_client.user, type="add").count() == 1
