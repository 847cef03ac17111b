"""The admin behind the site's own sign-in: no password form of its own.

Django's admin login checked the password alone, so a staff account with TOTP on got an admin
session (and with it the API and /metrics) without its code, and with no rate limit. Here the
admin's login page sends people to /signin, which takes the password and then the code under the
shared login limits (5/min per account, 20/min per IP, the hourly failure cap). Staff without
two-factor authentication are sent to set it up first where STAFF_REQUIRE_TWO_FACTOR is on (the
production default).
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.shortcuts import redirect, render
from django.urls import reverse


def staff_two_factor_missing(*, user) -> bool:
    # Imported on use: this module is loaded with the app registry, before any model.
    from .services import staff_two_factor_missing as missing  # noqa: PLC0415

    return missing(user=user)


class AudoticsAdminSite(admin.AdminSite):
    site_header = "Audotics administration"

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and not staff_two_factor_missing(user=request.user)

    def login(self, request, extra_context=None):
        target = request.GET.get("next") or reverse("admin:index")
        if not target.startswith("/") or target.startswith("//"):
            target = reverse("admin:index")
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('web:signin')}?{urlencode({'next': target})}")
        if user.is_active and user.is_staff and staff_two_factor_missing(user=user):
            return redirect(f"{reverse('web:account')}?{urlencode({'need': 'two_factor'})}#tfa")
        return render(request, "web/forbidden.html", status=403)


class AdminConfig(DjangoAdminConfig):
    default_site = "users.admin_site.AudoticsAdminSite"
