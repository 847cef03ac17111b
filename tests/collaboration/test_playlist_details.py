"""Members see the owner's edits to a playlist's details live, and a newcomer by invite link;
the SNAPSHOT brings the details to a page that reconnects."""
import pytest
from channels.db import database_sync_to_async

from playlists import services
from playlists.share_tokens import share_token
from tests.collaboration.conftest import connect, receive_until
from tests.factories import CollaboratorFactory, PlaylistFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def _setup():
    playlist = PlaylistFactory(is_collaborative=True, name="Before", description="Old")
    return playlist, playlist.owner, CollaboratorFactory(playlist=playlist).user


async def test_description_and_name_reach_members_live():
    playlist, owner, member = await db(_setup)()
    ws = await connect(member, playlist.pk)
    snapshot = await receive_until(ws, "SNAPSHOT")
    assert snapshot["playlist"]["name"] == "Before"
    assert snapshot["playlist"]["description"] == "Old"
    assert snapshot["playlist"]["isCollaborative"] is True
    assert [c["username"] for c in snapshot["playlist"]["collaborators"]] == [member.username]

    await db(services.playlist_update)(playlist=playlist.pk, user=owner, name="After",
                                       description="New\nlines", context={"time_of_day": "night"})
    event = await receive_until(ws, "PLAYLIST_UPDATED")
    assert event["version"] == 1 and event["userId"] == str(owner.pk)
    assert event["data"] == {"name": "After", "description": "New\nlines",
                             "context": {"timeOfDay": "night"}}
    await ws.disconnect()


async def test_joining_by_link_reaches_members_live():
    playlist, owner, member = await db(_setup)()
    link, _ = await db(services.share_link_create)(playlist=playlist.pk, user=owner)
    ws = await connect(member, playlist.pk)
    await receive_until(ws, "SNAPSHOT")
    newcomer = await db(UserFactory)()
    _, joined = await db(services.share_link_join)(token=share_token(link.pk), user=newcomer)
    assert joined
    event = await receive_until(ws, "PLAYLIST_UPDATED")
    assert event["userId"] == str(newcomer.pk)
    assert event["data"]["collaboratorAdded"]["username"] == newcomer.username
    # The newcomer may now connect like any member.
    theirs = await connect(newcomer, playlist.pk)
    assert (await receive_until(theirs, "SNAPSHOT"))["version"] == 1
    await theirs.disconnect()
    await ws.disconnect()
