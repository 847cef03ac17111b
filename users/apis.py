"""Accounts and auth API (SPEC.md §4): one APIView per operation."""

from __future__ import annotations

import math

from django.contrib.auth import logout, update_session_auth_hash
from django.core.validators import RegexValidator
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import ratelimit, selectors, services
from .selectors import USER_SEARCH_MIN_LENGTH
from .services.accounts import USERNAME_RE
from .services.ws_tickets import WS_TICKET_TTL

_sensitive = method_decorator(
    sensitive_post_parameters("password", "current_password", "new_password", "otp", "refresh"),
    name="dispatch",
)  # a class decorator: keeps secrets out of error reports


# Strict scalar fields: JSON types are not coerced (no "1" for 1, no 1 for true, no NaN).
class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if not math.isfinite(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Rejects keys it does not know, naming them (as the client spelled them)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(k) for k in set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({str(k): ["Unknown field."] for k in unknown})
        return super().to_internal_value(data)


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    email = serializers.CharField()
    preferences = serializers.JSONField()
    created_at = serializers.DateTimeField()


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


def _user_response(user, code=status.HTTP_200_OK) -> Response:
    return Response(UserOutputSerializer(user).data, status=code)


@_sensitive
class UserCreateApi(APIView):
    token_scope = None  # not for other applications (users/scopes.py)
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(StrictSerializer):
        # The schema states the rules the service enforces (users/services/accounts.py), so
        # generated clients and fuzzers send what is accepted.
        username = StrictCharField(min_length=3, max_length=50, validators=[
            RegexValidator(USERNAME_RE, "3-50 letters, digits, dots, underscores or hyphens.")])
        email = StrictEmailField(max_length=254)
        password = StrictCharField(min_length=8, max_length=4096, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={201: UserOutputSerializer})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ratelimit.signup_check(request)
        user = services.user_create(**serializer.validated_data)
        return _user_response(user, status.HTTP_201_CREATED)


@_sensitive
class UserMeApi(APIView):
    """`GET /api/users/me`; `DELETE /api/users/me` {password, otp?}: delete the account."""

    token_scope = {"GET": "profile"}
    permission_classes = [IsAuthenticated]

    class DeleteSerializer(StrictSerializer):
        password = StrictCharField(max_length=4096, trim_whitespace=False)
        otp = StrictCharField(max_length=16, required=False)

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request):
        return _user_response(request.user)

    @extend_schema(request=DeleteSerializer, responses={204: None})
    def delete(self, request):
        serializer = self.DeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ratelimit.otp_check(request, user_id=str(request.user.pk))
        services.account_delete(user=request.user, **serializer.validated_data)
        logout(request._request)  # a browser session of the account ends with it
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserSearchApi(APIView):
    """`GET /api/users/search?q=`: people to invite, by the start of their username."""

    # Not for other applications: a list of accounts is for this site's invite box only.
    token_scope = None
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(min_length=USER_SEARCH_MIN_LENGTH, max_length=50)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "UserSearchResult"

        id = serializers.UUIDField()
        username = serializers.CharField()

    @extend_schema(parameters=[FilterSerializer],
                   responses=inline_serializer("UserSearchResults", {
                       "results": OutputSerializer(many=True)}))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        ratelimit.user_search_check(request, user_id=str(request.user.pk))
        found = selectors.user_search(query=filters.validated_data["q"],
                                      exclude_user_id=request.user.pk)
        return Response({"results": self.OutputSerializer(found, many=True).data})


class UserPreferencesUpdateApi(APIView):
    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    class InputSerializer(StrictSerializer):
        genres = serializers.ListField(child=StrictCharField(max_length=100), max_length=100)
        moods = serializers.ListField(child=StrictCharField(max_length=100), max_length=100)
        energy = StrictFloatField(min_value=0.0, max_value=1.0)
        explicit_content = StrictBooleanField()

    @extend_schema(request=InputSerializer, responses=UserOutputSerializer)
    def patch(self, request):
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_preferences_update(
            user=request.user, data=dict(serializer.validated_data)
        )
        return _user_response(user)


@_sensitive
class UserPasswordChangeApi(APIView):
    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    class InputSerializer(StrictSerializer):
        current_password = StrictCharField(max_length=4096, trim_whitespace=False)
        new_password = StrictCharField(max_length=4096, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_password_change(user=request.user, **serializer.validated_data)
        if getattr(request, "session", None) is not None and request.session.session_key:
            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@_sensitive
class TokenObtainApi(APIView):
    token_scope = None  # not for other applications (users/scopes.py)
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(StrictSerializer):
        username = StrictCharField(max_length=254)
        password = StrictCharField(max_length=4096, trim_whitespace=False)
        otp = StrictCharField(max_length=16, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses=TokenPairOutputSerializer)
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        pair = services.token_obtain(
            request=request,
            identifier=data["username"],
            password=data["password"],
            otp=data.get("otp") or None,
        )
        return Response(TokenPairOutputSerializer(pair).data)


@_sensitive
class TokenRefreshApi(APIView):
    token_scope = None  # not for other applications (users/scopes.py)
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(StrictSerializer):
        refresh = StrictCharField(max_length=4096)

    @extend_schema(request=InputSerializer, responses=TokenPairOutputSerializer)
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.token_refresh(refresh=serializer.validated_data["refresh"])
        return Response(TokenPairOutputSerializer(pair).data)


@_sensitive
class LogoutApi(APIView):
    token_scope = None  # not for other applications (users/scopes.py)
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(StrictSerializer):
        refresh = StrictCharField(max_length=4096)

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refresh_token_revoke(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@_sensitive
class TwoFactorSetupApi(APIView):
    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    class InputSerializer(StrictSerializer):
        password = StrictCharField(max_length=4096, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        otpauth_uri = serializers.CharField()
        qr_svg = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ratelimit.otp_check(request, user_id=str(request.user.pk))  # password guesses too
        result = services.two_factor_setup(user=request.user, **serializer.validated_data)
        return Response(self.OutputSerializer(result).data)


_ENABLED = inline_serializer("TwoFactorStatus", {"enabled": serializers.BooleanField()})


@_sensitive
class TwoFactorConfirmApi(APIView):
    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    class InputSerializer(StrictSerializer):
        otp = StrictCharField(max_length=16)

    @extend_schema(request=InputSerializer, responses=inline_serializer("TwoFactorEnabled", {
        "enabled": serializers.BooleanField(),
        "recovery_codes": serializers.ListField(child=serializers.CharField())}))
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ratelimit.otp_check(request, user_id=str(request.user.pk))
        codes = services.two_factor_confirm(user=request.user,
                                            otp=serializer.validated_data["otp"])
        return Response({"enabled": True, "recovery_codes": codes})


@_sensitive
class TwoFactorDisableApi(APIView):
    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    class InputSerializer(StrictSerializer):
        password = StrictCharField(max_length=4096, trim_whitespace=False)
        otp = StrictCharField(max_length=16)

    @extend_schema(request=InputSerializer, responses=_ENABLED)
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ratelimit.otp_check(request, user_id=str(request.user.pk))
        services.two_factor_disable(user=request.user, **serializer.validated_data)
        return Response({"enabled": False})


class WsTicketCreateApi(APIView):
    token_scope = {"POST": "playlists:read"}
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        ticket = serializers.CharField()
        expires_in = serializers.IntegerField()

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request):
        ticket = services.ws_ticket_create(user=request.user)
        return Response(self.OutputSerializer({"ticket": ticket, "expires_in": WS_TICKET_TTL}).data)


def schema_names(namespace: dict) -> None:
    """Nested serializers share names (InputSerializer): give each an OpenAPI-unique ref_name."""
    for api in list(namespace.values()):
        if isinstance(api, type) and issubclass(api, APIView) and api.__name__.endswith("Api"):
            for attr, suffix in (("InputSerializer", "Input"), ("OutputSerializer", "Output")):
                serializer = api.__dict__.get(attr)
                if serializer is not None:
                    serializer.Meta = type("Meta", (), {"ref_name": api.__name__[:-3] + suffix})


schema_names(globals())
