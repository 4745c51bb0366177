"""Atlassian's personal data reporting, end to end against the sandbox (issue 16, "People's data").

Every account id ctx| stores is reported once a cycle, 90 a request; a closed account's name and id leave every
stored row and, in one commit per connection, the repository; an updated account's name is read again.
"""

import json
import subprocess
from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialAccount
from django.utils import timezone

from confluence import privacy
from confluence.account_api import REPORT_MAX_ACCOUNTS
from confluence.convert import ConvertContext, convert
from confluence.models import AtlassianSite, PendingAtlassianLink, PersonalDataReport, ReportedAccount, SyncState
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

PERSON = "557058:0a1b2c3d-0000-4000-8000-00000000da7a"
# What is left of the id in a profile link, whose colon is percent-encoded.
PERSON_UUID = PERSON.split(":")[1]


def mention(account_id: str, text: str = "") -> str:
    body = f"<ac:plain-text-link-body><![CDATA[{text}]]></ac:plain-text-link-body>" if text else ""
    return f'<ac:link><ri:user ri:account-id="{account_id}" />{body}</ac:link>'


@pytest.fixture
def person(world):
    """Dana, mentioned twice (once with her name as the link's text) on an ENG page of the default site."""
    dana = world.atlassian.create_user(account_id=PERSON, name="Dana Mentioned", email="dana@example.com")
    page = world.atlassian.create_page(
        world.site.cloud_id,
        space_key="ENG",
        title="On call",
        body=f"<p>Ask {mention(PERSON)} or {mention(PERSON, 'Dana Mentioned')} first.</p>",
        emit=False,
    )
    world.pages["on_call"] = page
    return dana


def commits(world) -> int:
    path = world.github.repository_path("acme-inc", "wiki")
    out = subprocess.run(["git", "rev-list", "--count", "main"], cwd=path, capture_output=True, text=True, check=True)
    return int(out.stdout)


def report(world) -> PersonalDataReport:
    return PersonalDataReport.objects.get(cloud_id=world.site.cloud_id)


def days_pass(world, days: int) -> None:
    """What time passing does to the reporting cycle, without waiting."""
    PersonalDataReport.objects.filter(cloud_id=world.site.cloud_id).update(
        reported_at=timezone.now() - timedelta(days=days), retry_at=None
    )


def test_a_closed_account_leaves_the_repository_in_one_commit_and_every_stored_row(
    world, person, connection, alice, django_capture_on_commit_callbacks
):
    sync_now(connection)
    page = tree(world)["confluence/ENG/on-call.md"].decode()
    assert f"/wiki/people/557058%3A{PERSON_UUID}" in page and "Dana Mentioned" in page
    index = json.loads(tree(world)[".ctx/confluence-index.json"])
    assert index["pages"][world.pages["on_call"].id]["mentions"] == [PERSON]
    SocialAccount.objects.create(
        user=alice, provider="atlassian", uid=PERSON, extra_data={"account_id": PERSON, "name": "Dana Mentioned"}
    )
    PendingAtlassianLink.objects.create(
        user=alice,
        account_id=PERSON,
        account_name="Dana Mentioned",
        account_email="dana@example.com",
        access_token="pending-token",
        sites=[{"id": world.site.cloud_id, "name": "Acme Wiki", "url": world.site.url}],
    )
    before = commits(world)
    world.atlassian.close_account(PERSON)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = privacy.report_due()

    assert outcome["closed"] == 1
    assert PERSON in world.atlassian.reports[-1]["accounts"]
    assert commits(world) == before + 1
    files = tree(world)
    page = files["confluence/ENG/on-call.md"].decode()
    assert "Ask Former user or Former user first." in page
    assert "/wiki/people/" not in page and "Dana" not in page
    assert not [path for path, content in files.items() if PERSON_UUID.encode() in content or b"Dana" in content]
    assert PERSON_UUID not in SyncState.objects.get(connection=connection).index_file
    assert not SocialAccount.objects.filter(uid=PERSON).exists()
    assert not PendingAtlassianLink.objects.filter(account_id=PERSON).exists()
    assert ReportedAccount.objects.get(account_id=PERSON).closed_at is not None

    # Erased for good: a full re-render still shows her as a former user, and she is not reported again.
    sync_now(connection, full=True)
    assert "Ask Former user or Former user first." in tree(world)["confluence/ENG/on-call.md"].decode()
    days_pass(world, 8)
    privacy.report_due()
    assert PERSON not in world.atlassian.reports[-1]["accounts"]


def test_a_run_that_comes_first_erases_the_closed_account_too(world, person, connection):
    """The next sync renders the mentioning pages again whatever queued it (here a run over the whole scope)."""
    sync_now(connection)
    ReportedAccount.objects.create(account_id=PERSON, closed_at=timezone.now())

    run = sync_now(connection)

    assert run.counts["updated"] == 1
    assert PERSON_UUID.encode() not in tree(world)["confluence/ENG/on-call.md"]


def test_the_linked_persons_closed_account_is_erased_from_the_site_and_its_texts(world, connection):
    site = AtlassianSite.objects.get(connection=connection)
    linked, name, email = site.account_id, site.account_name, site.account_email
    link_step = connection.tasks.get(kind="link_atlassian")
    assert name in link_step.detail

    privacy.erase_closed([linked], now=timezone.now())

    site.refresh_from_db()
    assert (site.account_id, site.account_name, site.account_email) == ("", "Former user", "")
    assert site.grant_status == AtlassianSite.Grant.REVOKED and not site.refresh_token
    link_step.refresh_from_db()
    assert name not in link_step.detail and email not in link_step.detail
    connection.refresh_from_db()
    assert connection.status == "attention"


def test_erasing_leaves_other_connections_texts_alone(world, connection, globex, charlie):
    """Another organization's connection whose step names someone else containing the same words keeps them."""
    from connectors.models import Connection

    site = AtlassianSite.objects.get(connection=connection)
    other = Connection.create_with_tasks(org=globex, kind="confluence", created_by=charlie)
    other_step = other.tasks.get(kind="link_atlassian")
    other_step.detail = f"Wiki (https://globex.atlassian.net) as {site.account_name}ette Lee"
    other_step.save()

    privacy.erase_closed([site.account_id], now=timezone.now())

    other_step.refresh_from_db()
    assert other_step.detail.endswith(f"as {site.account_name}ette Lee")


def test_an_updated_account_gets_its_name_read_again(world, connection):
    site = AtlassianSite.objects.get(connection=connection)
    world.atlassian.update_account(site.account_id, name="Sandbox Renamed", email="renamed@example.com")

    outcome = privacy.report_due()

    assert outcome["updated"] == 1
    site.refresh_from_db()
    assert (site.account_name, site.account_email) == ("Sandbox Renamed", "renamed@example.com")
    assert "Sandbox Renamed" in connection.tasks.get(kind="link_atlassian").detail
    # Reported again next cycle with the new reading time, Atlassian has nothing more to say.
    days_pass(world, 8)
    privacy.report_due()
    assert report(world).updated == 0 and report(world).reported_at is not None


def test_accounts_are_reported_90_a_request(world, connection):
    many = [f"557058:mentioned-{n:03d}" for n in range(100)]
    world.atlassian.create_page(
        world.site.cloud_id, space_key="OPS", title="Everyone", body="<p>" + " ".join(map(mention, many)) + "</p>"
    )
    sync_now(connection)

    privacy.report_due()

    batches = [batch["accounts"] for batch in world.atlassian.reports]
    assert [len(batch) for batch in batches] == [REPORT_MAX_ACCOUNTS, 11]
    linked = AtlassianSite.objects.get(connection=connection).account_id
    assert sorted(batches[0] + batches[1]) == sorted([*many, linked])
    assert report(world).accounts == 101 and not report(world).error


def test_a_report_answered_204_completes_the_cycle_and_the_next_waits_for_it(world, connection):
    privacy.report_due()

    assert len(world.atlassian.reports) == 1
    done = report(world)
    assert done.reported_at is not None and done.error == "" and (done.closed, done.updated) == (0, 0)
    assert done.cycle_seconds == 7 * 86400  # the sandbox's Cycle-Period

    privacy.report_due()  # within the period: nothing is reported
    assert len(world.atlassian.reports) == 1

    days_pass(world, 7)
    privacy.report_due()
    assert len(world.atlassian.reports) == 2


def test_a_429_waits_for_retry_after_then_reports(world, connection):
    world.atlassian.rate_limit_reports(1, retry_after=120)

    outcome = privacy.report_due()

    assert outcome["failed"] == 1 and world.atlassian.reports == []
    limited = report(world)
    assert limited.reported_at is None and "429" in limited.error
    assert limited.retry_at - limited.attempted_at == timedelta(seconds=120)
    privacy.report_due()  # Retry-After is not over: not asked again
    assert world.atlassian.reports == [] and report(world).retry_at == limited.retry_at

    PersonalDataReport.objects.filter(pk=limited.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
    privacy.report_due()
    assert len(world.atlassian.reports) == 1
    assert report(world).reported_at is not None and report(world).error == ""


def test_an_absurd_retry_after_waits_no_longer_than_a_long_cycle(world, connection):
    world.atlassian.rate_limit_reports(1, retry_after=9223372036854775807)

    privacy.report_due()

    limited = report(world)
    assert limited.retry_at - limited.attempted_at == privacy.MAX_CYCLE


def test_a_site_whose_grants_are_all_revoked_is_not_reported(world, connection):
    AtlassianSite.objects.filter(connection=connection).update(grant_status=AtlassianSite.Grant.REVOKED)

    assert privacy.report_due() == {}
    assert world.atlassian.reports == []


def test_expired_pending_links_are_erased(world, alice):
    PendingAtlassianLink.objects.create(
        user=alice,
        account_id=PERSON,
        account_name="Dana Mentioned",
        access_token="t",
        created_at=timezone.now() - PendingAtlassianLink.LIFETIME - timedelta(minutes=1),
    )

    privacy.report_due()

    assert not PendingAtlassianLink.objects.exists()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("604800", 604800), ("86400", 86400), ("7", 86400), (str(365 * 86400), 30 * 86400), ("soon", 1234), (None, 1234)],
)
def test_cycle_period_is_read_as_seconds_within_bounds(header, seconds):
    assert privacy.cycle_seconds(header, default=1234) == seconds


def test_the_converter_shows_a_closed_account_as_a_former_user():
    body = f"<p>{mention(PERSON, 'Dana')} and {mention('557058:still-here')}</p>"

    result = convert(body, ConvertContext(site_url="https://acme.atlassian.net", closed_accounts={PERSON}))

    assert result.markdown.startswith("Former user and [@unknown user](https://acme.atlassian.net/wiki/people/")
    assert PERSON_UUID not in result.markdown and "Dana" not in result.markdown
    assert result.mentions == ("557058:still-here",)
