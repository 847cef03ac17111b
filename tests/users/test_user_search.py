"""Finding people to invite: active accounts by the start of their username, only id and name,
never yourself, at least two characters, rate limited."""
import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def searcher():
    client = APIClient()
    client.user = UserFactory(username="demo_me")
    client.force_authenticate(user=client.user)
    return client


def _names(response):
    assert response.status_code == 200, response.content
    return [u["username"] for u in response.json()["results"]]


def test_search_by_prefix_any_case_shortest_first(searcher):
    for name in ["Demo2", "demo10", "demolition", "ademo", "dem"]:
        UserFactory(username=name)
    UserFactory(username="demo_gone", is_active=False)
    unusable = UserFactory(username="demo_imported")
    unusable.set_unusable_password()
    unusable.save()
    response = searcher.get("/api/users/search?q=DEM")
    assert _names(response) == ["dem", "Demo2", "demo10", "demolition"]
    assert set(response.json()["results"][0]) == {"id", "username"}  # nothing else leaks
    assert _names(searcher.get("/api/users/search?q=demo_")) == []  # not yourself
    assert _names(searcher.get("/api/users/search?q=zz")) == []
    # LIKE wildcards are plain characters.
    assert _names(searcher.get("/api/users/search?q=d%25")) == []


def test_search_lists_at_most_ten(searcher):
    for n in range(15):
        UserFactory(username=f"many{n:02d}")
    assert len(_names(searcher.get("/api/users/search?q=ma"))) == 10


def test_search_refuses_short_long_or_missing_queries_and_strangers(searcher):
    for query in ["", "?q=", "?q=d", "?q=%20d%20", "?q=" + "x" * 51]:
        response = searcher.get("/api/users/search" + query)
        assert response.status_code == 400, (query, response.content)
        assert response.json()["error"]["code"] == "validation_error"
    anonymous = APIClient().get("/api/users/search?q=demo")
    assert anonymous.status_code == 401 and "error" in anonymous.json()


def test_search_is_rate_limited_per_user(searcher, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "user_search_per_user": "3/m"}
    for _ in range(3):
        assert searcher.get("/api/users/search?q=de").status_code == 200
    limited = searcher.get("/api/users/search?q=de")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    other = APIClient()
    other.force_authenticate(user=UserFactory())
    assert other.get("/api/users/search?q=de").status_code == 200
