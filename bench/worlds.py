"""Simulated worlds for the benchmarks, built and inspected inside the simulator server (`sandbox.serving.server`).

Every function takes the World first and returns plain JSON, so `RunningSimulators.call("bench.worlds:NAME", …)`
can run it in the server's process. No Django here.
"""

from __future__ import annotations

import random

from bench.model_checks import page_id_of
from sandbox.content import PageContext, render_body

SEED = 7
MAX_DEPTH = 6


def seed_site(
    world,
    *,
    pages: int,
    spaces: int,
    name: str = "Bench Wiki",
    url: str = "https://bench.atlassian.net",
    repositories: list[str] | None = None,
    seed: int = SEED,
) -> dict:
    """A site of S spaces sharing N pages (trees deep and wide, realistic storage bodies, labels on some pages),
    and empty GitHub repositories (`owner/name`) owned by an organization of one user."""
    atlassian = world.atlassian
    rng = random.Random(seed)
    site = atlassian.create_site(name=name, url=url)
    keys = [f"S{n}" for n in range(spaces)]
    created: dict[str, list[str]] = {key: [] for key in keys}
    parents: dict[str, list[str]] = {key: [] for key in keys}  # pages shallow enough to take children
    depth: dict[str, int] = {}
    for key in keys:
        atlassian.create_space(site.cloud_id, key=key, name=f"Space {key}", emit=False, homepage=False)
    for n in range(pages):
        key = keys[n % spaces]
        # Mostly recent parents, so trees are deep as well as wide, but no deeper than real sites' trees.
        recent = parents[key][-8:]
        parent = rng.choice(recent) if recent and rng.random() < 0.9 else None
        title = f"{rng.choice(('Runbook', 'Design', 'Notes', 'Guide', 'FAQ'))} {n}"
        body = render_body(rng, PageContext(title=title, space_key=key, same_space_titles=[]))
        labels = rng.sample(("runbook", "howto", "adr", "draft"), k=rng.randint(0, 2))
        page = atlassian.create_page(
            site.cloud_id, space_key=key, title=title, body=body, parent_id=parent, labels=labels, emit=False
        )
        created[key].append(page.id)
        depth[page.id] = depth[parent] + 1 if parent else 1
        if depth[page.id] < MAX_DEPTH:
            parents[key].append(page.id)
    for full_name in repositories or ["bench-inc/wiki"]:
        owner, repo = full_name.split("/")
        if owner.lower() not in world.github.state.orgs:
            world.github.create_user(f"{owner}-admin", name=owner, email=f"{owner}@example.com")
            world.github.create_org(owner, owners=[f"{owner}-admin"])
        world.github.create_repository(owner, repo, private=True)
    return {"cloud_id": site.cloud_id, "space_keys": keys, "page_ids": [pid for ids in created.values() for pid in ids]}


def restrict_share(world, *, page_ids: list[str], share: float, seed: int = SEED) -> list[str]:
    """Put a view restriction naming the connector's account (so it can still read them) on `share` of the pages;
    their descendants inherit it. Returns every restricted page id, inherited ones included, in page order."""
    atlassian = world.atlassian
    me = atlassian.default_user().account_id
    rng = random.Random(seed)
    for page_id in rng.sample(page_ids, k=round(len(page_ids) * share)):
        atlassian.restrict_page(page_id, users=[me], emit=False)
    return [pid for pid in page_ids if atlassian.restricted_by(atlassian.pages[pid])]


def restrict_page(world, *, page_id: str) -> None:
    world.atlassian.restrict_page(page_id, users=[world.atlassian.default_user().account_id], emit=False)


def restricted_in_repository(world, *, repository: str, page_ids: list[str]) -> int:
    """How many of those pages have a Markdown file on the repository's default branch (front matter page_id)."""
    owner, name = repository.split("/")
    wanted = set(page_ids)
    tree = world.github.read_tree(owner, name, "main")
    return sum(1 for path, content in tree.items() if path.endswith(".md") and page_id_of(content) in wanted)


def grant_connection(world, **kwargs) -> dict:
    return world.grant_connection(**kwargs)


def edit_page(world, *, page_id: str, body: str, emit: bool = False) -> int:
    return world.atlassian.update_page(page_id, body=body, emit=emit).version.number


def request_counts(world) -> dict:
    github = world.github
    return {
        "confluence_requests": world.atlassian.count(),
        "github_requests": github.count(),
        "github_write_requests": github.count() - github.count("GET"),
    }


def reset_logs(world) -> None:
    for simulator in world.simulators().values():
        simulator.reset_log()


def unthrottle_github(world) -> None:
    # Ingesting N files fetches N blobs, over an installation's 5,000 requests an hour past 5,000 pages; the sync
    # is what the benchmarks measure, so the simulated GitHub does not throttle (requests are still counted).
    world.github.rate_limit = 10**9


# Faults and the event storm (bench/faults.py) ---------------------------------------------------------------

FAULT_KINDS = ("429", "429-no-retry-after", "500", "502", "503", "timeout")


def inject_faults(world, *, rate: float, seed: int) -> None:
    """`rate` of the API requests of both services fail (429 with and without Retry-After, 5xx, timeouts). The
    Forge JWKS and OAuth token endpoints stay up: what is tested is the sync's retries, not event signatures."""
    from sandbox.core import FaultPlan

    for offset, simulator in enumerate(world.simulators().values()):
        plan = FaultPlan(rate=rate, kinds=FAULT_KINDS, path_pattern=r"^/api/", seed=seed + offset) if rate else None
        simulator.inject_faults(plan)


def change_pages(world, *, cloud_id: str, space_keys: list[str], count: int, seed: int) -> dict:
    """`count` changes to current pages, each sending its Forge event: mostly edits, some new pages, renames,
    moves within a space, and pages trashed. Returns how many of each."""
    atlassian = world.atlassian
    rng = random.Random(seed)
    done = {"updated": 0, "created": 0, "renamed": 0, "moved": 0, "trashed": 0}
    for _ in range(count):
        key = rng.choice(space_keys)
        space = atlassian.space_by_key(cloud_id, key)
        ids = (str(i) for i in atlassian.space_page_ids[space.id])
        current = [pid for pid in ids if atlassian.pages[pid].status == "current"]
        page_id = rng.choice(current)
        roll = rng.random()
        parent = rng.choice(current)
        if 0.94 <= roll < 0.97 and (parent == page_id or page_id in _ancestors(atlassian, parent)):
            roll = 0.0  # a move under itself is impossible: an edit instead, so every change sends one event
        if roll < 0.80:
            atlassian.update_page(page_id, body=f"<p>Edit {rng.random():.6f}</p>" * rng.randint(1, 20))
            done["updated"] += 1
        elif roll < 0.88:
            title = f"New page {rng.randrange(10**9)}"
            atlassian.create_page(cloud_id, space_key=key, title=title, body="<p>New.</p>", parent_id=page_id)
            done["created"] += 1
        elif roll < 0.94:
            atlassian.update_page(page_id, title=f"Renamed {rng.randrange(10**9)}")
            done["renamed"] += 1
        elif roll < 0.97:
            atlassian.move_page(page_id, parent_id=parent)
            done["moved"] += 1
        else:
            atlassian.trash_page(page_id)
            done["trashed"] += 1
    return done


def _ancestors(atlassian, page_id: str) -> set[str]:
    found, parent = set(), atlassian.pages[page_id].parent_id
    while parent and parent not in found:
        found.add(parent)
        parent = atlassian.pages[parent].parent_id
    return found


def forge_deliveries(world) -> dict:
    """Forge events sent so far, by the status the site answered (0: not reachable)."""
    return {str(status): count for status, count in world.atlassian.delivery_totals.items()}


def forge_events_emitted(world) -> int:
    return world.atlassian.events_emitted


def push_outside(world, *, repository: str, path: str, text: str) -> str:
    owner, name = repository.split("/")
    return world.github.push_outside_commit(owner, name, files={path: text}, message=f"Outside change to {path}")


def repository_path(world, *, repository: str) -> str:
    owner, name = repository.split("/")
    return str(world.github.repository_path(owner, name))
