#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path

VENV_PYTHON = Path(__file__).resolve().parent / ".venv" / "bin" / "python"

# Commands that only read files and print Markdown: they serve nothing and touch no secret, so on a fresh checkout
# (no .env) they run with the development defaults instead of refusing to start like the site does.
OFFLINE_COMMANDS = {"confluence_convert"}


def main() -> None:
    try:
        import django  # noqa: F401
    except ImportError:
        # `python manage.py …` from outside the virtualenv `make` built (e.g. the corpus scorer): use it.
        if VENV_PYTHON.exists() and not os.environ.get("CTX_IN_VENV"):
            os.environ["CTX_IN_VENV"] = "1"  # once: a virtualenv without Django must not loop
            os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (the same command, re-run)
        raise
    if sys.argv[1:2] and sys.argv[1] in OFFLINE_COMMANDS:
        os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctxsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
