from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from . import crypto
from .models import TokenFamily, TOTPDevice, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """The email is encrypted: it is shown decrypted and searched through its blind index."""

    list_display = ("username", "email", "is_staff", "is_active", "created_at")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username",)
    readonly_fields = ("id", "created_at", "updated_at", "last_login", "date_joined")
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Audotics", {"fields": ("id", "preferences", "created_at", "updated_at")}),
    )

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if "@" in term:
            results |= queryset.filter(email_hash=crypto.email_index(term))
        return results, may_have_duplicates


@admin.register(TokenFamily)
class TokenFamilyAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "created_at", "rotated_at", "revoked_at", "revoked_reason")
    list_filter = ("revoked_reason",)
    search_fields = ("user__username",)
    readonly_fields = ("id", "user", "current_jti", "created_at", "rotated_at")
    raw_id_fields = ("user",)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """Secrets are never shown: staff can only see and remove devices (account recovery)."""

    list_display = ("user", "name", "confirmed", "created_at")
    search_fields = ("user__username",)
    fields = ("user", "name", "confirmed", "created_at")
    readonly_fields = ("user", "name", "created_at")

    def has_add_permission(self, request):
        return False
