"""Discover's context picker offers exactly the vocabulary the recommendation API accepts."""
from html.parser import HTMLParser

import pytest
from django.test import Client

from mlcore.context import CONTEXT_VOCAB
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class _Selects(HTMLParser):
    """The values of every <option> in the page, per <select name>."""

    def __init__(self):
        super().__init__()
        self.options: dict[str, list[str]] = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._select = attrs["name"]
            self.options[self._select] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


@pytest.fixture
def browser_client():
    client = Client()
    client.user = UserFactory()
    client.force_login(client.user)
    return client


def _offered(client) -> dict[str, list[str]]:
    page = client.get("/discover")
    assert page.status_code == 200
    parser = _Selects()
    parser.feed(page.content.decode())
    # The first option of each ("Any mood", "Now") sends no value at all.
    return {name: [v for v in values if v] for name, values in parser.options.items()}


def test_discover_offers_every_value_of_the_vocabulary_and_nothing_else(browser_client):
    offered = _offered(browser_client)
    assert offered == {key: list(values) for key, values in CONTEXT_VOCAB.items()}
    assert "chill" in offered["mood"] and "melancholic" not in offered["mood"]
    assert {"cooking", "driving"} <= set(offered["activity"])
    assert "dinner" not in offered["activity"]


def test_every_value_discover_offers_is_accepted_by_the_api(browser_client):
    url = f"/api/users/{browser_client.user.pk}/recommendations"
    for key, values in _offered(browser_client).items():
        for value in values:
            listed = browser_client.get(url, {key: value})
            assert listed.status_code == 200, (key, value, listed.content)
            # With an energy range the page asks generate, which validates the same context.
            generated = browser_client.post(
                "/api/playlists/generate",
                {"context": {key: value, "energy": [0.2, 0.8]}, "length": 5},
                content_type="application/json")
            assert generated.status_code == 200, (key, value, generated.content)
