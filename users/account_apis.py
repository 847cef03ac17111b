"""The account's own data and sign-ins (SPEC.md §4, issue 17): export, email change, sign-ins,
password reset and 2FA recovery codes. The sign-up, token and 2FA APIs are in users/apis.py."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import ratelimit, services
from .apis import (
    StrictCharField,
    StrictEmailField,
    StrictSerializer,
    UserOutputSerializer,
    _sensitive,
    _user_response,
    schema_names,
)


class UserExportApi(APIView):
    """`GET /api/users/me/export`: everything about the caller, as a zip of JSON files."""

    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request):
        response = HttpResponse(services.account_export(user=request.user),
                                content_type="application/zip")
        stamp = timezone.now().strftime("%Y%m%d")
        response["Content-Disposition"] = (
            f'attachment; filename="audotics-{request.user.username}-{stamp}.zip"')
        return response

@_sensitive
class EmailChangeApi(APIView):
    """`POST /api/users/me/email` {email, password}: 202, a confirmation link goes to the new
    address; `POST /api/users/me/email/confirm` {token} applies it (200 `User`)."""

    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    class InputSerializer(StrictSerializer):
        email = StrictEmailField(max_length=254)
        password = StrictCharField(max_length=4096, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={202: None})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.email_change_request(user=request.user, site_url=request.build_absolute_uri("/"),
                                      **serializer.validated_data)
        return Response(status=status.HTTP_202_ACCEPTED)

class EmailChangeConfirmApi(APIView):
    token_scope = None  # not for other applications (users/scopes.py)
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(StrictSerializer):
        token = StrictCharField(max_length=1000)

    @extend_schema(request=InputSerializer, responses=UserOutputSerializer)
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _user_response(services.email_change_confirm(**serializer.validated_data))

class SessionListApi(APIView):
    """`GET /api/users/me/sessions`: where the account is signed in (API logins, browsers,
    connected apps)."""

    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SignIn"

        id = serializers.CharField()
        kind = serializers.ChoiceField(choices=["token", "browser", "oauth"])
        client = serializers.CharField()
        created_at = serializers.DateTimeField()
        last_used_at = serializers.DateTimeField(allow_null=True)
        current = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        rows = services.sessions_list(user=request.user, request=request)
        return Response(self.OutputSerializer(rows, many=True).data)

class SessionDeleteApi(APIView):
    """`DELETE /api/users/me/sessions/{id}`: end one sign-in (204)."""

    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, session_id: str):
        services.session_end(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

class PasswordResetApi(APIView):
    """`POST /api/auth/password-reset` {email}: 202 whether or not the address has an account;
    if it does, a link valid one hour goes to it."""

    token_scope = None  # not for other applications (users/scopes.py)
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(StrictSerializer):
        email = StrictEmailField(max_length=254)

    @extend_schema(request=InputSerializer, responses={202: None})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ratelimit.password_reset_check(request)
        services.password_reset_request(email=serializer.validated_data["email"],
                                        site_url=request.build_absolute_uri("/"))
        return Response(status=status.HTTP_202_ACCEPTED)

@_sensitive
class PasswordResetConfirmApi(APIView):
    """`POST /api/auth/password-reset/confirm` {uid, token, password}: 204, the link is spent
    and every sign-in of the account ends."""

    token_scope = None  # not for other applications (users/scopes.py)
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(StrictSerializer):
        uid = StrictCharField(max_length=64)
        token = StrictCharField(max_length=128)
        password = StrictCharField(min_length=8, max_length=4096, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

@_sensitive
class RecoveryCodesRenewApi(APIView):
    """`POST /api/auth/2fa/recovery-codes` {password, otp}: ten new single-use codes, shown
    once; the earlier ones die."""

    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    class InputSerializer(StrictSerializer):
        password = StrictCharField(max_length=4096, trim_whitespace=False)
        otp = StrictCharField(max_length=16)

    @extend_schema(request=InputSerializer, responses=inline_serializer(
        "RecoveryCodes", {"codes": serializers.ListField(child=serializers.CharField())}))
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ratelimit.otp_check(request, user_id=str(request.user.pk))
        return Response({"codes": services.recovery_codes_renew(
            user=request.user, **serializer.validated_data)})


schema_names(globals())
