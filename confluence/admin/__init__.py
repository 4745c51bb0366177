"""The operators' console for Confluence connections: sites and grants (secrets never shown), targets, scopes."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from confluence.admin import people, runs  # noqa: F401  (they register their models)
from confluence.forge import handle
from confluence.models import (
    AtlassianSite,
    ForgeInstallation,
    PendingAtlassianLink,
    SyncRun,
    SyncScope,
    SyncTarget,
    WebhookEvent,
)
from confluence.setup import steps
from confluence.sync.queue import NotReady, enqueue_sync
from connectors.admin_permissions import NoAdding, ReadOnly


@admin.register(AtlassianSite)
class AtlassianSiteAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "connection", "account_name", "grant_status", "refreshed_at"]
    list_filter = ["grant_status"]
    search_fields = ["name", "url", "cloud_id", "account_id", "account_email", "connection__org__slug"]
    raw_id_fields = ["connection", "linked_by"]
    list_select_related = ["connection", "connection__org"]
    # Tokens are secrets: never rendered, not even masked.
    exclude = ["access_token", "refresh_token"]
    readonly_fields = [
        "cloud_id",
        "account_id",
        "account_name",
        "account_email",
        "access_expires_at",
        "scopes",
        "grant_status",
        "grant_detail",
        "refreshed_at",
        "linked_at",
    ]
    fields = ["connection", "name", "url", "forge_install_url", *readonly_fields, "linked_by"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        steps.sync_forge_step(obj.connection)


@admin.register(ForgeInstallation)
class ForgeInstallationAdmin(admin.ModelAdmin):
    list_display = ["cloud_id", "installation_id", "installed_at", "uninstalled_at", "updated_at"]
    list_filter = [("uninstalled_at", admin.EmptyFieldListFilter)]
    search_fields = ["cloud_id", "installation_id"]
    readonly_fields = ["updated_at"]


class SyncTargetForm(forms.ModelForm):
    """Staff may point a connection at any repository, except one another connection writes to."""

    class Meta:
        model = SyncTarget
        fields = [
            "connection",
            "repository",
            "public_confirmed_by",
            "public_confirmed_at",
            "selected_by",
            "selected_at",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and "repository" in self.changed_data and "public_confirmed_at" not in self.changed_data:
            # A confirmation that pages will be public was given for the repository it named, not for this one.
            cleaned["public_confirmed_by"], cleaned["public_confirmed_at"] = None, None
        return cleaned

    def clean_repository(self):
        repository = self.cleaned_data["repository"]
        other = SyncTarget.objects.filter(repository=repository).exclude(pk=self.instance.pk).first()
        if other is not None:
            holder = other.connection
            raise forms.ValidationError(
                f"{repository.full_name} is written by {holder.name} (connection {holder.pk} of {holder.org}). "
                "A repository has one writer: choose another repository, or delete that connection's target first."
            )
        return repository


@admin.register(SyncTarget)
class SyncTargetAdmin(admin.ModelAdmin):
    form = SyncTargetForm
    list_display = ["connection", "repository", "selected_by", "selected_at", "public_confirmed_at"]
    search_fields = ["connection__name", "connection__org__slug", "repository__full_name"]
    raw_id_fields = ["connection", "repository", "selected_by", "public_confirmed_by"]
    list_select_related = ["connection__org", "repository", "selected_by"]

    def get_readonly_fields(self, request, obj=None):
        # A target belongs to its connection: staff change the repository, never move the row to another connection.
        return ["connection"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        previous = SyncTarget.objects.filter(pk=obj.pk).select_related("repository").first() if change else None
        super().save_model(request, obj, form, change)
        steps.use_repository(
            obj.connection, obj.repository, previous=previous.repository if previous else None, user=request.user
        )


@admin.register(SyncScope)
class SyncScopeAdmin(admin.ModelAdmin):
    list_display = ["connection", "summary_text", "include_restricted", "updated_by", "updated_at"]
    list_filter = ["include_restricted"]
    search_fields = ["connection__name", "connection__org__slug"]
    raw_id_fields = ["connection", "updated_by"]
    list_select_related = ["connection__org", "updated_by"]

    @admin.display(description="Scope")
    def summary_text(self, obj: SyncScope) -> str:
        return obj.summary()

    def save_model(self, request, obj, form, change):
        # A scope changed by staff syncs like one changed in the wizard, once the connection can sync.
        super().save_model(request, obj, form, change)
        try:
            enqueue_sync(obj.connection, trigger=SyncRun.Trigger.ADMIN)
        except NotReady as refused:
            self.message_user(request, f"No sync queued: {refused.problem.message}.", messages.WARNING)


@admin.register(PendingAtlassianLink)
class PendingAtlassianLinkAdmin(NoAdding, admin.ModelAdmin):
    list_display = ["user", "account_name", "account_id", "created_at"]
    search_fields = ["user__email", "account_id", "account_name"]
    exclude = ["access_token", "refresh_token"]
    readonly_fields = [
        "user",
        "account_id",
        "account_name",
        "account_email",
        "access_expires_at",
        "scopes",
        "sites",
        "created_at",
    ]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnly, admin.ModelAdmin):
    """Every authentic Forge delivery, read-only; "replay" applies an event again through the same task."""

    list_display = ["received_at", "event_type", "content_id", "space_key", "cloud_id", "status", "processed_at"]
    list_filter = ["status", "event_type", "cloud_id"]
    search_fields = ["content_id", "space_key", "cloud_id", "dedupe_key"]
    date_hierarchy = "received_at"
    actions = ["replay"]
    fields = [
        "received_at",
        "event_type",
        "cloud_id",
        "content_id",
        "content_type",
        "space_key",
        "status",
        "detail",
        "processed_at",
        "run_links",
        "dedupe_key",
        "pretty_payload",
    ]
    readonly_fields = fields

    @admin.display(description="Payload")
    def pretty_payload(self, obj: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    @admin.display(description="Runs")
    def run_links(self, obj: WebhookEvent) -> str:
        linked = obj.runs.all()
        if not linked:
            return "—"
        return format_html_join(", ", '<a href="{}">#{}</a> ({})', ((_run_url(r.id), r.id, r.status) for r in linked))

    @admin.action(description="Replay: apply the selected events again")
    def replay(self, request, queryset) -> None:
        for event in queryset:
            handle.replay(event)
        self.message_user(request, f"Replaying {queryset.count()} event(s); their runs are queued.")


def _run_url(run_id: int) -> str:
    try:
        return reverse("admin:confluence_syncrun_change", args=[run_id])
    except NoReverseMatch:  # the SyncRun admin is not registered (yet)
        return "#"
