"""Keep the live sandbox's world on disk, so the web server, `sandbox_seed` and other processes share it.

Each request to /sandbox/ takes an exclusive file lock, reloads the state if another process changed it,
and saves it afterwards if it changed. Webhooks the simulators emit meanwhile wait in their outboxes and are
posted after the lock is released, because the site's handlers call back into the sandbox (the JWKS, the GitHub
API). Fine for a developer's machine; the tests never come here (they hold a World in memory).

Serialising a seeded world takes about a second, so a block that says its changes are counted
(`only_marked_changes`) is saved only when a simulator's change count (`Simulator.changes`) moved, and then only
that simulator is serialised again: the others' JSON is kept from the last save.
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

from sandbox.core import Simulator
from sandbox.world import World

_lock = threading.Lock()
# `saved`: each simulator's change count and JSON as last saved or loaded (None: not serialised since loading).
_cache: dict[str, object] = {"path": None, "world": None, "mtime": None, "saved": {}}


def state_path() -> Path:
    return Path(settings.SANDBOX_DIR) / "state.json"


def new_world() -> World:
    site_url = settings.PUBLIC_BASE_URL
    return World(root=Path(settings.SANDBOX_DIR), sandbox_url=f"{site_url}/sandbox", site_url=site_url)


@contextlib.contextmanager
def world_for_request(*, only_marked_changes: bool = False) -> Iterator[World]:
    """The shared world, locked against other threads and processes for the duration of the block.

    By default the block may change anything, so every simulator is serialised afterwards and the world saved if
    that differs from what is on disk. With `only_marked_changes` the block promises that every change it makes is
    counted by the simulators (requests they answer, `mark_changed`), and nothing is serialised without one.
    """
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
            _save_changes(path, world, everything=not only_marked_changes)
            outboxes = [(sim, sim.take_outbox()) for sim in world.simulators().values()]
    # Unlocked: the site may now call back into the sandbox while handling these deliveries.
    for simulator, deliveries in outboxes:
        if deliveries:
            threading.Thread(target=_deliver, args=(simulator, deliveries), daemon=True).start()


def _deliver(simulator: Simulator, deliveries: list) -> None:
    simulator.flush_outbox(deliveries)
    # The simulator keeps each delivery's answer in its state: saved with the next request that saves.
    with simulator.lock:
        simulator.mark_changed()


def _load(path: Path) -> World:
    mtime = path.stat().st_mtime_ns if path.exists() else None
    world = _cache.get("world")
    if world is None or _cache.get("path") != path or mtime != _cache.get("mtime"):
        world = new_world()
        text = path.read_text() if mtime is not None else None
        if text:
            world.restore(json.loads(text))
        saved = {name: (sim.changes, None) for name, sim in world.simulators().items()}
        _cache.update(path=path, world=world, mtime=mtime, saved=saved)
    return world


def _save_changes(path: Path, world: World, *, everything: bool) -> None:
    saved: dict[str, tuple[int, str | None]] = _cache["saved"]
    simulators = world.simulators()
    # Counted before serialising: a change counted meanwhile (a delivery's answer) is saved the next time.
    counts = {name: sim.changes for name, sim in simulators.items()}
    stale = [name for name in simulators if everything or counts[name] != saved[name][0]]
    texts = {name: _serialise(simulators[name]) for name in stale}
    changed = any(texts[name] != saved[name][1] for name in stale)
    saved.update({name: (counts[name], texts[name]) for name in stale})
    if not changed:
        return
    for name, (count, text) in saved.items():
        if text is None:
            saved[name] = (count, _serialise(simulators[name]))
    # What json.dumps(world.snapshot(), sort_keys=True) writes, from each simulator's JSON.
    whole = "{" + ", ".join(f"{json.dumps(name)}: {saved[name][1]}" for name in sorted(saved)) + "}"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(whole)
    os.replace(tmp, path)
    _cache.update(mtime=path.stat().st_mtime_ns)


def _serialise(simulator: Simulator) -> str:
    return json.dumps(simulator.snapshot(), sort_keys=True)
