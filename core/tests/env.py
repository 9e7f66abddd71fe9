"""Loaded by pytest before Django (``-p core.tests.env`` in pytest.ini): the test environment.

Set here, not in conftest.py, because pytest-django configures Django before conftest files load.
"""

import os
import tempfile

# A Redis database of the tests' own, so the suite never touches the running portal's keys.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
# No base tiles: browser tests must not reach the internet.
os.environ["LEAFLET_TILES_URL"] = ""
# Playwright's sync API runs an event loop in the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Uploaded files go to a throwaway folder, not the project's media/.
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="hanoi_infra_test_media_"))
# Two-factor sign-in for officials is off unless a test turns it on (core/tests/test_signin.py), so
# the suites' force_login sessions reach the pages; the lock-out (django-axes) stays on.
os.environ.setdefault("REQUIRE_2FA_FOR_OFFICIALS", "false")
