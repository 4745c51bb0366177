"""A repository is the target of at most one connection.

Before the constraint, two connections could target one repository and remove each other's pages on every sync.
Where that happened, the connection that wrote to the repository first keeps it (its first successful run after
selecting it; a connection that never synced there ranks after every one that did, by when it selected it). The
others are detached: their target, their use of the repository as a source and their saved index (it described
the contested repository) are deleted, their "Select the sync repository" step is sent back to the user with the
reason, and their card asks for attention.
"""

from django.db import migrations, models
from django.db.models import Count
from django.utils import timezone


def detach_extra_writers(apps, schema_editor):
    SyncTarget = apps.get_model("confluence", "SyncTarget")
    contested = (
        SyncTarget.objects.values("repository_id")
        .annotate(writers=Count("id"))
        .filter(writers__gt=1)
        .values_list("repository_id", flat=True)
    )
    for repository_id in list(contested):
        targets = list(
            SyncTarget.objects.filter(repository_id=repository_id).select_related("connection", "repository")
        )
        keeper = min(targets, key=lambda target: writer_rank(apps, target))
        for target in targets:
            if target.pk != keeper.pk:
                detach(apps, target, keeper=keeper)


def writer_rank(apps, target) -> tuple:
    """Sorts the connection that wrote to the repository first, first."""
    SyncRun = apps.get_model("confluence", "SyncRun")
    first_write = (
        SyncRun.objects.filter(
            connection_id=target.connection_id, status="succeeded", started_at__gte=target.selected_at
        )
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    return (first_write is None, first_write or target.selected_at, target.selected_at, target.pk)


def detach(apps, target, *, keeper) -> None:
    connection, repository = target.connection, target.repository
    if keeper.connection.org_id == connection.org_id:
        writer = f"the connection “{keeper.connection.name}”"
    else:
        writer = "a connection of another organization"
    detail = f"{repository.full_name} is written by {writer}; choose another repository."
    now = timezone.now()
    apps.get_model("github_sync", "Source").objects.filter(connection=connection, repository=repository).delete()
    apps.get_model("confluence", "SyncState").objects.filter(connection=connection).delete()
    target.delete()
    apps.get_model("connectors", "SetupTask").objects.filter(connection=connection, kind="select_repository").update(
        state="pending", detail=detail, completed_at=None, completed_by=None, updated_at=now
    )
    apps.get_model("connectors", "Connection").objects.filter(pk=connection.pk).update(
        status="attention", status_detail=detail, updated_at=now
    )


class Migration(migrations.Migration):
    dependencies = [
        ("confluence", "0007_syncrun_worker"),
    ]

    operations = [
        migrations.RunPython(detach_extra_writers, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="synctarget",
            constraint=models.UniqueConstraint(
                fields=("repository",),
                name="one_writer_per_repository",
                violation_error_message="Another connection already writes to this repository.",
            ),
        ),
    ]
