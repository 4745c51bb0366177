"""An organization's connections and each connection's ordered setup tasks."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from connectors import kinds
from connectors.models.organizations import Organization


class Connection(models.Model):
    class Kind(models.TextChoices):
        CONFLUENCE = "confluence", "Atlassian Confluence"
        GITHUB = "github", "GitHub"

    class Status(models.TextChoices):
        SETUP = "setup", "Setting up"
        ACTIVE = "active"
        ATTENTION = "attention", "Needs attention"
        ERROR = "error"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="connections")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SETUP)
    status_detail = models.TextField(blank=True)
    paused = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["org", "created_at"]
        indexes = [models.Index(fields=["kind", "status"])]

    def __str__(self) -> str:
        # Staff read this in every admin list that points at a connection: which one, and whose.
        kind = self.get_kind_display()
        return f"{self.name} · {self.org}" if self.name == kind else f"{self.name} ({kind}) · {self.org}"

    @classmethod
    def create_with_tasks(cls, *, org: Organization, kind: str, created_by, name: str = "") -> Connection:
        """Create a connection and the ordered setup tasks its kind declares."""
        spec = kinds.get(kind)
        with transaction.atomic():
            connection = cls.objects.create(
                org=org, kind=kind, name=name or spec.label, created_by=created_by, status_detail=spec.first_step_hint
            )
            SetupTask.objects.bulk_create(
                SetupTask(connection=connection, kind=step.key, position=position)
                for position, step in enumerate(spec.steps, start=1)
            )
        return connection

    @property
    def spec(self) -> kinds.ConnectorKind:
        return kinds.get(self.kind)

    def ordered_tasks(self) -> list[SetupTask]:
        # Uses the prefetch cache when the caller prefetched "tasks".
        return sorted(self.tasks.all(), key=lambda task: task.position)

    def setup_progress(self) -> tuple[int, int]:
        tasks = self.ordered_tasks()
        return sum(task.state == SetupTask.State.DONE for task in tasks), len(tasks)

    def next_task(self) -> SetupTask | None:
        return next((task for task in self.ordered_tasks() if task.state != SetupTask.State.DONE), None)

    @property
    def is_ready(self) -> bool:
        done, total = self.setup_progress()
        return done == total

    def refresh_status(self) -> None:
        """Derive status from the setup tasks, unless something already needs the user's attention."""
        if self.status in (self.Status.ATTENTION, self.Status.ERROR):
            return
        if self.is_ready:
            self.set_status(self.Status.ACTIVE, "")
        else:
            task = self.next_task()
            self.set_status(self.Status.SETUP, f"Next step: {task.title}" if task else "")

    def clear_attention(self) -> None:
        """The problem that needed the user was fixed: derive the status from the setup tasks again."""
        self.status = self.Status.SETUP
        self.refresh_status()

    def set_status(self, status: str, detail: str) -> None:
        self.status, self.status_detail = status, detail
        self.save(update_fields=["status", "status_detail", "updated_at"])

    def report_failure(self, detail: str) -> None:
        """Work of this connection failed in a way only someone can fix: Error, with `detail`, unless the
        connection already needs attention (that problem, named there, is the one to fix first)."""
        if self.status != self.Status.ATTENTION:
            self.set_status(self.Status.ERROR, detail)

    def pause(self) -> None:
        self.paused = True
        self.save(update_fields=["paused", "updated_at"])

    def resume(self) -> None:
        self.paused = False
        self.save(update_fields=["paused", "updated_at"])

    def reset_setup(self, *, by=None) -> None:
        """Send every setup step back to pending, as when the connection was created."""
        with transaction.atomic():
            self.tasks.update(
                state=SetupTask.State.PENDING,
                detail="",
                completed_at=None,
                completed_by=None,
                updated_at=timezone.now(),
            )
            self.status = self.Status.SETUP
            self.save(update_fields=["status", "updated_at"])
            self.refresh_status()


class SetupTask(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        WAITING = "waiting", "Waiting on someone else"
        DONE = "done"
        BLOCKED = "blocked"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    detail = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["connection", "position"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "kind"], name="one_task_of_each_kind_per_connection"),
            models.UniqueConstraint(fields=["connection", "position"], name="one_task_per_position"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    @property
    def step(self) -> kinds.Step:
        return self.connection.spec.step(self.kind)

    @property
    def title(self) -> str:
        return self.step.title

    def mark(self, state: str, detail: str = "", *, by=None) -> None:
        """Move the task to `state`, record who completed it, and update the connection's status."""
        self.state, self.detail, self.updated_at = state, detail, timezone.now()
        if state == self.State.DONE:
            self.completed_at, self.completed_by = self.updated_at, by
        else:
            self.completed_at, self.completed_by = None, None
        self.save()
        self.connection.refresh_status()
