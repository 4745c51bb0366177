"""Keep the live sandbox's world on disk, so the web server, `sandbox_seed` and other processes share it.

Each request to /sandbox/ takes an exclusive file lock, reloads the state if another process changed it,
and saves it afterwards. Webhooks the simulators emit meanwhile wait in their outboxes and are posted after the
lock is released, because the site's handlers call back into the sandbox (the JWKS, the GitHub API). Fine for a
developer's machine; the tests never come here (they hold a World in memory).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from sandbox.world import World

_lock = threading.Lock()
_cache: dict[str, object] = {"path": None, "world": None, "mtime": None, "saved": None}


def state_path() -> Path:
    return Path(settings.SANDBOX_DIR) / "state.json"


def new_world() -> World:
    site_url = settings.PUBLIC_BASE_URL
    return World(root=Path(settings.SANDBOX_DIR), sandbox_url=f"{site_url}/sandbox", site_url=site_url)


@contextlib.contextmanager
def world_for_request() -> Iterator[World]:
    """The shared world, locked against other threads and processes for the duration of the block."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path.with_suffix(".lock"), "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        world = _load(path)
        for simulator in world.simulators().values():
            simulator.defer_deliveries = True
        try:
            yield world
        finally:
            _save_if_changed(path, world)
            outboxes = [(sim, sim.take_outbox()) for sim in world.simulators().values()]
    # Unlocked: the site may now call back into the sandbox while handling these deliveries.
    for simulator, deliveries in outboxes:
        if deliveries:
            threading.Thread(target=simulator.flush_outbox, args=(deliveries,), daemon=True).start()


def _load(path: Path) -> World:
    mtime = path.stat().st_mtime_ns if path.exists() else None
    world = _cache.get("world")
    if world is None or _cache.get("path") != path or mtime != _cache.get("mtime"):
        world = new_world()
        text = path.read_text() if mtime is not None else None
        if text:
            world.restore(json.loads(text))
        _cache.update(path=path, world=world, mtime=mtime, saved=text)
    return world


def _save_if_changed(path: Path, world: World) -> None:
    text = json.dumps(world.snapshot(), sort_keys=True)
    if text == _cache.get("saved"):
        return
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    _cache.update(mtime=path.stat().st_mtime_ns, saved=text)
