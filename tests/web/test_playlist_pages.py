"""The playlist pages: the owner's controls and invite link (never shown to members), covers
and lengths on the cards, and the join page of an invite link."""
import logging

import pytest
from django.test import Client

from playlists.models import Collaborator, PlaylistShareLink
from playlists.share_tokens import share_token
from recommendations.services import context_vocabulary
from tests.factories import (
    CollaboratorFactory,
    PlaylistFactory,
    PlaylistTrackFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _browser(user=None) -> Client:
    client = Client()
    client.user = user or UserFactory()
    client.force_login(client.user)
    return client


def _link(playlist) -> str:
    link = PlaylistShareLink.objects.create(playlist=playlist, created_by=playlist.owner)
    return share_token(link.pk)


def test_owner_page_has_the_controls_and_the_live_link_members_see_neither():
    owner = _browser()
    playlist = PlaylistFactory(owner=owner.user, is_collaborative=True,
                               description="Our <b>mix</b>",
                               context={"mood": "not-in-the-vocabulary"})
    token = _link(playlist)
    member = _browser(CollaboratorFactory(playlist=playlist).user)

    page = owner.get(f"/playlists/{playlist.pk}").content.decode()
    assert 'id="rename-btn"' in page and 'id="delete-dialog"' in page
    assert f"/playlists/join/{token}" in page
    assert "Our &lt;b&gt;mix&lt;/b&gt;" in page  # escaped, never markup
    for mood in context_vocabulary()["mood"]:
        assert f'<option value="{mood}"' in page
    # A mood set outside the vocabulary (by an app) stays selected, not silently dropped.
    assert '<option value="not-in-the-vocabulary" selected>' in page

    seen = member.get(f"/playlists/{playlist.pk}").content.decode()
    assert token not in seen and "share-link" not in seen
    assert 'id="rename-btn"' not in seen and 'id="delete-dialog"' not in seen
    assert 'id="pl-mood"' in seen


def test_cards_and_page_show_cover_and_length():
    client = _browser()
    playlist = PlaylistFactory(owner=client.user, name="Mosaic")
    tracks = [TrackFactory(album=f"Album {n}", has_cover=True, duration_ms=60_000)
              for n in range(5)]
    for i, track in enumerate(tracks):
        PlaylistTrackFactory(playlist=playlist, track=track, position=i)
    PlaylistFactory(owner=client.user, name="Empty")

    cards = client.get("/playlists").content.decode()
    assert cards.count("mosaic-4") == 1 and cards.count("mosaic-0") == 1
    for track in tracks[:4]:
        assert f"/api/tracks/{track.pk}/cover?size=small" in cards
    assert f"/api/tracks/{tracks[4].pk}/cover" not in cards
    assert "5 tracks · 5 min" in cards
    page = client.get(f"/playlists/{playlist.pk}").content.decode()
    assert page.count('class="mosaic mosaic-4"') == 1


def test_join_page_asks_strangers_to_sign_in_first():
    playlist = PlaylistFactory(is_collaborative=True)
    token = _link(playlist)
    response = Client().get(f"/playlists/join/{token}")
    assert response.status_code == 302
    assert response["Location"] == f"/signin?next=/playlists/join/{token}"


def test_join_page_joins_on_the_button_only():
    playlist = PlaylistFactory(is_collaborative=True, name="Friday")
    PlaylistTrackFactory(playlist=playlist, position=0)
    token = _link(playlist)
    guest = _browser()
    page = guest.get(f"/playlists/join/{token}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Friday" in body and playlist.owner.username in body and "1 track" in body
    assert "Join playlist" in body
    assert not Collaborator.objects.filter(playlist=playlist, user=guest.user).exists()

    joined = guest.post(f"/playlists/join/{token}")
    assert joined.status_code == 302 and joined["Location"] == f"/playlists/{playlist.pk}"
    assert Collaborator.objects.filter(playlist=playlist, user=guest.user).exists()
    again = guest.get(f"/playlists/join/{token}").content.decode()
    assert "already in this playlist" in again and "Join playlist" not in again
    # The owner opening their own link is a member too.
    assert "already in" in _browser(playlist.owner).get(
        f"/playlists/join/{token}").content.decode()


@pytest.mark.parametrize("case", ["forged", "revoked", "private", "deleted"])
def test_join_page_refuses_dead_links(case):
    playlist = PlaylistFactory(is_collaborative=True)
    token = _link(playlist)
    if case == "forged":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif case == "revoked":
        from django.utils import timezone

        PlaylistShareLink.objects.update(revoked_at=timezone.now())
    elif case == "private":
        playlist.is_collaborative = False
        playlist.save()
    else:
        playlist.delete()
    guest = _browser()
    for response in (guest.get(f"/playlists/join/{token}"),
                     guest.post(f"/playlists/join/{token}")):
        assert response.status_code == 404
        assert "does not work" in response.content.decode()
    assert not Collaborator.objects.filter(user=guest.user).exists()


def test_invite_tokens_stay_out_of_the_access_log(caplog):
    playlist = PlaylistFactory(is_collaborative=True)
    token = _link(playlist)
    with caplog.at_level(logging.INFO, logger="audotics.access"):
        Client().get(f"/playlists/join/{token}")
        _browser().get(f"/playlists/join/{token}")
        Client().get(f"/signin?next=/playlists/join/{token}")
    assert "/playlists/join/[REDACTED]" in caplog.text
    assert token not in caplog.text and token.split(".")[1] not in caplog.text
