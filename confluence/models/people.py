"""Personal data about Atlassian accounts: known people's names, and the reports to Atlassian's personal data
reporting API with what they said."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone


class PersonalDataReport(models.Model):
    """When the Atlassian accounts ctx| stores data of, for one Confluence site, were last reported to Atlassian's
    personal data reporting API, and when the next report is due (`confluence.privacy`)."""

    cloud_id = models.CharField(max_length=64, unique=True)
    reported_at = models.DateTimeField(null=True, blank=True)  # the last complete report (every batch answered)
    # How often Atlassian wants each account reported (its `Cycle-Period` header; 7 days by default).
    cycle_seconds = models.PositiveIntegerField(default=7 * 86400)
    # Not before: set from Retry-After when Atlassian answered 429.
    retry_at = models.DateTimeField(null=True, blank=True)
    accounts = models.PositiveIntegerField(default=0)  # accounts reported the last time
    closed = models.PositiveIntegerField(default=0)  # of which Atlassian said were closed
    updated = models.PositiveIntegerField(default=0)  # of which Atlassian said changed
    error = models.TextField(blank=True)  # why the last attempt did not complete ("" when it did)
    attempted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Personal data report of {self.cloud_id} ({self.reported_at or 'never'})"

    @property
    def due_at(self):
        """When this site's accounts are to be reported next (None: now)."""
        due = self.reported_at + timedelta(seconds=self.cycle_seconds) if self.reported_at else None
        if self.retry_at and (due is None or self.retry_at > due):
            return self.retry_at
        return due


class ReportedAccount(models.Model):
    """An Atlassian account the personal data reporting API, or a user lookup finding it closed, said something
    about. A closed account stays recorded so that nothing erased comes back (a page mentioning the person is
    rendered as "Former user" from then on);
    `profile_read_at` is when ctx| last read the profile (name, email) of an account whose profile changed."""

    account_id = models.CharField(max_length=128, unique=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    profile_read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Atlassian account {self.account_id} ({'closed' if self.closed_at else 'active'})"


class KnownPerson(models.Model):
    """A person's display name as a Confluence site's bulk user lookup gave it, so mentions render as names.

    Kept per site (`cloud_id`) and read again once `NAME_LIFETIME` has passed (on the next run over the whole scope,
    which re-renders the pages mentioning someone whose name changed). Personal data: `confluence.privacy` reports
    these accounts and erases a closed person's row. People the lookup did not return are kept too (an empty name,
    status "unknown") so that they are not asked about again before the row expires."""

    NAME_LIFETIME = timedelta(days=7)

    cloud_id = models.CharField(max_length=64)
    account_id = models.CharField(max_length=128)
    display_name = models.CharField(max_length=255, blank=True)
    # What the lookup says: accountStatus ("active", "inactive", "closed", "unknown") and accountType ("atlassian",
    # "app", "customer", "unknown").
    account_status = models.CharField(max_length=32, blank=True)
    account_type = models.CharField(max_length=32, blank=True)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cloud_id", "account_id"], name="known_person_per_site")]

    def __str__(self) -> str:
        return f"{self.display_name or 'unknown person'} on {self.cloud_id}"
