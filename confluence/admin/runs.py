"""Admin for sync runs and sync state: every run is readable, and re-running calls the app's own enqueue_sync."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from confluence.models import SyncRun, SyncState
from confluence.sync.queue import NotReady, enqueue_sync
from connectors.admin_permissions import NoAdding


@admin.register(SyncRun)
class SyncRunAdmin(NoAdding, admin.ModelAdmin):
    list_display = [
        "id",
        "connection",
        "trigger",
        "status",
        "error_kind",
        "waiting",
        "created_at",
        "duration",
        "summary",
        "warning_count",
        "commit",
    ]
    list_filter = ["status", "trigger", "error_kind", "full"]
    search_fields = ["connection__name", "connection__org__slug", "commit_sha", "error", "worker"]
    list_select_related = ["connection", "connection__org"]
    raw_id_fields = ["connection"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # stays fast with hundreds of thousands of runs
    actions = ["rerun"]
    # The warnings show as sentences rather than as raw JSON.
    exclude = ["warnings"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "warnings"] + ["warning_list"]

    @admin.display(description="Duration")
    def duration(self, obj: SyncRun) -> str:
        return f"{obj.duration_seconds:.1f} s" if obj.duration_seconds is not None else "—"

    @admin.display(description="Waiting until")
    def waiting(self, obj: SyncRun) -> str:
        """A queued run waiting out Confluence's or GitHub's rate limit or outage (its error says which)."""
        return f"{obj.waiting_until:%H:%M} UTC" if obj.waiting_until else "—"

    @admin.display(description="Pages")
    def summary(self, obj: SyncRun) -> str:
        counts = obj.counts or {}
        keys = ("added", "updated", "moved", "removed")
        return ", ".join(f"{counts[k]} {k}" for k in keys if counts.get(k)) or "—"

    @admin.display(description="Warnings")
    def warning_count(self, obj: SyncRun) -> str:
        count = len(obj.warnings)
        return f"{count}+" if count >= SyncRun.MAX_WARNINGS else str(count or "—")

    @admin.display(description="Warnings")
    def warning_list(self, obj: SyncRun) -> str:
        if not obj.warnings:
            return "none"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((m,) for m in obj.warning_messages())))

    @admin.display(description="Commit")
    def commit(self, obj: SyncRun):
        if not obj.commit_sha:
            return "—"
        return format_html('<a href="{}">{}</a>', obj.commit_url or "#", obj.commit_sha[:10])

    @admin.action(description="Re-run (queue the same work again)")
    def rerun(self, request, queryset) -> None:
        refused = []
        for run in queryset.select_related("connection"):
            try:
                enqueue_sync(run.connection, trigger=SyncRun.Trigger.ADMIN, page_ids=run.page_ids, full=run.full)
            except NotReady as error:
                refused.append(error)
        report_queued(self, request, queued=queryset.count() - len(refused), what="run(s)", refused=refused)


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = ["connection", "commit_sha", "page_count", "updated_at"]
    search_fields = ["connection__name", "connection__org__slug", "commit_sha"]
    list_select_related = ["connection__org"]
    exclude = ["index_file"]
    readonly_fields = ["connection", "commit_sha", "ctx_blobs", "page_count", "restricted_pages", "updated_at"]
    actions = ["full_resync", "forget"]

    def get_queryset(self, request):
        # The index can be megabytes; the list never needs it.
        return super().get_queryset(request).defer("index_file")

    @admin.action(description="Full re-sync (re-read and re-render every page)")
    def full_resync(self, request, queryset) -> None:
        refused = []
        for state in queryset.select_related("connection"):
            try:
                enqueue_sync(state.connection, trigger=SyncRun.Trigger.ADMIN, full=True)
            except NotReady as error:
                refused.append(error)
        report_queued(self, request, queued=queryset.count() - len(refused), what="full re-sync(s)", refused=refused)

    @admin.action(description="Forget state (the next run rebuilds it from the repository's index)")
    def forget(self, request, queryset) -> None:
        count = queryset.count()
        queryset.delete()
        self.message_user(request, f"Forgot the state of {count} connection(s).", messages.SUCCESS)


def report_queued(model_admin, request, *, queued: int, what: str, refused: list[NotReady]) -> None:
    """Staff see what was queued, and which connections refused (paused, or not set up) and why."""
    model_admin.message_user(request, f"Queued {queued} {what}.", messages.SUCCESS)
    for error in refused:
        message = f"Not queued for {error.connection}: {error.problem.message}."
        model_admin.message_user(request, message, messages.WARNING)
