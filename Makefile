# Two commands do everything: `make run` (site + worker on SQLite and the sandbox) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The site (over ASGI: /mcp needs it) and a django-q2 worker together; Ctrl-C stops both.
run: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	@if DEBUG=1 $(PY) manage.py shell -c "from django.conf import settings; raise SystemExit(not settings.SANDBOX)"; then \
		DEBUG=1 $(PY) manage.py sandbox_seed --if-empty; fi
	@echo
	@echo "  ctx| is running at http://$(HOST):$(PORT)/   (Ctrl-C stops the site and the worker)"
	@echo
	DEBUG=1 PUBLIC_BASE_URL=http://$(HOST):$(PORT) bash -c 'trap "kill 0" EXIT; \
		$(PY) manage.py qcluster & \
		$(PY) -m uvicorn ctxsite.asgi:application --host $(HOST) --port $(PORT)'

test: $(STAMP) chromium
	$(PY) -m pytest

# Debian's Chromium for the browser test (tests/test_browser.py), installed only when missing. Playwright never
# downloads a browser (no `playwright install`).
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
