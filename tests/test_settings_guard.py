"""The site refuses to start insecurely: these run `manage.py check` in a subprocess with a chosen environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOOD_KEY = "x7Gq0mZ3vL9pR2sT5wY8bC1dF4hJ6kN0qS3uV6xZ9aB2eE5gH8"
FERNET_KEY = "k8bBrkNIvyWRCjTYdaM6e3ST4kX-FRqoKuEa0QJ2j3E="


def run_check(*options: str, **env_vars) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL"}}
    env.update({"DJANGO_SETTINGS_MODULE": "ctxsite.settings", "SANDBOX": "0", **env_vars})
    return subprocess.run(
        [sys.executable, "manage.py", "check", *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production(tmp_path, **overrides) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": GOOD_KEY,
        "ALLOWED_HOSTS": "example.com",
        "FIELD_ENCRYPTION_KEY": FERNET_KEY,
        "PUBLIC_BASE_URL": "https://example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **overrides,
    }


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


def test_it_refuses_the_sandbox_with_debug_off(tmp_path):
    # The audit's site: SANDBOX=1 on a production configuration swapped in a public webhook secret, trusted its
    # own Forge JWKS and let an anonymous POST to /sandbox/manage/ create a Confluence site.
    result = run_check(**production(tmp_path, SANDBOX="1"))
    assert result.returncode != 0
    assert "SANDBOX is on while DEBUG is off" in result.stderr


def test_it_runs_the_sandbox_in_development(tmp_path):
    result = run_check(**production(tmp_path, SANDBOX="1", DEBUG="1"))
    assert result.returncode == 0, result.stderr


def test_it_names_the_variable_of_a_malformed_encryption_key(tmp_path):
    result = run_check(**production(tmp_path, FIELD_ENCRYPTION_KEY="notakey"))
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY: key 1 of 1 is not a Fernet key" in result.stderr
    assert "notakey" not in result.stderr


def test_it_checks_every_rotation_key(tmp_path):
    result = run_check(**production(tmp_path, FIELD_ENCRYPTION_KEY=f"{FERNET_KEY},notakey"))
    assert "FIELD_ENCRYPTION_KEY: key 2 of 2 is not a Fernet key" in result.stderr


def test_it_checks_the_encryption_key_in_development_too(tmp_path):
    result = run_check(**production(tmp_path, DEBUG="1", FIELD_ENCRYPTION_KEY="notakey"))
    assert "FIELD_ENCRYPTION_KEY: key 1 of 1 is not a Fernet key" in result.stderr


def test_it_warns_the_deploy_check_of_any_host(tmp_path):
    result = run_check("--deploy", **production(tmp_path, ALLOWED_HOSTS="*"))
    assert "ctx.W001" in result.stderr + result.stdout
    assert "ALLOWED_HOSTS contains '*'" in result.stderr + result.stdout


def test_env_example_lists_every_variable_the_settings_read():
    """The README promises it: an operator reads one file to know every knob."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    settings_text = (root / "ctxsite/settings.py").read_text()
    read = set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""", settings_text))
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (root / ".env.example").read_text(), re.MULTILINE))
    assert read, "the pattern found no variable: the settings changed how they read the environment"
    assert sorted(read - listed) == []
