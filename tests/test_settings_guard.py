"""The site refuses to start insecurely: these run `manage.py check` in a subprocess with a chosen environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOOD_KEY = "x7Gq0mZ3vL9pR2sT5wY8bC1dF4hJ6kN0qS3uV6xZ9aB2eE5gH8"


def run_check(**env_vars) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL"}}
    env.update({"DJANGO_SETTINGS_MODULE": "ctxsite.settings", "SANDBOX": "0", **env_vars})
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_it_refuses_to_start_without_a_secret_key():
    result = run_check(DEBUG="0", ALLOWED_HOSTS="example.com", FIELD_ENCRYPTION_KEY="k")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_refuses_an_insecure_secret_key():
    result = run_check(DEBUG="0", SECRET_KEY="django-insecure-abc", ALLOWED_HOSTS="example.com")
    assert "SECRET_KEY must be set" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts():
    result = run_check(DEBUG="0", SECRET_KEY=GOOD_KEY, FIELD_ENCRYPTION_KEY="k")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_it_refuses_to_start_without_an_encryption_key():
    result = run_check(DEBUG="0", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="example.com", FIELD_ENCRYPTION_KEY="")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set" in result.stderr


def test_it_starts_with_the_production_variables(tmp_path):
    result = run_check(
        DEBUG="0",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="example.com",
        FIELD_ENCRYPTION_KEY="k8bBrkNIvyWRCjTYdaM6e3ST4kX-FRqoKuEa0QJ2j3E=",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
