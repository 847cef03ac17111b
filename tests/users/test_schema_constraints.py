"""The OpenAPI schema states the rules the server enforces, so generated clients send what is
accepted (issue 17)."""
import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_sign_up_fields_state_their_real_constraints():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    fields = schema["components"]["schemas"]["UserCreateInputRequest"]
    props = fields["properties"]
    assert set(fields["required"]) == {"username", "email", "password"}
    assert props["username"]["pattern"] == "^[A-Za-z0-9._-]{3,50}$"
    assert (props["username"]["minLength"], props["username"]["maxLength"]) == (3, 50)
    assert props["email"]["format"] == "email"
    assert props["password"]["minLength"] == 8
    assert "oauth2" in schema["components"]["securitySchemes"]
