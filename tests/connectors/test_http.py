"""The one HTTP session every client uses: retries, the waits services ask for, and counting."""

import time

import pytest
import requests
import responses

from connectors import http

URL = "https://api.example.com/thing"


@pytest.fixture
def waits(monkeypatch):
    slept = []
    monkeypatch.setattr(http, "sleep", slept.append)
    return slept


@responses.activate
def test_it_honours_retry_after(waits):
    responses.get(URL, status=429, headers={"Retry-After": "7"})
    responses.get(URL, json={"ok": True})
    session = http.ApiSession()
    assert session.request("GET", URL).json() == {"ok": True}
    assert waits == [7.0]
    assert (session.stats.requests, session.stats.retries, session.stats.rate_limited) == (2, 1, 1)


@responses.activate
def test_it_waits_until_githubs_rate_limit_resets(waits):
    reset = int(time.time()) + 30
    responses.get(URL, status=403, headers={"x-ratelimit-remaining": "0", "X-RateLimit-Reset": str(reset)})
    responses.get(URL, json={})
    http.ApiSession().request("GET", URL)
    assert 25 <= waits[0] <= 31


@responses.activate
def test_it_caps_absurd_waits(waits):
    responses.get(URL, status=429, headers={"Retry-After": "9223372036854775807"})
    responses.get(URL, json={})
    http.ApiSession().request("GET", URL)
    assert waits == [http.MAX_WAIT_SECONDS]


@responses.activate
def test_it_backs_off_exponentially_without_a_hint(waits):
    for _ in range(3):
        responses.get(URL, status=503)
    responses.get(URL, json={})
    http.ApiSession(base_delay=1).request("GET", URL)
    assert [1 <= waits[0] <= 2, 2 <= waits[1] <= 4, 4 <= waits[2] <= 8] == [True, True, True]


@responses.activate
def test_it_returns_the_last_answer_when_retries_run_out(waits):
    responses.get(URL, status=502)
    response = http.ApiSession(max_retries=2).request("GET", URL)
    assert response.status_code == 502 and len(waits) == 2


@responses.activate
def test_it_retries_a_dropped_connection_then_gives_up(waits):
    responses.get(URL, body=requests.ConnectionError("reset"))
    with pytest.raises(requests.ConnectionError):
        http.ApiSession(max_retries=1).request("GET", URL)
    assert len(waits) == 1


@responses.activate
def test_it_does_not_retry_a_client_error(waits):
    responses.get(URL, status=404)
    assert http.ApiSession().request("GET", URL).status_code == 404
    assert waits == []


@responses.activate
def test_it_counts_writes(waits):
    responses.post(URL, json={})
    responses.get(URL, json={})
    session = http.ApiSession()
    session.request("POST", URL)
    session.request("GET", URL)
    assert (session.stats.requests, session.stats.write_requests) == (2, 1)


@responses.activate
def test_it_does_not_sleep_through_a_long_rate_limit_it_hands_the_wait_back(waits):
    responses.get(URL, status=429, headers={"Retry-After": "90"})
    session = http.ApiSession(max_inline_wait=30)
    assert session.request("GET", URL).status_code == 429
    assert waits == [] and session.stats.requests == 1
    assert session.stats.declined_wait_seconds == 90


@responses.activate
def test_it_sleeps_short_waits_within_its_budget_then_hands_back_the_rest(waits):
    for _ in range(7):
        responses.get(URL, status=503)  # no hint: 0.5, 1, 2, 4, 8, 16 … seconds of backoff with jitter
    session = http.ApiSession(max_inline_wait=10)
    assert session.request("GET", URL).status_code == 503
    assert sum(waits) <= 10 and session.stats.declined_wait_seconds > 0


@responses.activate
def test_it_hands_back_no_more_than_an_hour_on_one_answers_word(waits):
    responses.get(URL, status=429, headers={"Retry-After": "9223372036854775807"})
    session = http.ApiSession(max_inline_wait=30)
    session.request("GET", URL)
    assert session.stats.declined_wait_seconds == http.MAX_DEFER_SECONDS


@responses.activate
def test_a_server_error_does_not_wait_for_the_rate_limit_reset(waits):
    """GitHub sends X-RateLimit-Reset on every answer; only a spent limit means waiting for it."""
    reset = int(time.time()) + 3000
    responses.get(URL, status=502, headers={"x-ratelimit-remaining": "4000", "X-RateLimit-Reset": str(reset)})
    responses.get(URL, json={})
    session = http.ApiSession(max_inline_wait=30)
    assert session.request("GET", URL).status_code == 200
    assert waits[0] < 2 and session.stats.declined_wait_seconds == 0


@responses.activate
def test_it_never_lets_a_netrc_on_the_host_speak_for_us(tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine api.example.com login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NETRC", raising=False)
    responses.get(URL, json={})

    http.ApiSession().request("GET", URL)

    assert "Authorization" not in responses.calls[0].request.headers
