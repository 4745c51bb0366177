"""Why a search is not answered: each error carries what the one who searched is told (`status`, `code`, `message`
and, for a busy database, `retry_after`), so the page, the API and the MCP tools say the same."""

from __future__ import annotations

RETRY_AFTER_SECONDS = 10


class SearchError(Exception):
    """A search that is not answered; `status`, `code` and `message` are what the one who searched is told."""

    status = 400
    code = "bad_query"
    retry_after: int | None = None

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class QueryTooLong(SearchError):
    code = "query_too_long"


class TooManyTerms(SearchError):
    code = "too_many_terms"


class SearchTimedOut(SearchError):
    """PostgreSQL cancelled the search at the statement timeout; the site is busy or the query is costly."""

    status = 503
    code = "search_timeout"
    retry_after = RETRY_AFTER_SECONDS
