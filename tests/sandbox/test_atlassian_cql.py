"""The CQL subset parser, without HTTP."""

from __future__ import annotations

import pytest

from sandbox.atlassian import cql
from sandbox.atlassian.models import iso


def test_it_parses_the_clauses_the_sync_engine_uses():
    query = cql.parse(
        "type = page AND space in (\"ENG\", 'OPS') and id in (1, 2) "
        'AND lastmodified >= "2026-01-02 03:04" ORDER BY lastmodified DESC, id'
    )
    assert query.clauses == (
        cql.Clause("type", "=", ("page",)),
        cql.Clause("space", "in", ("ENG", "OPS")),
        cql.Clause("id", "in", ("1", "2")),
        cql.Clause("lastmodified", ">=", ("2026-01-02 03:04",)),
    )
    assert query.order == (("lastmodified", True), ("id", False))


def test_it_parses_not_in_and_escaped_quotes():
    query = cql.parse(r'label not in ("a\"b") and title = "x"')
    assert query.clauses[0] == cql.Clause("label", "not in", ('a"b',))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "type = page OR label = a",
        "text ~ foo",
        "space in (A",
        'lastmodified >= "yesterday"',
        "type = page ORDER BY relevance",
        "ancestor != 1",
        "type page",
    ],
)
def test_it_rejects_everything_else(text):
    with pytest.raises(cql.CQLError):
        cql.parse(text)


def test_it_compares_dates_at_the_literal_granularity():
    moment = 1767323045678  # 2026-01-02T03:04:05.678Z
    assert iso(moment) == "2026-01-02T03:04:05.678Z"
    assert cql.compare_date(moment, ">=", "2026-01-02 03:04")
    assert not cql.compare_date(moment, ">", "2026-01-02 03:04")
    assert cql.compare_date(moment, "=", "2026/01/02")
    assert cql.compare_date(moment, "<", "2026-01-03")
