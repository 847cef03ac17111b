"""liblistenbrainz, a ListenBrainz client nobody here wrote, pointed at a live Audotics server
(daphne on the test database): it validates its token and submits single, playing-now and import
listens, exactly as it would to api.listenbrainz.org."""
import time

import pytest

from listening.models import Listen
from recommendations.models import Interaction
from tests.collaboration.live import access_token, asgi_servers, live_database_url, rest
from tests.factories import TrackFactory, UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_liblistenbrainz_submits_to_a_live_server():
    from liblistenbrainz import Listen as LbListen
    from liblistenbrainz import ListenBrainz
    from liblistenbrainz.errors import InvalidAuthTokenException, ListenBrainzAPIException

    db_url = live_database_url()
    user = UserFactory()
    halo = TrackFactory(external_id="cat-halo", artist="Beyonce", title="Halo",
                        duration_ms=261_000)
    with asgi_servers(1, db_url=db_url) as (url,):
        status, body, _ = rest("POST", url + "/api/users/me/listen-tokens", access_token(user),
                               {"name": "liblistenbrainz"})
        assert status == 201
        client = ListenBrainz(api_base_url=url)
        with pytest.raises(InvalidAuthTokenException):
            client.set_auth_token("00000000-0000-4000-8000-000000000000")
        client.set_auth_token(body["token"])  # checks it with GET /1/validate-token

        now = int(time.time())
        single = LbListen(track_name="Halo - Remastered", artist_name="Beyoncé",
                          listened_at=now - 300, release_name="I Am... Sasha Fierce",
                          additional_info={"submission_client": "liblistenbrainz test",
                                           "duration_ms": 261_000})
        assert client.submit_single_listen(single) == {"status": "ok"}
        assert client.submit_playing_now(
            LbListen(track_name="Airbag", artist_name="Radiohead")) == {"status": "ok"}
        history = [LbListen(track_name=f"Old Song {i}", artist_name="Old Band",
                            listened_at=now - 86_400 - 600 * i,
                            recording_mbid=f"8f9a8b2c-1111-4c0e-9c1d-{i:012d}")
                   for i in range(50)]
        assert client.submit_multiple_listens(history) == {"status": "ok"}
        assert client.remaining_requests is not None  # it read our X-RateLimit headers
        with pytest.raises(ListenBrainzAPIException) as refused:
            client.submit_single_listen(LbListen(track_name="Late", artist_name="Future",
                                                 listened_at=now + 86_400))
        assert refused.value.status_code == 400
        assert "too high" in refused.value.message

    stored = Listen.objects.filter(user=user)
    assert stored.count() == 51  # playing_now is not a listen
    first = stored.get(track=halo)  # matched to the catalog despite the spelling
    assert (first.source, first.client) == ("scrobble", "liblistenbrainz test")
    assert stored.filter(track__external_id__startswith="mbid:").count() == 50
    assert Interaction.objects.filter(user=user, type="play").count() == 51
