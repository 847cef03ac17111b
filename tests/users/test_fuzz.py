"""Property-based: arbitrary JSON at the accounts endpoints never 500s, always the envelope."""

import json

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

ENDPOINTS = {
    ("post", "/api/users"): ["username", "email", "password"],
    ("post", "/api/auth/token"): ["username", "password", "otp"],
    ("post", "/api/auth/token/refresh"): ["refresh"],
    ("post", "/api/auth/logout"): ["refresh"],
    ("patch", "/api/users/me/preferences"): ["genres", "moods", "energy", "explicitContent"],
    ("post", "/api/users/me/password"): ["currentPassword", "newPassword"],
    ("post", "/api/auth/2fa/confirm"): ["otp"],
    ("post", "/api/auth/2fa/disable"): ["password", "otp"],
}
endpoints = st.sampled_from(sorted(ENDPOINTS))


def shaped_bodies(keys):
    return st.fixed_dictionaries({}, optional={k: json_values for k in keys})


@st.composite
def requests(draw):
    endpoint = draw(endpoints)
    body = draw(
        st.one_of(
            json_values.map(json.dumps),
            shaped_bodies(ENDPOINTS[endpoint]).map(json.dumps),
            st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
        )
    )
    return endpoint, body


def _reset_counters():
    """Each example starts with fresh rate-limit counters (same reset as tests/conftest.py)."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


def _assert_envelope_or_success(response):
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}
        assert isinstance(body["error"]["code"], str)
        assert isinstance(body["error"]["message"], str)
        if "fields" in body["error"]:
            assert isinstance(body["error"]["fields"], dict)


@HYPOTHESIS
@given(request=requests())
def test_anonymous_requests_never_500(request):
    _reset_counters()
    (method, url), body = request
    response = getattr(APIClient(), method)(url, body, content_type="application/json")
    _assert_envelope_or_success(response)


@HYPOTHESIS
@given(request=requests())
def test_authenticated_requests_never_500(user, request):
    _reset_counters()
    (method, url), body = request
    client = APIClient()
    client.force_authenticate(user)
    response = getattr(client, method)(url, body, content_type="application/json")
    _assert_envelope_or_success(response)
    if response.status_code == 204 and url.endswith("/password"):
        user.refresh_from_db()
