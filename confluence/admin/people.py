"""Admin for what ctx| keeps about people and tokens: the personal data reports per site, the accounts Atlassian
reported closed or changed, the cached display names of mentioned people, and the Forge tokens already used.
All read-only: the schedules and the sync write them; staff look, filter and search."""

from __future__ import annotations

from django.contrib import admin

from confluence.models import ForgeTokenUse, KnownPerson, PersonalDataReport, ReportedAccount
from connectors.admin_permissions import ReadOnly


@admin.register(PersonalDataReport)
class PersonalDataReportAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["cloud_id", "reported_at", "cycle_seconds", "retry_at", "accounts", "closed", "updated", "error"]
    search_fields = ["cloud_id", "error"]
    date_hierarchy = "reported_at"


@admin.register(ReportedAccount)
class ReportedAccountAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["account_id", "closed_at", "profile_read_at"]
    list_filter = [("closed_at", admin.EmptyFieldListFilter)]
    search_fields = ["account_id"]


@admin.register(KnownPerson)
class KnownPersonAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["display_name", "account_id", "cloud_id", "account_status", "account_type", "read_at"]
    list_filter = ["account_status", "account_type"]
    search_fields = ["display_name", "account_id", "cloud_id"]


@admin.register(ForgeTokenUse)
class ForgeTokenUseAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["token_id", "used_at", "expires_at"]
    search_fields = ["token_id", "body_sha256"]
    date_hierarchy = "used_at"
