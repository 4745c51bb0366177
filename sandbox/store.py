"""Keep the live sandbox's world on disk, so the web server, `sandbox_seed` and other processes share it.

Each request to /sandbox/ takes an exclusive file lock, reloads the state if another process changed it,
and saves it afterwards. Fine for a developer's machine; the tests never come here (they hold a World in memory).
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
_cache: dict[str, object] = {"world": None, "mtime": None}


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
        before = json.dumps(world.snapshot(), sort_keys=True)
        try:
            yield world
        finally:
            after = world.snapshot()
            if json.dumps(after, sort_keys=True) != before:
                _save(path, after)


def _load(path: Path) -> World:
    mtime = path.stat().st_mtime_ns if path.exists() else None
    world = _cache["world"]
    if world is None or mtime != _cache["mtime"]:
        world = new_world()
        if mtime is not None:
            world.restore(json.loads(path.read_text()))
        _cache.update(world=world, mtime=mtime)
    return world


def _save(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
    _cache["mtime"] = path.stat().st_mtime_ns
