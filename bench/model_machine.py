"""The model-based test's state machine: any sequence of changes in Confluence, of changes of scope, of fates for
the Forge events and of runs, checked against a clean sync after every run that should leave the repository right.

Everything is real but the network. The simulated Atlassian and GitHub answer `requests` in-process; a change is
made through the simulator's Python API (`sandbox/atlassian/editing.py`, `attachments.py`), which signs its Forge
event; the event is posted to the site's Forge endpoint through Django's test client (token verified against the
simulated JWKS), stored and processed by the same task a worker runs; syncs are queued by `enqueue_sync` (through
the Forge handlers, `confluence.setup.card.sync_now`, `confluence.tasks.reconcile_due` and
`confluence.setup.steps.save_scope`,
which is what the wizard's Save calls) and run by `confluence.tasks.run_sync`, the worker's entry point. Runs are
started by the machine instead of a broker (`queue.send` does nothing here), so it decides when the worker works.

What is checked, after every run:
- the run succeeded; files pushed by someone else are untouched; the index file agrees with the tree;
- its commit changes something, is one commit on the previous head, and its message lists exactly what changed;
and, after the worker has run everything queued, when every change since the last whole-scope run was announced
by an event that was delivered (none dropped, none still late):
- the repository's files of ours equal, path for path and byte for byte, what a clean sync of the same scope
  writes into an empty repository (a fresh connection with a fresh repository in the same world, made with the
  wizard's functions and thrown away afterwards);
- when the repository already held exactly that before the worker ran, nothing was committed.

Each example runs in a database savepoint that is rolled back at its end, and in a world of its own.
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from unittest import mock

import hypothesis
import responses
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, TestCase, override_settings
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

import github_sync.tasks
from bench import model_checks as checks
from confluence import tasks
from confluence.forge import tokens
from confluence.models import SyncRun, SyncScope, WebhookEvent
from confluence.setup import card, steps
from confluence.sync import queue
from connectors.models import Connection, Organization
from github_sync.app_auth import forget_installation_token
from github_sync.installations import sync_repositories
from github_sync.models import Installation
from sandbox import demo
from sandbox.github import gitstore
from sandbox.testing import serve_with_responses
from sandbox.world import World

OWNER, REPO = "acme-inc", "wiki"
# Titles are unique in the site (Confluence refuses two current pages of one title in a space, and a page that
# moves to another space must not meet its title there); these collide as slugs and stress the layout.
TITLES = (
    "Guide",
    "Guide!",
    "guide?",
    "Runbook",
    "FAQ",
    "Release process",
    "Payments dashboard",
    "Rollback",
    "CON",
    "..",
    "Notes",
    "Notes.",
    "Ünïcode Seite",
    "a/b",
    "Design",
    "Architecture decision record " * 6,
)
LABELS = ("draft", "obsolete", "howto")
# Names that collide once made safe for a path (or differ only by case), and a plain one.
FILES = ("diagram.png", "CON.png", "..", "report:v1.txt", "report-v1.txt", "Report-V1.txt", "notes.txt")
# Forge's fate for the events of a change; the first shrinks best, so it is the plain delivery.
FATES = ("deliver", "deliver", "deliver", "deliver", "drop", "duplicate", "late")
# Whether the worker runs right after a change (the usual case: a worker is idle when the event arrives).
THEN = st.sampled_from(("work", "wait"))
BODY_PARTS = ("text", "link", "xlink", "image", "file")
OUTSIDE_PATHS = ("README.md", "docs/notes.md", "confluence/OUTSIDE.txt", "confluence/{space}/outside-notes.txt")
MAX_SPACES = 4
# The whole path, in UTF-16 units: Windows refuses 260 with the clone's own folder in front
# (confluence/sync/safe_names.py).
MAX_PATH_UNITS = 180
MAX_RUNS_PER_BATCH = 10

# The site every example starts from: space key → (title, parent title or None for below the homepage, labels,
# body parts as the rules draw them). Guide shows diagram.png and Runbook report-v1.txt, both attached; the other
# files of FILES, whose names collide with those once made safe for a path or case-folded, come with the rules.
SPACES = {"ENG": "Engineering", "OPS": "Operations", "DOC": "Documentation"}
PAGES = {
    "ENG": [
        ("Guide", None, ["howto"], [("text", 1), ("image", 0), ("link", 2)]),
        ("Rollback", "Guide", [], [("link", 0)]),
        ("FAQ", None, [], [("xlink", 5)]),
    ],
    "OPS": [
        ("Release process", None, [], [("text", 2), ("link", 3)]),
        ("Payments dashboard", "Release process", ["draft"], []),
        ("Design", "Payments dashboard", [], [("text", 3)]),
        ("Runbook", None, [], [("link", 1), ("file", 4)]),
    ],
    "DOC": [("Notes", None, [], [("xlink", 1)])],
}
# The scope the connection starts with: whole spaces, pages (title, with descendants), exclusions, labels.
PRESETS = (
    {"spaces": ["ENG", "OPS"], "pages": [], "excluded": [], "labels": []},
    # Issue 14's walk-through: one page tree, pages labelled draft or obsolete left out.
    {"spaces": ["ENG"], "pages": [("Release process", True)], "excluded": [], "labels": ["draft", "obsolete"]},
    {"spaces": ["ENG"], "pages": [("Notes", False)], "excluded": [("FAQ", True)], "labels": ["obsolete"]},
    {"spaces": ["OPS"], "pages": [], "excluded": [("Payments dashboard", False)], "labels": []},
)


class Divergence(AssertionError):
    """The repository is not what the promise says it must be."""


@dataclass
class Stats:
    """What the machine did, across every example of one exploration."""

    examples: int = 0
    steps: int = 0
    # What the steps did, by kind (Confluence changes, the fates of their events, scope changes, outside pushes),
    # and the changes the simulator sent no event for.
    operations: Counter = field(default_factory=Counter)
    silent: Counter = field(default_factory=Counter)
    runs: int = 0
    checks: int = 0
    trace: bool = False  # print each example's steps to stderr when it ends


STATS = Stats()
# How every exploration runs; `bench.model` adds how many examples, and steps in each.
EXPLORATION = hypothesis.settings(
    deadline=None,
    database=None,
    print_blob=False,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
    # Not the "explain" phase: it replays variations of the failure to point at lines of code, which costs minutes
    # here and says little about a sync.
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
FORGE_KEYS: list[dict] = []


def pick(items: list, drawn: int):
    """The item a drawn integer names: any integer names one, so a rule's draw stays valid as the world changes."""
    return items[drawn % len(items)]


def step(rule_function):
    """Count the rule's runs (every step of every example, shrinking included)."""

    @functools.wraps(rule_function)
    def counted(self, **arguments):
        STATS.steps += 1
        return rule_function(self, **arguments)

    return counted


def confluence_change(*, when=None, **drawn):
    """A rule that changes Confluence: it draws `drawn`, then the fate of the change's events and whether the worker
    runs next (`fate`, `then`); counted by `step`, and only offered when `when(machine)` holds, if given."""

    def decorate(rule_function):
        made = rule(**drawn, fate=st.sampled_from(FATES), then=THEN)(step(rule_function))
        return precondition(when)(made) if when else made

    return decorate


def page_state_rule(kind: str, change: str, *statuses: str):
    """The rule `kind`: the simulator's method `change` (trash_page, restore_page…) on a page in `statuses` (current
    if none), and its announcement."""

    def change_state(self, page, fate, then):
        page = pick(self.pages(*statuses), page)
        what = self.describe(page)  # before the change: a purged page is gone from the simulator
        getattr(self.atlassian, change)(page.id)
        self.announce(kind, fate, what, then=then)

    change_state.__name__ = change_state.__qualname__ = kind  # how hypothesis names the step
    return confluence_change(when=lambda self: self.pages(*statuses), page=st.integers(0, 99))(change_state)


class SyncModel(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        STATS.examples += 1
        self.log: list[str] = []
        self.unsynced: set[int] = set()  # changes whose event was dropped, is late, or never existed
        self.late: list[tuple[int, list]] = []
        self.outside: dict[str, bytes] = {}
        self.changes = 0
        self.clean_repositories = 0
        self.dirty = True  # something changed since the repository was last found equal to a clean sync
        self.expected: tuple[str, dict[str, bytes]] | None = None  # (fingerprint, clean sync's tree)
        self.closers = []
        try:
            self.open_world()
            self.build_site()
        except BaseException:
            self.teardown()
            raise

    # The world of one example ---------------------------------------------------------------------------------

    def open_world(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="ctx-model-"))
        self.closers.append(lambda: shutil.rmtree(self.directory, ignore_errors=True))
        self.world = World(
            root=self.directory / "sandbox", sandbox_url=settings.SANDBOX_URL, site_url=settings.PUBLIC_BASE_URL
        )
        self.atlassian, self.github = self.world.atlassian, self.world.github
        # One Forge signing key for every example of the process: making one costs a tenth of a second.
        if not FORGE_KEYS:
            self.atlassian.rotate_forge_key()
            FORGE_KEYS.extend(self.atlassian.forge_keys)
        self.atlassian.forge_keys = [dict(key) for key in FORGE_KEYS]
        overrides = override_settings(
            SANDBOX_DIR=self.directory / "sandbox",
            GITHUB_APP_PRIVATE_KEY_FILE=str(self.github.app_private_key_path),
        )
        overrides.enable()
        self.closers.append(overrides.disable)
        served = responses.RequestsMock(assert_all_requests_are_fired=False)
        served.start()
        self.closers.append(lambda: (served.stop(allow_assert=False), served.reset()))
        for simulator in self.world.simulators().values():
            serve_with_responses(served, simulator, simulator.base_url)
        # The machine is the worker: queued runs wait for its `work` rule. Ingestion is not what is checked.
        for patch in (
            mock.patch.object(queue, "send", lambda run_id: None),
            mock.patch.object(github_sync.tasks, "send", lambda run_id: None),
        ):
            patch.start()
            self.closers.append(patch.stop)
        tokens.jwks.clear()  # another example's keys, under the same JWKS URL
        atomic = transaction.atomic()
        atomic.__enter__()
        self.closers.append(lambda: (transaction.set_rollback(True), atomic.__exit__(None, None, None)))
        self.client = Client()
        self.atlassian.deliver = self.post
        self.atlassian.defer_deliveries = True  # each change's events wait in the outbox for their fate
        self.github.deliver = lambda url, body, headers: 200  # push webhooks only start ingestion

    def teardown(self) -> None:
        if STATS.trace:
            print(f"example {STATS.examples}:\n{self.steps_text()}\n", file=sys.stderr)
        for close in reversed(self.closers):
            close()
        self.closers = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """Forge's POST to the site, through Django's test client (what tests/conftest.py's sandbox does)."""
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k.lower() != "content-type"}
        path = url.removeprefix(settings.PUBLIC_BASE_URL)
        response = self.client.generic(
            "POST", path, body, content_type=headers.get("Content-Type", "application/json"), **extra
        )
        return response.status_code

    def build_site(self) -> None:
        self.site = self.atlassian.create_site(name="Acme Wiki", url="https://acme.atlassian.net")
        self.cloud_id = self.site.cloud_id
        for key, name in SPACES.items():
            space = self.atlassian.create_space(self.cloud_id, key=key, name=name, emit=False)
            made = {}
            for title, parent, labels, parts in PAGES[key]:
                page = self.atlassian.create_page(
                    self.cloud_id,
                    space_key=key,
                    title=title,
                    body=self.body(parts, key),
                    parent_id=made[parent] if parent else space.homepage_id,
                    labels=labels,
                    emit=False,
                )
                made[title] = page.id
        for title, name in (("Guide", "diagram.png"), ("Runbook", "report-v1.txt")):
            page = next(p for p in self.pages() if p.title == title)
            self.atlassian.add_attachment(
                page.id, filename=name, data=f"{name}, as the site started\n".encode(), media_type="", emit=False
            )
        self.github.create_user("alice-gh", name="Alice", email="alice@example.com")
        self.github.create_org(OWNER, owners=["alice-gh"])
        self.github.create_repository(OWNER, REPO, private=True)
        self.push_outside("README.md", b"# Acme wiki\n\nWritten by people; ctx| writes under confluence/.\n")
        self.user = get_user_model().objects.create_user(username="model", email="model@example.com")
        self.org = Organization.create_with_owner(name="Acme", owner=self.user)
        self.grants = self.world.grant_connection(
            cloud_id=self.cloud_id, space_keys=list(SPACES), repository=f"{OWNER}/{REPO}"
        )
        self.atlassian.take_outbox()  # the app's installation, which connect_with_grants records
        forget_installation_token(self.grants["github_installation_id"])  # cached for another example's world
        self.connection = demo.connect_with_grants(self.grants, org=self.org, user=self.user)

    # Reading the simulated world ----------------------------------------------------------------------------

    def pages(self, *statuses: str, space_key: str | None = None) -> list:
        statuses = statuses or ("current",)
        found = [
            p
            for p in self.atlassian.pages.values()
            if p.cloud_id == self.cloud_id
            and p.status in statuses
            and (space_key is None or self.atlassian.spaces[p.space_id].key == space_key)
        ]
        return sorted(found, key=lambda p: int(p.id))

    def spaces(self) -> list:
        return self.atlassian.site_spaces(self.cloud_id)

    def attachments(self, page) -> list:
        found = [self.atlassian.attachments[i] for i in page.attachment_ids]
        return [a for a in found if a.status == "current"]

    def with_attachments(self) -> list:
        return [p for p in self.pages() if self.attachments(p)]

    def space_key(self, page) -> str:
        return self.atlassian.spaces[page.space_id].key

    def describe(self, page) -> str:
        return f"{page.title!r} ({page.id}, {self.space_key(page)})"

    def new_title(self, pick: int) -> str:
        taken = {p.title for p in self.atlassian.pages.values() if p.cloud_id == self.cloud_id}
        base = TITLES[pick % len(TITLES)]
        title, n = base, 1
        while title in taken:
            n += 1
            title = f"{base} {n}"
        return title

    def body(self, parts: list[tuple[str, int]], space_key: str) -> str:
        """Storage XHTML with links to pages (by title, in this space or another) and to attachments."""
        html = []
        for kind, n in parts:
            if kind == "text":
                html.append(f"<p>Paragraph {n}.</p>")
            elif kind in ("link", "xlink"):
                targets = self.pages(space_key=None if kind == "xlink" else space_key) or self.pages()
                target = targets[n % len(targets)] if targets else None
                title = escape(target.title if target else TITLES[n % len(TITLES)])
                key = f' ri:space-key="{escape(self.space_key(target))}"' if target and kind == "xlink" else ""
                html.append(f'<p><ac:link><ri:page{key} ri:content-title="{title}" /></ac:link></p>')
            elif kind == "image":
                name = escape(FILES[n % len(FILES)])
                html.append(f'<p><ac:image><ri:attachment ri:filename="{name}" /></ac:image></p>')
            else:
                name = escape(FILES[n % len(FILES)])
                html.append(f'<p><ac:link><ri:attachment ri:filename="{name}" /></ac:link></p>')
        return "".join(html) or "<p>Empty.</p>"

    # Forge events: delivered, dropped, duplicated or late -----------------------------------------------------

    def announce(self, kind: str, fate: str, what: str, *, then: str) -> None:
        """Give the events of the change just made their fate, remember what the repository can know, and let
        the worker run what they queued when `then` says so."""
        self.record(kind, fate, what)
        if then == "work":
            self.log[-1] += " → worker"
            self.work()

    def record(self, kind: str, fate: str, what: str) -> None:
        self.changes += 1
        self.dirty = True
        STATS.operations[kind] += 1
        deliveries = self.atlassian.take_outbox()
        if not deliveries:
            STATS.silent[kind] += 1
            self.unsynced.add(self.changes)
            self.log.append(f"{kind}: {what} (the simulator sends no event for this)")
            return
        self.log.append(f"{kind}: {what} [event {fate}]")
        STATS.operations[f"event_{fate}"] += 1
        if fate == "drop":
            self.unsynced.add(self.changes)
        elif fate == "late":
            self.unsynced.add(self.changes)
            self.late.append((self.changes, deliveries))
        else:
            self.deliver(deliveries)
            if fate == "duplicate":
                self.deliver(deliveries, replay=True)  # the same request again, token and all
                self.deliver(deliveries, resign=True)  # Forge retrying: the same event, a new token

    def deliver(self, deliveries: list, *, resign: bool = False, replay: bool = False) -> None:
        for url, body, headers in deliveries:
            if resign:
                token = self.atlassian.sign_invocation_token(self.cloud_id)
                headers = {**headers, "Authorization": f"Bearer {token}"}
            # The site processes an accepted event once its row commits; here, when this block ends.
            with TestCase.captureOnCommitCallbacks(execute=True):
                [status] = self.atlassian.flush_outbox([(url, body, headers)])
            if status >= 300 and not replay:
                raise self.divergence(f"the site answered {status} to an authentic Forge event")
        failed = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).first()
        if failed is not None:
            raise self.divergence(f"processing {failed.event_type} failed: {failed.detail}")

    # Changes in Confluence -----------------------------------------------------------------------------------

    @initialize(preset=st.integers(0, len(PRESETS) - 1))
    @step
    def start(self, preset):
        """The scope is saved (the wizard's Save), the first sync runs."""
        chosen = PRESETS[preset]
        by_title = {p.title: p for p in self.pages()}
        spaces = {s.key: s for s in self.spaces()}
        self.save_scope(
            spaces=[spaces[key] for key in chosen["spaces"]],
            pages=[(by_title[title], descendants) for title, descendants in chosen["pages"]],
            excluded=[(by_title[title], descendants) for title, descendants in chosen["excluded"]],
            labels=chosen["labels"],
        )
        self.log.append(f"start: scope {self.scope_text()}")
        self.work()

    @confluence_change(
        space=st.integers(0, 9),
        parent=st.integers(-1, 99),
        title=st.integers(0, 99),
        parts=st.lists(st.tuples(st.sampled_from(BODY_PARTS), st.integers(0, 99)), max_size=3),
        labels=st.lists(st.sampled_from(LABELS), max_size=2, unique=True),
    )
    def create(self, space, parent, title, parts, labels, fate, then):
        space = pick(self.spaces(), space)
        parents = self.pages(space_key=space.key)
        parent_page = parents[parent % len(parents)] if parents and parent >= 0 else None
        page = self.atlassian.create_page(
            self.cloud_id,
            space_key=space.key,
            title=self.new_title(title),
            body=self.body(parts, space.key),
            parent_id=parent_page.id if parent_page else None,
            labels=labels,
        )
        where = f"under {self.describe(parent_page)}" if parent_page else "at the root"
        self.announce("create", fate, f"{self.describe(page)} {where}, labels {labels}", then=then)

    @confluence_change(
        when=lambda self: self.pages(),
        page=st.integers(0, 99),
        parts=st.lists(st.tuples(st.sampled_from(BODY_PARTS), st.integers(0, 99)), max_size=3),
    )
    def edit(self, page, parts, fate, then):
        page = pick(self.pages(), page)
        self.atlassian.update_page(page.id, body=self.body(parts, self.space_key(page)))
        self.announce("edit", fate, f"{self.describe(page)} now version {page.version.number}", then=then)

    @confluence_change(when=lambda self: self.pages(), page=st.integers(0, 99), title=st.integers(0, 99))
    def rename(self, page, title, fate, then):
        page = pick(self.pages(), page)
        before = page.title
        self.atlassian.rename_page(page.id, self.new_title(title))
        self.announce("rename", fate, f"{before!r} → {self.describe(page)}", then=then)

    @confluence_change(
        when=lambda self: self.pages(), page=st.integers(0, 99), space=st.integers(0, 9), parent=st.integers(-1, 99)
    )
    def move(self, page, space, parent, fate, then):
        page = pick(self.pages(), page)
        space = pick(self.spaces(), space)
        below = {p.id for p in self.atlassian.descendants(page)} | {page.id}
        parents = [p for p in self.pages(space_key=space.key) if p.id not in below]
        parent_page = parents[parent % len(parents)] if parents and parent >= 0 else None
        before = self.describe(page)
        self.atlassian.move_page(page.id, parent_id=parent_page.id if parent_page else None, space_key=space.key)
        where = f"under {self.describe(parent_page)}" if parent_page else f"to the root of {space.key}"
        self.announce("move", fate, f"{before} {where}", then=then)

    @confluence_change(page=st.integers(0, 99), label=st.sampled_from(LABELS))
    def label_add(self, page, label, fate, then):
        candidates = [p for p in self.pages() if label not in p.labels]
        if not candidates:
            return
        page = pick(candidates, page)
        self.atlassian.add_label(page.id, label)
        self.announce("label_add", fate, f"{label!r} on {self.describe(page)}", then=then)

    @confluence_change(
        when=lambda self: any(p.labels for p in self.pages()), page=st.integers(0, 99), label=st.integers(0, 9)
    )
    def label_remove(self, page, label, fate, then):
        page = pick([p for p in self.pages() if p.labels], page)
        label = pick(page.labels, label)
        self.atlassian.remove_label(page.id, label)
        self.announce("label_remove", fate, f"{label!r} from {self.describe(page)}", then=then)

    trash = page_state_rule("trash", "trash_page")
    restore = page_state_rule("restore", "restore_page", "trashed")
    purge = page_state_rule("purge", "purge_page", "trashed")
    archive = page_state_rule("archive", "archive_page")
    unarchive = page_state_rule("unarchive", "unarchive_page", "archived")

    @confluence_change(when=lambda self: self.pages(), page=st.integers(0, 99))
    def restrict(self, page, fate, then):
        """A view restriction that names the connector's account: it can read the page, the repository must not."""
        candidates = [p for p in self.pages() if not p.restrictions.get("read")]
        if not candidates:
            return
        page = pick(candidates, page)
        self.atlassian.restrict_page(page.id, users=[self.atlassian.default_user().account_id])
        self.announce("restrict", fate, self.describe(page), then=then)

    @confluence_change(when=lambda self: any(p.restrictions.get("read") for p in self.pages()), page=st.integers(0, 99))
    def unrestrict(self, page, fate, then):
        page = pick([p for p in self.pages() if p.restrictions.get("read")], page)
        self.atlassian.unrestrict_page(page.id)
        self.announce("unrestrict", fate, self.describe(page), then=then)

    @confluence_change(
        when=lambda self: self.pages(), page=st.integers(0, 99), name=st.sampled_from(FILES), n=st.integers(0, 9)
    )
    def attachment_add(self, page, name, n, fate, then):
        # People attach what their pages show: those pages first.
        shown = [p for p in self.pages() if f'ri:filename="{escape(name)}"' in p.body]
        page = pick(shown or self.pages(), page)
        media_type = "image/png" if name.endswith(".png") else "text/plain"
        attachment = self.atlassian.add_attachment(
            page.id, filename=name, data=f"{name}, revision {n}\n".encode(), media_type=media_type
        )
        verb = "added" if attachment.latest.number == 1 else f"replaced (version {attachment.latest.number})"
        self.announce("attachment_add", fate, f"{name!r} {verb} on {self.describe(page)}", then=then)

    @confluence_change(when=lambda self: self.with_attachments(), page=st.integers(0, 99), which=st.integers(0, 9))
    def attachment_delete(self, page, which, fate, then):
        page = pick(self.with_attachments(), page)
        attachments = self.attachments(page)
        attachment = attachments[which % len(attachments)]
        self.atlassian.trash_attachment(attachment.id)  # what Confluence's DELETE does first
        self.announce("attachment_delete", fate, f"{attachment.title!r} from {self.describe(page)}", then=then)

    @confluence_change(when=lambda self: len(self.spaces()) > 1, space=st.integers(0, 9))
    def space_delete(self, space, fate, then):
        space = pick(self.spaces(), space)
        self.atlassian.delete_space(self.cloud_id, space.key)
        self.announce("space_delete", fate, space.key, then=then)

    @confluence_change(when=lambda self: len(self.spaces()) < MAX_SPACES)
    def space_create(self, fate, then):
        taken = {space.key for space in self.atlassian.spaces.values()}
        number = next(n for n in range(len(taken) + 1, 2 * len(taken) + 2) if f"NEW{n}" not in taken)
        space = self.atlassian.create_space(self.cloud_id, key=f"NEW{number}", name=f"New space {number}")
        self.announce("space_create", fate, space.key, then=then)

    # Changes of scope (the wizard's Save) ---------------------------------------------------------------------

    @rule(
        op=st.sampled_from(("space", "page", "exclude", "label", "restricted")),
        pick=st.integers(0, 99),
        descendants=st.booleans(),
        then=THEN,
    )
    @step
    def change_scope(self, op, pick, descendants, then):
        scope = SyncScope.objects.get(connection=self.connection)
        site_spaces = {s.key: s for s in self.spaces()}
        current = {p.id: p for p in self.pages()}
        # What the wizard shows as ticked, minus what Confluence no longer lists (Save refuses those).
        spaces = [site_spaces[s["key"]] for s in scope.spaces if s["key"] in site_spaces]
        pages = [(current[str(p["id"])], p.get("descendants", True)) for p in scope.pages if str(p["id"]) in current]
        excluded = [
            (current[str(p["id"])], p.get("descendants", True)) for p in scope.excluded_pages if str(p["id"]) in current
        ]
        labels = list(scope.excluded_labels)
        if op == "restricted":  # an organization admin's opt-in (or out), a page of its own in the wizard
            steps.set_include_restricted(self.connection, include=not scope.include_restricted, user=self.user)
            self.note_scope_change("restricted pages " + ("included" if not scope.include_restricted else "left out"))
            if then == "work":
                self.log[-1] += " → worker"
                self.work()
            return
        if op == "space":
            space = list(site_spaces.values())[pick % len(site_spaces)]
            spaces = [s for s in spaces if s.key != space.key] if space in spaces else [*spaces, space]
            what = f"space {space.key} {'out' if space not in spaces else 'in'}"
        elif op == "label":
            label = LABELS[pick % len(LABELS)]
            labels = [x for x in labels if x != label] if label in labels else sorted([*labels, label])
            what = f"excluded labels {labels}"
        else:
            if not current:
                return
            page = list(current.values())[pick % len(current)]
            chosen = pages if op == "page" else excluded
            if any(p.id == page.id for p, _ in chosen):
                chosen[:] = [(p, d) for p, d in chosen if p.id != page.id]
                what = f"{op} {self.describe(page)} no more"
            else:
                chosen.append((page, descendants))
                what = f"{op} {self.describe(page)}{' with descendants' if descendants else ' only'}"
        if not spaces and not pages:
            return  # the wizard refuses an empty scope
        self.save_scope(spaces=spaces, pages=pages, excluded=excluded, labels=labels)
        self.note_scope_change(what)
        if then == "work":
            self.log[-1] += " → worker"
            self.work()

    def note_scope_change(self, what: str) -> None:
        self.changes += 1
        self.dirty = True
        STATS.operations["scope_change"] += 1
        self.log.append(f"scope_change: {what} → {self.scope_text()}")

    def save_scope(self, *, spaces, pages, excluded, labels) -> None:
        def entry(page, descendants):
            return {"id": page.id, "title": page.title, "space_key": self.space_key(page), "descendants": descendants}

        steps.save_scope(
            self.connection,
            spaces=[{"id": s.id, "key": s.key, "name": s.name} for s in spaces],
            pages=[entry(p, d) for p, d in pages],
            excluded_pages=[entry(p, d) for p, d in excluded],
            excluded_labels=list(labels),
            user=self.user,
            summary="Saved by the model-based test",
        )

    def scope_text(self) -> str:
        scope = SyncScope.objects.get(connection=self.connection)
        pages = [f"{p['id']}{'+' if p.get('descendants', True) else ''}" for p in scope.pages]
        excluded = [f"{p['id']}{'+' if p.get('descendants', True) else ''}" for p in scope.excluded_pages]
        spaces = [s["key"] for s in scope.spaces]
        restricted = " restricted included" if scope.include_restricted else ""
        return f"spaces {spaces} pages {pages} excluded {excluded} labels {scope.excluded_labels}{restricted}"

    # Outside pushes -------------------------------------------------------------------------------------------

    @rule(where=st.integers(0, len(OUTSIDE_PATHS) - 1), n=st.integers(0, 9))
    @step
    def outside_push(self, where, n):
        keys = [s.key for s in self.spaces()]
        path = OUTSIDE_PATHS[where].format(space=keys[n % len(keys)])
        self.push_outside(path, f"Written by someone else, revision {n}.\n".encode())
        STATS.operations["outside_push"] += 1
        self.log.append(f"outside_push: {path}")

    def push_outside(self, path: str, content: bytes) -> None:
        self.github.push_outside_commit(OWNER, REPO, files={path: content}, message=f"Edit {path}")
        self.outside[path] = content

    # Deliveries and runs ------------------------------------------------------------------------------------

    @precondition(lambda self: self.late)
    @rule(pick=st.integers(0, 99))
    @step
    def deliver_late(self, pick):
        change, deliveries = self.late.pop(pick % len(self.late))
        self.log.append(f"deliver_late: the events of change {change}")
        self.deliver(deliveries, resign=True)  # a late invocation carries a token minted when it is sent
        self.unsynced.discard(change)
        self.dirty = True

    @rule()
    @step
    def worker(self):
        """The worker runs what events and saves queued (targeted runs, mostly)."""
        self.start_work("worker")

    @rule()
    @step
    def sync_now(self):
        self.start_work("sync_now", lambda: card.sync_now(self.connection))

    @rule()
    @step
    def full_resync(self):
        """The admin's "Full re-sync" (re-read and re-render every page)."""
        self.start_work(
            "full_resync", lambda: queue.enqueue_sync(self.connection, trigger=SyncRun.Trigger.ADMIN, full=True)
        )

    @rule()
    @step
    def reconcile(self):
        def reconcile_every_connection():
            with override_settings(CONFLUENCE_RECONCILE_HOURS=0):  # every connection is due
                tasks.reconcile_due()

        self.start_work("reconcile", reconcile_every_connection)

    def start_work(self, kind: str, queue_runs=None) -> None:
        """Log and count `kind`; `queue_runs` queues runs its way (without it, the worker runs what is queued
        already); then the worker runs them."""
        self.log.append(kind)
        STATS.operations[kind] += 1
        if queue_runs is not None:
            queue_runs()
        self.work()

    def work(self) -> None:
        head = self.head()
        before = checks.ours(self.github.read_tree(OWNER, REPO, head), self.outside)
        finished = []
        for _ in range(MAX_RUNS_PER_BATCH):
            run = SyncRun.objects.filter(connection=self.connection, status=SyncRun.Status.QUEUED).order_by("id")
            run = run.first()
            if run is None:
                break
            tasks.run_sync(run.id)
            run.refresh_from_db()
            STATS.runs += 1
            self.log.append(f"  run #{run.id} ({self.run_text(run)})")
            self.check_run(run, head)
            finished.append(run)
            head = self.head()
        else:
            raise self.divergence(f"runs kept being queued: {MAX_RUNS_PER_BATCH} in a row")
        if any(run.page_ids is None for run in finished):
            self.unsynced = set()  # a whole-scope run read every page version and attachment listing so far
        if self.unsynced or not (self.dirty or finished):
            return
        expected = self.expected_tree()
        actual = checks.ours(self.github.read_tree(OWNER, REPO, head), self.outside)
        problems = checks.tree_differences(actual, expected)
        if before == expected and any(run.commit_sha for run in finished):
            problems.append("the repository held the selection already, yet a run committed")
        if problems:
            raise self.divergence("the repository differs from a clean sync of the same scope", problems)
        self.dirty = False

    def run_text(self, run: SyncRun) -> str:
        pages = f"pages {', '.join(run.page_ids)}" if run.page_ids is not None else "whole scope"
        counts = {k: v for k, v in (run.counts or {}).items() if v and k not in ("seen", "unchanged")}
        commit = f"commit {run.commit_sha[:7]}" if run.commit_sha else "no commit"
        return f"{run.trigger}, {pages}: {run.status}, {counts}, {commit}"

    def head(self) -> str:
        return self.github.head_sha(OWNER, REPO)

    def check_run(self, run: SyncRun, head_before: str) -> None:
        if run.status != SyncRun.Status.SUCCEEDED:
            raise self.divergence(f"run #{run.id} failed ({run.error_kind}): {run.error}")
        head = self.head()
        tree = self.github.read_tree(OWNER, REPO, head)
        problems = checks.outside_problems(tree, self.outside) + checks.index_problems(tree, self.outside)
        if run.commit_sha:
            path = self.github.repository_path(OWNER, REPO)
            commit = gitstore.read_commit(path, run.commit_sha)
            if run.commit_sha != head or commit.parents != (head_before,):
                problems.append(f"run #{run.id} did not make one commit on {head_before[:7]}")
            before = checks.ours(self.github.read_tree(OWNER, REPO, head_before), self.outside)
            after = checks.ours(tree, self.outside)
            problems += [
                f"commit {run.commit_sha[:7]}: {p}" for p in checks.message_problems(commit.message, before, after)
            ]
            if problems:
                problems.append(f"its message:\n    {commit.message.replace(chr(10), chr(10) + '    ')}")
        elif head != head_before:
            problems.append(f"run #{run.id} recorded no commit but the branch moved")
        if problems:
            raise self.divergence(f"run #{run.id} left the repository wrong", problems)

    def expected_tree(self) -> dict[str, bytes]:
        """A clean sync's tree, made again only when Confluence or the scope changed since the last one, and
        checked against Confluence itself: a bug that a clean sync shares is a bug all the same."""
        state = self.fingerprint()
        if self.expected is None or self.expected[0] != state:
            tree = self.clean_tree()
            scope = SyncScope.objects.get(connection=self.connection)
            chosen = {
                "spaces": scope.spaces,
                "pages": scope.pages,
                "excluded_pages": scope.excluded_pages,
                "excluded_labels": scope.excluded_labels,
                "include_restricted": scope.include_restricted,
            }
            problems = checks.selection_problems(tree, self.site_pages(), chosen)
            problems += checks.attachment_problems(tree, self.site_attachments())
            problems += checks.path_problems(tree, max_path_units=MAX_PATH_UNITS)
            problems += checks.link_problems(tree)
            if problems:
                raise self.divergence("a clean sync of this scope writes something else than the selection", problems)
            self.expected = (state, tree)
        return self.expected[1]

    def site_pages(self) -> dict[str, checks.SitePage]:
        pages = {}
        for page in self.pages("current", "archived", "trashed", "draft"):
            pages[page.id] = checks.SitePage(
                id=page.id,
                title=page.title,
                space_key=self.space_key(page),
                status=page.status,
                parent_id=page.parent_id,
                version=page.version.number,
                labels=tuple(page.labels),
                ancestors=tuple(a.title for a in self.atlassian.ancestors(page)),
                read_restricted=bool(page.restrictions.get("read")),  # its own; the oracle works out inheritance
            )
        return pages

    def site_attachments(self) -> dict[str, checks.SiteAttachment]:
        found = {}
        for attachment in self.atlassian.attachments.values():
            page = self.atlassian.pages.get(attachment.page_id)
            if page is None or page.cloud_id != self.cloud_id:
                continue
            found[attachment.id] = checks.SiteAttachment(
                id=attachment.id,
                page_id=attachment.page_id,
                title=attachment.title,
                status=attachment.status,
                version=attachment.latest.number,
                data=self.atlassian.read_media(attachment.latest.file_id) or b"",
            )
        return found

    def fingerprint(self) -> str:
        """Everything of the simulated site a sync can read, and the scope."""
        a, scope = self.atlassian, SyncScope.objects.get(connection=self.connection)
        pages = sorted(
            (
                p.id,
                p.title,
                p.status,
                p.parent_id,
                p.position,
                p.space_id,
                repr(p.version),
                p.labels,
                p.body,
                p.attachment_ids,
                repr(p.restrictions),
            )
            for p in a.pages.values()
            if p.cloud_id == self.cloud_id
        )
        files = sorted((f.id, f.title, f.status, f.page_id, len(f.versions)) for f in a.attachments.values())
        spaces = sorted((s.id, s.key, s.name, s.status, s.homepage_id) for s in self.spaces())
        chosen = (scope.spaces, scope.pages, scope.excluded_pages, scope.excluded_labels, scope.include_restricted)
        return repr((pages, files, spaces, chosen))

    def clean_tree(self) -> dict[str, bytes]:
        """What a clean sync of the same scope writes into an empty repository: a fresh connection made with the
        wizard's functions (the same Atlassian grant, a new repository), the same scope saved, its runs run; then
        forgotten (a rolled-back savepoint), so no event or schedule ever reaches it."""
        STATS.checks += 1
        self.clean_repositories += 1
        name = f"clean-{self.clean_repositories}"
        self.github.create_repository(OWNER, name, private=True)
        scope = SyncScope.objects.get(connection=self.connection)
        with transaction.atomic():
            clean = Connection.create_with_tasks(
                org=self.org, kind=Connection.Kind.CONFLUENCE, created_by=self.user, name=name
            )
            demo.link_atlassian(clean, self.grants, user=self.user)
            steps.sync_github_step(clean, user=self.user)
            installation = Installation.objects.get(installation_id=self.grants["github_installation_id"])
            sync_repositories(installation)  # what GitHub's installation_repositories webhook leads to
            repository = installation.repositories.get(full_name=f"{OWNER}/{name}")
            steps.select_repository(clean, repository, user=self.user, public_confirmed=True)
            steps.save_scope(
                clean,
                spaces=scope.spaces,
                pages=scope.pages,
                excluded_pages=scope.excluded_pages,
                excluded_labels=scope.excluded_labels,
                user=self.user,
                summary="The clean sync's copy of the scope",
            )
            steps.set_include_restricted(clean, include=scope.include_restricted, user=self.user)
            queued = SyncRun.objects.filter(connection=clean, status=SyncRun.Status.QUEUED)
            while (run := queued.first()) is not None:
                tasks.run_sync(run.id)
                run.refresh_from_db()
                if run.status != SyncRun.Status.SUCCEEDED:
                    raise self.divergence(f"the clean sync failed ({run.error_kind}): {run.error}")
            transaction.set_rollback(True)
        return self.github.read_tree(OWNER, name, "main")

    def divergence(self, what: str, problems: list[str] = ()) -> Divergence:
        details = "".join(f"\n  - {p}" for p in problems)
        return Divergence(f"{what}{details}\nSteps, as the machine saw them:\n{self.steps_text()}")

    def steps_text(self) -> str:
        """The log, numbered by step; the runs a step started are indented below it."""
        lines, number = [], 0
        for line in self.log:
            if line.startswith("  "):
                lines.append(f"     {line.strip()}")
            else:
                number += 1
                lines.append(f"  {number:>2}. {line}")
        return "\n".join(lines)
