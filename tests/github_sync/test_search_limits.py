"""Issue 13: search cannot be used to stall the site.

The audit stalled a worker for up to a minute with one query of 1,900 one-letter words, and with `engineering`
3,000 times: every word was its own full-text term. Now a query is reduced to its distinct words and refused
(400) past SEARCH_MAX_QUERY_CHARS characters or SEARCH_MAX_TERMS words, on every engine, on the API and on the
members' page; on PostgreSQL a search statement is cancelled after SEARCH_STATEMENT_TIMEOUT_MS (503).
"""

from __future__ import annotations

import itertools
import string
from contextlib import contextmanager

import pytest
from django.db import DataError, connection
from django.urls import reverse

from github_sync import search
from github_sync.models import ApiKey

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/orgs/acme/search"
# The audit's queries: 1,900 one-letter words (3.8 KB), and one word 3,000 times.
LETTERS = " ".join(itertools.islice(itertools.cycle(string.ascii_lowercase), 1900))
ENGINEERING = " ".join(["engineering"] * 3000)
GLOSSARY = [f"term{n:02d}" for n in range(33)]
TOO_LONG = "The search is too long: 3,799 characters, and at most 512 are allowed. Search for fewer words."
TOO_MANY = (
    "The search has too many different words: 33, and at most 32 are allowed. "
    "Every word must match, so a few specific words find more."
)
TIMED_OUT = (
    "The search took too long and was stopped. Try again in a moment, or search for fewer or more specific words."
)


@pytest.fixture
def corpus(github_connection, push, ingest_now):
    ingest_now(
        push(
            {
                "guide.md": "# Deploying\n\nRun the deploy script, then watch the rollback alarm.",
                "notes.md": "# Notes\n\nWe deploy on Fridays.",
                "glossary.md": "# Glossary\n\n" + " ".join(GLOSSARY) + ".",
            }
        )
    )


@pytest.fixture
def key(acme, alice):
    return ApiKey.issue(org=acme, name="agent", by=alice)[1]


@pytest.fixture(params=["native", "like"])
def engine(request, monkeypatch):
    """Run the test on the database's own full-text search (PostgreSQL or FTS5), then on the LIKE fallback."""
    if request.param == "like":
        monkeypatch.setattr(search, "engine", lambda: "like")
    return search.engine()


def api(client, key, query, **params):
    return client.get(SEARCH, {"q": query, **params}, HTTP_AUTHORIZATION=f"Bearer {key}")


def page(as_user, user, query):
    return as_user(user).get(reverse("search", args=["acme"]), {"q": query})


def paths(hits):
    return sorted({hit.path for hit in hits})


# Length and number of words ------------------------------------------------------------------------------


def test_it_refuses_the_audits_one_letter_query_on_the_api(client, corpus, key):
    response = api(client, key, LETTERS, limit=50)

    assert response.status_code == 400
    assert response.json() == {"error": {"code": "query_too_long", "message": TOO_LONG}}


def test_it_refuses_the_audits_one_letter_query_on_the_page(as_user, bob, corpus):
    response = page(as_user, bob, LETTERS)

    assert response.status_code == 400
    assert TOO_LONG in response.content.decode()


def test_it_refuses_a_word_repeated_past_the_length_limit(client, corpus, key):
    response = api(client, key, ENGINEERING)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "query_too_long"
    assert "35,999 characters, and at most 512" in response.json()["error"]["message"]


def test_it_refuses_33_distinct_words_on_the_api(client, corpus, key):
    response = api(client, key, " ".join(GLOSSARY))

    assert response.status_code == 400
    assert response.json() == {"error": {"code": "too_many_terms", "message": TOO_MANY}}


def test_it_refuses_33_distinct_words_on_the_page(as_user, bob, corpus):
    response = page(as_user, bob, " ".join(GLOSSARY))

    assert response.status_code == 400
    assert TOO_MANY in response.content.decode()


def test_it_refuses_33_distinct_words_on_every_engine(corpus, acme, engine):
    with pytest.raises(search.TooManyTerms, match="33, and at most 32"):
        search.search(acme, " ".join(GLOSSARY))


def test_it_refuses_the_audits_query_on_every_engine(corpus, acme, engine):
    with pytest.raises(search.QueryTooLong, match="3,799 characters"):
        search.search(acme, LETTERS)


def test_it_allows_32_distinct_words_on_every_engine(corpus, acme, engine):
    assert paths(search.search(acme, " ".join(GLOSSARY[:32]))) == ["glossary.md"]


def test_it_counts_a_repeated_word_once_on_every_engine(corpus, acme, engine):
    query = " ".join(["Deploy", "deploy", "DEPLOY"] * 20)  # 60 words, 419 characters

    assert paths(search.search(acme, query)) == ["guide.md", "notes.md"]


def test_it_counts_a_repeated_word_once_on_the_api(client, corpus, key):
    response = api(client, key, " ".join(["deploy"] * 70))  # 70 words, 489 characters

    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_it_reduces_a_query_to_its_distinct_words():
    assert search.query_terms("Deploy the deploy, THE rollback!") == ["deploy", "the", "rollback"]


def test_it_reads_the_limits_when_searching(settings, corpus, acme):
    settings.SEARCH_MAX_TERMS = 1
    with pytest.raises(search.TooManyTerms):
        search.search(acme, "deploy rollback")
    settings.SEARCH_MAX_QUERY_CHARS = 5
    with pytest.raises(search.QueryTooLong):
        search.search(acme, "deploy")


# The same meaning everywhere ------------------------------------------------------------------------------


def test_it_requires_every_word_on_every_engine(corpus, acme, engine):
    # The LIKE fallback used to drop words past the eighth.
    assert search.search(acme, " ".join([*GLOSSARY[:8], "absent"])) == []


def test_it_treats_operators_as_plain_words_on_every_engine(corpus, acme, engine):
    # websearch_to_tsquery read "-rollback" as "not rollback"; every engine now wants both words.
    assert paths(search.search(acme, "deploy -rollback")) == ["guide.md"]


# PostgreSQL statement timeout ------------------------------------------------------------------------------


@contextmanager
def slow_statement(marker: str, condition: str = "(SELECT true FROM pg_sleep(5))"):
    """Add `condition` to the WHERE of the search statement whose SQL contains `marker` (the real statement)."""

    def wrapper(execute, sql, params, many, context):
        if marker in sql:
            sql = sql.replace(" WHERE ", f" WHERE {condition} AND ", 1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def on_postgresql(test):
    """The `postgres` marker: the test runs when DATABASE_URL points at PostgreSQL, as in CI's second run (on SQLite,
    tests/conftest.py deselects it)."""
    return pytest.mark.postgres(test)


@on_postgresql
@pytest.mark.django_db(transaction=True)  # a request outside any transaction, as in production
def test_it_answers_503_when_the_search_times_out_on_the_api(client, corpus, key, settings):
    settings.SEARCH_STATEMENT_TIMEOUT_MS = 100
    with slow_statement("ts_rank"):
        response = api(client, key, "deploy")

    assert response.status_code == 503
    assert response.json() == {"error": {"code": "search_timeout", "message": TIMED_OUT}}
    assert response["Retry-After"] == "10"


@on_postgresql
def test_it_answers_503_when_the_search_times_out_on_the_page(as_user, bob, corpus, settings):
    settings.SEARCH_STATEMENT_TIMEOUT_MS = 100
    with slow_statement("ts_rank"):
        response = page(as_user, bob, "deploy")

    assert response.status_code == 503
    assert TIMED_OUT in response.content.decode()
    assert response["Retry-After"] == "10"


@on_postgresql
def test_it_times_out_the_headline_query_too(corpus, acme, settings):
    settings.SEARCH_STATEMENT_TIMEOUT_MS = 100
    with slow_statement("ts_headline"), pytest.raises(search.SearchTimedOut):
        search.search(acme, "deploy")


@on_postgresql
def test_it_passes_other_database_errors_on(corpus, acme):
    with slow_statement("ts_rank", condition="1 / 0 = 1"), pytest.raises(DataError):
        search.search(acme, "deploy")


@on_postgresql
def test_it_leaves_the_callers_statement_timeout_as_it_was(corpus, acme):
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', '7s', true)")
        assert paths(search.search(acme, "deploy")) == ["guide.md", "notes.md"]
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "7s"
