"""The small, strict subset of CQL the sync engine and common loaders use.

Clauses `type`, `space` (or `space.key`), `id`, `label`, `ancestor`, `parent`, `title`, `created` and
`lastmodified`, joined by AND, with an optional ORDER BY. Anything else is a 400 "Could not parse cql", like
the real service answers syntax it cannot read. Dates are compared in UTC (the sandbox user's time zone).

Reference: https://developer.atlassian.com/cloud/confluence/advanced-searching-using-cql/
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>>=|<=|!=|=|>|<)|(?P<punct>[(),])|(?P<word>[\w.:-]+))"""
)
FIELDS = {
    "type": ("=", "!=", "in", "not in"),
    "space": ("=", "!=", "in", "not in"),
    "space.key": ("=", "!=", "in", "not in"),
    "id": ("=", "!=", "in", "not in"),
    "content": ("=", "!=", "in", "not in"),
    "label": ("=", "!=", "in", "not in"),
    "ancestor": ("=", "in"),
    "parent": ("=", "in"),
    "title": ("=", "!="),
    "created": ("=", ">=", ">", "<=", "<"),
    "lastmodified": ("=", ">=", ">", "<=", "<"),
}
ORDER_FIELDS = ("id", "lastmodified", "created", "title")
DATE_FORMATS = {"%Y-%m-%d %H:%M": 60_000, "%Y/%m/%d %H:%M": 60_000, "%Y-%m-%d": 86_400_000, "%Y/%m/%d": 86_400_000}


class CQLError(ValueError):
    pass


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    order: tuple[tuple[str, bool], ...]  # (field, descending)


def parse(cql: str) -> Query:
    tokens = tokenize(cql)
    clauses, order = [], []
    position = 0
    while position < len(tokens) and not _is_word(tokens, position, "order"):
        clause, position = _parse_clause(tokens, position)
        clauses.append(clause)
        if position < len(tokens) and _is_word(tokens, position, "and"):
            position += 1
            continue
        if position < len(tokens) and not _is_word(tokens, position, "order"):
            raise CQLError(f"unexpected {tokens[position][1]!r}")
    if position < len(tokens):
        order = _parse_order(tokens, position + 1)
    if not clauses:
        raise CQLError("empty query")
    return Query(tuple(clauses), tuple(order))


def tokenize(cql: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    cql = cql.rstrip()
    while position < len(cql):
        match = TOKEN.match(cql, position)
        if not match or match.end() == position:
            raise CQLError(f"unexpected character at {position}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        position = match.end()
    return tokens


def _is_word(tokens, position: int, word: str) -> bool:
    kind, value = tokens[position]
    return kind == "word" and value.lower() == word


def _parse_clause(tokens, position: int) -> tuple[Clause, int]:
    kind, field = tokens[position]
    field = field.lower()
    if kind != "word" or field not in FIELDS:
        raise CQLError(f"unknown field {field!r}")
    position += 1
    op, position = _parse_operator(tokens, position)
    if op not in FIELDS[field]:
        raise CQLError(f"operator {op} not supported for {field}")
    if op in ("in", "not in"):
        values, position = _parse_list(tokens, position)
    else:
        values, position = (_value(tokens, position),), position + 1
    if field in ("created", "lastmodified"):
        parse_date(values[0])
    return Clause(field, op, values), position


def _parse_operator(tokens, position: int) -> tuple[str, int]:
    if position >= len(tokens):
        raise CQLError("missing operator")
    kind, value = tokens[position]
    if kind == "op":
        return value, position + 1
    if _is_word(tokens, position, "in"):
        return "in", position + 1
    if _is_word(tokens, position, "not") and position + 1 < len(tokens) and _is_word(tokens, position + 1, "in"):
        return "not in", position + 2
    raise CQLError(f"unknown operator {value!r}")


def _parse_list(tokens, position: int) -> tuple[tuple[str, ...], int]:
    if position >= len(tokens) or tokens[position] != ("punct", "("):
        raise CQLError("expected (")
    values, position = [], position + 1
    while True:
        values.append(_value(tokens, position))
        position += 1
        if position >= len(tokens):
            raise CQLError("unclosed list")
        if tokens[position] == ("punct", ")"):
            return tuple(values), position + 1
        if tokens[position] != ("punct", ","):
            raise CQLError("expected , or )")
        position += 1


def _value(tokens, position: int) -> str:
    if position >= len(tokens) or tokens[position][0] not in ("string", "word"):
        raise CQLError("expected a value")
    return tokens[position][1]


def _parse_order(tokens, position: int) -> list[tuple[str, bool]]:
    if position >= len(tokens) or not _is_word(tokens, position, "by"):
        raise CQLError("expected BY")
    order, position = [], position + 1
    while position < len(tokens):
        field = tokens[position][1].lower()
        if field not in ORDER_FIELDS:
            raise CQLError(f"cannot order by {field!r}")
        position += 1
        descending = False
        if position < len(tokens) and tokens[position][0] == "word" and tokens[position][1].lower() in ("asc", "desc"):
            descending = tokens[position][1].lower() == "desc"
            position += 1
        order.append((field, descending))
        if position < len(tokens):
            if tokens[position] != ("punct", ","):
                raise CQLError("expected , in ORDER BY")
            position += 1
    if not order:
        raise CQLError("empty ORDER BY")
    return order


def parse_date(text: str) -> tuple[int, int]:
    """Milliseconds since the epoch of a CQL date literal, and its granularity in milliseconds."""
    for fmt, granularity in DATE_FORMATS.items():
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(moment.timestamp() * 1000), granularity
    raise CQLError(f"bad date {text!r}")


def compare_date(value_ms: int, op: str, literal: str) -> bool:
    """Compare at the literal's granularity: `lastmodified > "2026-01-02 03:04"` means from 03:05 on."""
    literal_ms, granularity = parse_date(literal)
    truncated = value_ms - value_ms % granularity
    return {
        "=": truncated == literal_ms,
        ">=": truncated >= literal_ms,
        ">": truncated > literal_ms,
        "<=": truncated <= literal_ms,
        "<": truncated < literal_ms,
    }[op]
