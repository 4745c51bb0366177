"""Settings for the test suite: the real settings module with fixed test values.

The environment is set before importing settings, with explicit secrets as in production. The settings load with
DEBUG on because the suite runs the sandbox, which the site refuses to run with DEBUG off; Django's test runner then
runs every test with DEBUG off, as production does. `manage.py check --deploy` on the production variables is
tested apart (tests/test_deploy.py). `DATABASE_URL` from the environment still wins, which is how CI runs the suite
on PostgreSQL.
"""

import os

os.environ["DEBUG"] = "1"
os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-suite-only-0123456789-abcdefghijklmnop")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "k8bBrkNIvyWRCjTYdaM6e3ST4kX-FRqoKuEa0QJ2j3E=")
os.environ.setdefault("PUBLIC_BASE_URL", "http://testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("SANDBOX", "1")
os.environ.setdefault("ACCOUNT_EMAIL_VERIFICATION", "none")

from ctxsite.settings import *  # noqa: F403

DEBUG = False

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run inline, in the caller's transaction; tests usually call task functions directly anyway.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
