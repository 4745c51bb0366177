"""The production checklist: `manage.py check --deploy` is clean with the documented production variables."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_it_passes_the_deploy_checklist(tmp_path):
    # The suite's own settings module puts test values (insecure cookies, …) in os.environ: leave them out.
    ours = (
        "SECRET_KEY",
        "DEBUG",
        "SANDBOX",
        "SECURE_",
        "ALLOWED",
        "SESSION_",
        "CSRF_",
        "FIELD_",
        "PUBLIC_",
        "ACCOUNT_",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update(
        DJANGO_SETTINGS_MODULE="ctxsite.settings",
        DEBUG="0",
        SECRET_KEY="x7Gq0mZ3vL9pR2sT5wY8bC1dF4hJ6kN0qS3uV6xZ9aB2eE5gH8",
        ALLOWED_HOSTS="ctx.example.com",
        FIELD_ENCRYPTION_KEY="k8bBrkNIvyWRCjTYdaM6e3ST4kX-FRqoKuEa0QJ2j3E=",
        PUBLIC_BASE_URL="https://ctx.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
