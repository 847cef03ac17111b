from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "is_staff", "is_active", "created_at")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "email")
    readonly_fields = ("id", "created_at", "updated_at", "last_login", "date_joined")
    fieldsets = DjangoUserAdmin.fieldsets + (("Audotics", {"fields": ("id", "preferences", "created_at", "updated_at")}),)
