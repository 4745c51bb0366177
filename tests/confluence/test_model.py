"""The model-based test of issue 14, in the suite: a few examples of bench/model_machine.py (changes in Confluence
and of the scope, Forge events delivered, dropped, duplicated or late, targeted runs, "Sync now" and
reconciliation), each compared with a clean sync of the same scope. `python -m bench.model` runs many more."""

import pytest

from bench.model import explore

pytestmark = pytest.mark.django_db

SEED = 20261205  # fixed, so a failure here is the same failure on every machine


@pytest.mark.slow
def test_the_repository_is_exactly_the_selection_after_any_sequence_of_changes():
    report = explore(examples=8, seed=SEED, steps=12)

    assert report["divergences"] == 0, "\n".join([*report["failure"]["sequence"], report["failure"]["error"]])
    assert report["examples"] >= 8 and report["checks"] > 0 and report["runs"] > 8
