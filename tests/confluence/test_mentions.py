"""Mentions become people's display names (issue 17, item 1): looked up in bulk (v2 POST /users-bulk, 100 ids a
request), cached per site with an expiry, never for closed accounts; a deactivated person keeps a name that says so,
and an account the lookup says is closed is erased at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from confluence.models import KnownPerson, ReportedAccount
from sandbox.atlassian.users import deactivate_account
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

DANA = "557058:0a1b2c3d-0000-4000-8000-00000000da7a"
# What is left of the id in a profile link, whose colon is percent-encoded.
DANA_UUID = DANA.split(":")[1]


def mention(account_id: str) -> str:
    return f'<ac:link><ri:user ri:account-id="{account_id}" /></ac:link>'


def lookups(world) -> int:
    return world.atlassian.count("POST", r"/wiki/api/v2/users-bulk$")


@pytest.fixture
def dana(world):
    person = world.atlassian.create_user(account_id=DANA, name="Dana Mentioned", email="dana@example.com")
    world.atlassian.create_page(
        world.site.cloud_id, space_key="ENG", title="On call", body=f"<p>Ask {mention(DANA)}.</p>", emit=False
    )
    return person


def test_a_mention_shows_the_display_name_linked_to_the_profile(world, dana, connection):
    sync_now(connection)
    page = tree(world)["confluence/ENG/on-call.md"].decode()
    assert (
        "[@Dana Mentioned](https://acme.atlassian.net/wiki/people/557058%3A0a1b2c3d-0000-4000-8000-00000000da7a)"
        in page
    )
    assert lookups(world) == 1


def test_150_people_on_two_pages_cost_two_lookups_and_a_no_op_none(world, connection):
    people = [f"557058:person-{n:03d}" for n in range(150)]
    for account_id in people:
        world.atlassian.create_user(account_id=account_id, name=f"Person {account_id[-3:]}")
    for title, chunk in (("First", people[:100]), ("Second", people[50:])):
        world.atlassian.create_page(
            world.site.cloud_id, space_key="OPS", title=title, body="<p>" + " ".join(map(mention, chunk)) + "</p>"
        )
    world.atlassian.reset_log()
    sync_now(connection)
    assert lookups(world) == 2
    assert "@Person 149" in tree(world)["confluence/OPS/second.md"].decode()

    world.atlassian.reset_log()
    sync_now(connection)
    assert lookups(world) == 0


def test_an_expired_name_is_read_again_and_a_changed_one_renders_the_page_again(world, dana, connection):
    sync_now(connection)
    world.atlassian.update_account(DANA, name="Dana Renamed")
    # Within the name's lifetime nothing is asked again.
    world.atlassian.reset_log()
    sync_now(connection)
    assert lookups(world) == 0
    assert "@Dana Mentioned" in tree(world)["confluence/ENG/on-call.md"].decode()

    KnownPerson.objects.update(read_at=timezone.now() - KnownPerson.NAME_LIFETIME - timedelta(minutes=1))
    run = sync_now(connection)
    assert lookups(world) == 1
    assert "@Dana Renamed" in tree(world)["confluence/ENG/on-call.md"].decode()
    assert run.status == "succeeded"


def test_unknown_and_deactivated_people_read_sensibly(world, connection):
    world.atlassian.create_page(
        world.site.cloud_id, space_key="OPS", title="Ghosts", body=f"<p>{mention('557058:nobody-knows')}</p>"
    )
    sync_now(connection)
    page = tree(world)["confluence/OPS/ghosts.md"].decode()
    assert "[@unknown user](https://acme.atlassian.net/wiki/people/557058%3Anobody-knows)" in page
    assert "557058:nobody-knows" not in page.split("---", 2)[2].replace("557058%3Anobody-knows", "")
    # Unknown people are remembered until their entry expires: the next run asks nothing.
    world.atlassian.reset_log()
    sync_now(connection, full=True)
    assert lookups(world) == 0

    KnownPerson.objects.filter(account_id="557058:nobody-knows").update(
        display_name="Old Colleague", account_status="inactive"
    )
    sync_now(connection, full=True)
    assert "[@Old Colleague (deactivated)]" in tree(world)["confluence/OPS/ghosts.md"].decode()


def test_a_closed_account_stays_former_user_and_is_never_looked_up(world, dana, connection):
    ReportedAccount.objects.create(account_id=DANA, closed_at=timezone.now())
    world.atlassian.reset_log()
    sync_now(connection)
    page = tree(world)["confluence/ENG/on-call.md"].decode()
    assert "Ask Former user." in page and "Dana" not in page
    assert lookups(world) == 0
    assert not KnownPerson.objects.filter(account_id=DANA).exists()


def test_a_deactivated_person_keeps_their_name_marked_and_linked_to_the_profile(world, dana, connection):
    deactivate_account(world.atlassian, DANA)
    sync_now(connection)
    page = tree(world)["confluence/ENG/on-call.md"].decode()
    assert f"[@Dana Mentioned (deactivated)](https://acme.atlassian.net/wiki/people/557058%3A{DANA_UUID})" in page


def test_an_account_the_lookup_says_is_closed_is_erased_in_the_same_run(world, dana, connection):
    world.atlassian.close_account(DANA)
    sync_now(connection)
    files = tree(world)
    page = files["confluence/ENG/on-call.md"].decode()
    assert "Ask Former user." in page and "/wiki/people/" not in page
    assert not [path for path, content in files.items() if DANA_UUID.encode() in content]
    assert ReportedAccount.objects.get(account_id=DANA).closed_at is not None
    assert not KnownPerson.objects.filter(account_id=DANA).exists()


def test_a_person_cached_as_closed_is_erased_without_asking_again(world, dana, connection):
    sync_now(connection)
    KnownPerson.objects.filter(account_id=DANA).update(display_name="", account_status="closed")
    world.atlassian.reset_log()
    sync_now(connection, full=True)
    page = tree(world)["confluence/ENG/on-call.md"].decode()
    assert "Ask Former user." in page and DANA_UUID not in page
    assert lookups(world) == 0
    assert ReportedAccount.objects.filter(account_id=DANA, closed_at__isnull=False).exists()
