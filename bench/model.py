"""The repository is exactly the selection, after any sequence of changes: `python -m bench.model --examples N
[--seed S]`.

Runs the state machine of bench/model_machine.py (changes in Confluence, changes of scope, Forge events delivered,
dropped, duplicated or late, targeted runs, "Sync now" and reconciliation, outside pushes; every run checked, and
the repository compared with a clean sync whenever it must be right) for N examples with hypothesis, and prints one
JSON object:

    {"seed", "examples", "steps", "runs", "divergences", "operations": {kind: count},
     "checks", "silent", "seconds", "seconds_per_example"[, "failure"]}

`checks` counts the clean syncs compared against, `silent` the changes the simulator sent no Forge event for (by
kind; those wait for a reconciliation). On a divergence it exits 1, and the JSON's `failure` (also printed to
stderr) holds the shrunk failing sequence: hypothesis's steps and the machine's account of them. The same seed
gives the same examples. Runs on SQLite in a temporary directory unless DATABASE_URL is set (see bench/ingest.py);
tests/confluence/test_model.py runs a few examples in the suite.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import _configure

STEPS = 15  # rules per example, after the first sync: enough to reach every bug found so far, and quick to shrink
KINDS = (
    "create",
    "edit",
    "rename",
    "move",
    "label_add",
    "label_remove",
    "trash",
    "restore",
    "purge",
    "archive",
    "unarchive",
    "attachment_add",
    "attachment_delete",
    "restrict",
    "unrestrict",
    "space_delete",
    "space_create",
    "scope_change",
    "outside_push",
    "event_deliver",
    "event_drop",
    "event_duplicate",
    "event_late",
    "worker",
    "sync_now",
    "reconcile",
    "full_resync",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None, help="default: a random seed, printed in the result")
    parser.add_argument("--steps", type=int, default=STEPS, help="rules per example")
    parser.add_argument("--trace", action="store_true", help="print every example's steps to stderr")
    args = parser.parse_args()
    _configure(Path(tempfile.mkdtemp(prefix="ctx-bench-model-")))
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    report = explore(examples=args.examples, seed=seed, steps=args.steps, trace=args.trace)
    print(json.dumps(report))
    if report["divergences"]:
        failure = report["failure"]
        print("\n".join([*failure["sequence"], "", failure["error"]]), file=sys.stderr)
        sys.exit(1)


def explore(*, examples: int, seed: int, steps: int = STEPS, trace: bool = False) -> dict:
    """Run the machine for `examples` examples from `seed` (Django set up, a database available) and report."""
    from hypothesis import seed as seeded
    from hypothesis import settings
    from hypothesis.reporting import with_reporter
    from hypothesis.stateful import run_state_machine_as_test

    from bench import model_machine

    model_machine.STATS = stats = model_machine.Stats(trace=trace)
    reported: list[str] = []
    failure = None
    start = time.perf_counter()
    try:
        with with_reporter(reported.append):
            run_state_machine_as_test(
                seeded(seed)(lambda: model_machine.SyncModel()),
                settings=settings(model_machine.EXPLORATION, max_examples=examples, stateful_step_count=steps),
            )
    except Exception as error:  # a divergence, or the engine or the machine crashing: each is a finding
        notes = [*reported, *getattr(error, "__notes__", [])]  # hypothesis adds the steps as notes or reports
        failure = {"sequence": [line for text in notes for line in str(text).splitlines()], "error": describe(error)}
    seconds = time.perf_counter() - start
    report = {
        "seed": seed,
        "examples": stats.examples,
        "steps": stats.steps,
        "runs": stats.runs,
        "divergences": 1 if failure else 0,
        "operations": {kind: stats.operations.get(kind, 0) for kind in KINDS}
        | {k: v for k, v in sorted(stats.operations.items()) if k not in KINDS},
        "checks": stats.checks,
        "silent": dict(sorted(stats.silent.items())),
        "seconds": round(seconds, 1),
        "seconds_per_example": round(seconds / stats.examples, 2) if stats.examples else None,
    }
    if failure:
        report["failure"] = failure
    return report


def describe(error: Exception) -> str:
    from bench.model_machine import Divergence

    if isinstance(error, Divergence):
        return f"Divergence: {error}"
    import traceback

    # Without the notes, which are the sequence already.
    return "".join([*traceback.format_tb(error.__traceback__), f"{type(error).__name__}: {error}"])


if __name__ == "__main__":
    main()
