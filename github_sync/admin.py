"""The operators' console for GitHub installations, repositories, ingestion, webhooks and API keys."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from connectors.admin_permissions import NoAdding
from github_sync import webhooks
from github_sync.installations import InstallationInUse, remove_installation
from github_sync.models import (
    ApiKey,
    Document,
    GitHubIdentity,
    IngestRun,
    Installation,
    InstallationRequest,
    Repository,
    Section,
    Source,
    WebhookDelivery,
)
from github_sync.tasks import enqueue_ingest


class RepositoryInline(admin.TabularInline):
    model = Repository
    extra = 0
    fields = ["full_name", "default_branch", "private", "accessible", "updated_at"]
    readonly_fields = ["full_name", "updated_at"]
    show_change_link = True


@admin.register(Installation)
class InstallationAdmin(admin.ModelAdmin):
    list_display = ["account_login", "installation_id", "org", "status", "repository_selection", "updated_at"]
    list_filter = ["status", "account_type", "repository_selection"]
    search_fields = ["account_login", "installation_id", "org__name", "org__slug"]
    raw_id_fields = ["org", "created_by"]
    list_select_related = ["org"]
    # What GitHub says of an installation (its webhooks keep these), read-only once the row exists: editing the id
    # would hand this organization another account's installation. Staff adding one by hand name it.
    from_github = ["installation_id", "account_login", "account_type", "repository_selection"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [RepositoryInline]
    actions = ["remove_from_organization"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [*self.from_github, *self.readonly_fields] if obj else self.readonly_fields

    @admin.action(description="Remove from its organization (stays installed on GitHub)")
    def remove_from_organization(self, request, queryset) -> None:
        removed = 0
        for installation in queryset.select_related("org"):
            try:
                remove_installation(installation)
            except InstallationInUse as refused:
                self.message_user(request, str(refused), messages.ERROR)
            else:
                removed += 1
        self.message_user(request, f"Removed {removed} installation(s) from their organizations.", messages.SUCCESS)


@admin.register(InstallationRequest)
class InstallationRequestAdmin(admin.ModelAdmin):
    list_display = ["requester_login", "account_login", "org", "connection", "created_at", "fulfilled_at"]
    list_filter = [("fulfilled_at", admin.EmptyFieldListFilter)]
    search_fields = ["requester_login", "account_login", "org__name", "org__slug"]
    raw_id_fields = ["org", "connection", "requested_by", "installation"]
    list_select_related = ["org", "connection__org"]


class SourceInline(admin.TabularInline):
    model = Source
    extra = 0
    raw_id_fields = ["connection", "created_by"]
    readonly_fields = ["created_at"]


class IngestRunInline(NoAdding, admin.TabularInline):
    model = IngestRun
    extra = 0
    fields = ["created_at", "trigger", "commit_sha", "status", "added", "changed", "removed", "blobs_fetched", "error"]
    readonly_fields = fields
    show_change_link = True
    classes = ["collapse"]

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at")


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["full_name", "installation", "default_branch", "accessible", "last_ingest", "status_detail"]
    list_filter = ["private", "archived", "accessible"]
    search_fields = ["full_name", "installation__account_login", "installation__org__slug"]
    raw_id_fields = ["installation"]
    list_select_related = ["installation"]
    readonly_fields = ["github_id", "ingested_sha", "ingested_at", "created_at", "updated_at"]
    inlines = [SourceInline, IngestRunInline]
    actions = ["reingest"]

    @admin.display(description="Last ingest", ordering="ingested_at")
    def last_ingest(self, obj: Repository) -> str:
        if not obj.ingested_at:
            return "never"
        return f"{obj.ingested_at:%Y-%m-%d %H:%M} · {obj.ingested_sha[:12]}"

    @admin.action(description="Re-ingest the default branch (checks every file, fetches what changed)")
    def reingest(self, request, queryset) -> None:
        runs = [enqueue_ingest(repository, None, trigger="admin") for repository in queryset]
        self.message_user(request, f"Queued {len(runs)} ingestion run(s).")


@admin.register(IngestRun)
class IngestRunAdmin(NoAdding, admin.ModelAdmin):
    list_display = [
        "id",
        "repository",
        "trigger",
        "status",
        "short_commit",
        "added",
        "changed",
        "removed",
        "unchanged",
        "skipped",
        "blobs_fetched",
        "github_requests",
        "warning_count",
        "duration_seconds",
        "created_at",
    ]
    list_filter = ["status", "trigger"]
    search_fields = ["repository__full_name", "commit_sha", "error"]
    list_select_related = ["repository"]
    date_hierarchy = "created_at"
    # The warnings show as a list rather than as raw JSON.
    exclude = ["warnings"]
    readonly_fields = [f.name for f in IngestRun._meta.fields if f.name != "warnings"] + ["warning_list"]

    @admin.display(description="Commit")
    def short_commit(self, obj: IngestRun) -> str:
        return obj.commit_sha[:12] or "tip"

    @admin.display(description="Warnings")
    def warning_count(self, obj: IngestRun) -> str:
        count = len(obj.warnings)
        return f"{count}+" if count >= IngestRun.MAX_WARNINGS else str(count)

    @admin.display(description="Warnings")
    def warning_list(self, obj: IngestRun) -> str:
        if not obj.warnings:
            return "none"
        items = format_html_join("", "<li><code>{}</code>: {}</li>", ((w["path"], w["reason"]) for w in obj.warnings))
        return format_html("<ul>{}</ul>", items)


class SectionInline(NoAdding, admin.TabularInline):
    model = Section
    extra = 0
    fields = ["position", "heading_path", "anchor", "text"]
    readonly_fields = fields
    classes = ["collapse"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["path", "repository", "title", "size", "short_commit", "updated_at"]
    list_filter = ["repository"]
    search_fields = ["path", "title", "repository__full_name", "source_url"]
    list_select_related = ["repository"]
    raw_id_fields = ["repository"]
    readonly_fields = ["repository", "path", "blob_sha", "commit_sha", "size", "updated_at", "source_url"]
    inlines = [SectionInline]

    @admin.display(description="Commit")
    def short_commit(self, obj: Document) -> str:
        return obj.commit_sha[:12]

    def get_queryset(self, request):
        # The list never shows the text, and documents can be large.
        return super().get_queryset(request).defer("text")


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["repository", "connection", "created_at"]
    search_fields = ["repository__full_name", "connection__name", "connection__org__slug"]
    raw_id_fields = ["repository", "connection", "created_by"]
    list_select_related = ["repository", "connection__org"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(NoAdding, admin.ModelAdmin):
    list_display = ["received_at", "event", "action", "status", "installation_id", "delivery_id"]
    list_filter = ["status", "event"]
    search_fields = ["delivery_id", "event", "detail", "installation_id"]
    date_hierarchy = "received_at"
    exclude = ["headers", "payload"]
    readonly_fields = [
        "delivery_id",
        "event",
        "action",
        "installation_id",
        "status",
        "detail",
        "received_at",
        "processed_at",
        "pretty_headers",
        "pretty_payload",
    ]
    actions = ["process_again"]

    @admin.display(description="Headers")
    def pretty_headers(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2, sort_keys=True))

    @admin.display(description="Payload")
    def pretty_payload(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    @admin.action(description="Process again")
    def process_again(self, request, queryset) -> None:
        for delivery in queryset:
            webhooks.process(delivery)
        self.message_user(request, f"Processed {queryset.count()} deliveries again.")


@admin.register(ApiKey)
class ApiKeyAdmin(NoAdding, admin.ModelAdmin):
    # No adding: keys are created in the web app, where the key is shown once
    list_display = ["name", "org", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "org__slug", "org__name"]
    raw_id_fields = ["org", "created_by"]
    list_select_related = ["org"]
    # Only a hash is stored, but it has no use on screen either.
    exclude = ["hashed_key"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    actions = ["revoke"]

    @admin.action(description="Revoke")
    def revoke(self, request, queryset) -> None:
        for key in queryset.filter(revoked_at=None):
            key.revoke()


@admin.register(GitHubIdentity)
class GitHubIdentityAdmin(admin.ModelAdmin):
    list_display = ["login", "user", "token_expires_at", "updated_at"]
    search_fields = ["login", "user__email"]
    raw_id_fields = ["user"]
    # The user token is a secret: never rendered, not even masked in a form field.
    exclude = ["access_token"]
    readonly_fields = ["login", "github_user_id", "token_expires_at", "updated_at"]
