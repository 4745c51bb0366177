"""The operators' console for organizations, members and connections."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import models

from connectors.admin_permissions import NoAdding
from connectors.models import Connection, Invitation, Membership, Organization, SetupTask


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "org", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "org__name", "org__slug"]
    raw_id_fields = ["user", "org"]
    list_select_related = ["user", "org"]


@admin.register(Invitation)
class InvitationAdmin(NoAdding, admin.ModelAdmin):
    # An invitation made here would have a link no one can see; owners invite from the Members page.
    list_display = ["email", "org", "role", "invited_by", "created_at", "issued_at", "accepted_at"]
    list_filter = ["role", ("accepted_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "org__name", "org__slug"]
    raw_id_fields = ["org", "invited_by", "accepted_by"]
    list_select_related = ["org", "invited_by"]
    # Listed explicitly so the token's hash never appears, not even read-only: it is only a lookup key.
    fields = ["org", "email", "role", "invited_by", "created_at", "issued_at", "accepted_at", "accepted_by"]
    readonly_fields = ["created_at", "issued_at", "accepted_at", "accepted_by"]


class SetupTaskInline(NoAdding, admin.TabularInline):
    model = SetupTask
    extra = 0
    # A narrow detail box, so the table fits the change form's width.
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}
    fields = ["position", "kind", "state", "detail", "completed_at", "completed_by", "updated_at"]
    readonly_fields = ["position", "kind", "completed_at", "completed_by", "updated_at"]
    ordering = ["position"]
    can_delete = False


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["name", "org", "kind", "status", "paused", "setup", "updated_at"]
    list_filter = ["kind", "status", "paused"]
    search_fields = ["name", "org__name", "org__slug", "status_detail"]
    raw_id_fields = ["org", "created_by"]
    list_select_related = ["org"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [SetupTaskInline]
    actions = ["sync_now", "reset_setup", "pause", "resume"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tasks")

    @admin.display(description="Setup")
    def setup(self, obj: Connection) -> str:
        done, total = obj.setup_progress()
        return f"{done}/{total}"

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset) -> None:
        queued = [c for c in queryset if c.spec.queue_sync(c, trigger="admin")]
        skipped = queryset.count() - len(queued)
        self.message_user(request, f"Queued {len(queued)} sync(s); {skipped} not ready or paused.", messages.SUCCESS)

    @admin.action(description="Reset setup (every step back to pending)")
    def reset_setup(self, request, queryset) -> None:
        for connection in queryset:
            connection.reset_setup(by=request.user)
        self.message_user(request, f"Reset the setup of {queryset.count()} connection(s).", messages.SUCCESS)

    @admin.action(description="Pause")
    def pause(self, request, queryset) -> None:
        for connection in queryset:
            connection.pause()
        self.message_user(request, f"Paused {queryset.count()} connection(s).", messages.SUCCESS)

    @admin.action(description="Resume")
    def resume(self, request, queryset) -> None:
        for connection in queryset:
            connection.resume()
        self.message_user(request, f"Resumed {queryset.count()} connection(s).", messages.SUCCESS)

    def save_formset(self, request, form, formset, change):
        # Staff may set a task's state by hand; record who did it, and keep the connection's status in step.
        tasks = formset.save(commit=False)
        for task in tasks:
            task.mark(task.state, task.detail, by=request.user)
        formset.save_m2m()


@admin.register(SetupTask)
class SetupTaskAdmin(NoAdding, admin.ModelAdmin):
    list_display = ["connection", "position", "kind", "state", "completed_at", "updated_at"]
    list_filter = ["kind", "state"]
    search_fields = ["connection__name", "connection__org__slug", "detail"]
    raw_id_fields = ["connection", "completed_by"]
    list_select_related = ["connection", "connection__org"]
    readonly_fields = ["connection", "kind", "position", "completed_at", "completed_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        obj.mark(obj.state, obj.detail, by=request.user)
