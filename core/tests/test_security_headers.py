"""Output encoding and security headers (issue 14): a strict Content-Security-Policy on every page,
no inline script in any rendered page, Permissions-Policy everywhere, ``Cache-Control: private,
no-store`` on signed-in pages and every API answer (ETags and 304 keep working), and values that
reach a PDF escaped. The same hostile station code and name are shown in Chromium in
core/tests/test_browser_xss.py.
"""

import json
import os
import subprocess
import sys
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.test import Client
from django.urls import reverse

from core.tests.test_permission_matrix import walk

pytestmark = pytest.mark.django_db

HOSTILE = "<img src=x onerror=window.__xss=1>"

# Pages without parameters that are not pages a GET should fetch here (downloads, log-out, exports
# that stream files, the API and admin trees are checked by their own tests below).
SKIP_PREFIXES = ("api/", "admin/", "logout/", "i18n/", "jsi18n/", "healthz", "account/2fa/")


def _directives(header):
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


class _Scripts(HTMLParser):
    """Every <script> of a page: (attributes, body) and every on…= event handler attribute."""

    def __init__(self):
        super().__init__()
        self.scripts, self.handlers, self._open = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [f"<{tag} {k}>" for k in attrs if k.startswith("on")]
        self.handlers += [
            f"<{tag} {k}>" for k, v in attrs.items() if (v or "").startswith("javascript:")
        ]
        if tag == "script":
            self._open = [attrs, ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[1] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._open is not None:
            self.scripts.append(tuple(self._open))
            self._open = None


def inline_scripts(html):
    """Scripts that would run from the page itself (not data: json_script's application/json)."""
    parser = _Scripts()
    parser.feed(html)
    inline = [
        body.strip()[:80]
        for attrs, body in parser.scripts
        if "src" not in attrs and attrs.get("type", "text/javascript") != "application/json"
    ]
    return inline, parser.handlers


def assert_strict_csp(response, where):
    header = response.get("Content-Security-Policy")
    assert header, f"{where}: no Content-Security-Policy"
    d = _directives(header)
    assert d.get("script-src") == ["'self'"], f"{where}: script-src {d.get('script-src')}"
    assert "'unsafe-inline'" not in d.get("style-src", []), where
    assert "'unsafe-eval'" not in header, where
    assert d.get("default-src") == ["'self'"], where
    assert d.get("object-src") == ["'none'"] and d.get("frame-ancestors") == ["'none'"], where
    assert d.get("base-uri") == ["'self'"] and d.get("form-action") == ["'self'"], where
    assert d.get("connect-src") == ["'self'"], where
    assert set(d.get("img-src", [])) >= {"'self'", "data:"}, where


@pytest.fixture
def hostile_world(role_user, org):
    """A Viettel station and application whose code and name are markup; a unit to show."""
    from core.models import AdministrativeUnit
    from core.tests.test_permission_matrix import _application
    from stations.models import Station

    viettel_staff = role_user("operator_viettel")
    station = Station.objects.create(
        operator=org("VIETTEL"),
        code="HN-XSS-1",
        name=HOSTILE,
        address=HOSTILE,
        structure_type="monopole",
        structure_height_m=Decimal("30"),
        land_category="public_land",
        status=Station.Status.OPERATING,
        technologies=["4G"],
        location=Point(105.8345, 21.0360, srid=4326),
        commune=AdministrativeUnit.objects.get(code="00004"),
    )
    application, _document = _application(viettel_staff)
    return {"station": station, "application": application, "operator": viettel_staff}


def pages(world):
    """Every parameterless page of the portal, and the detail pages of the hostile records."""
    urls = []
    for route in walk():
        if route.params or not route.name or route.path.startswith(SKIP_PREFIXES):
            continue
        urls.append(reverse(route.name))
    urls += [
        reverse("stations:station-detail", args=[world["station"].public_id]),
        reverse("stations:application-detail", args=[world["application"].pk]),
        reverse("core:unit-detail", args=["00004"]),
    ]
    return sorted(set(urls))


@pytest.mark.parametrize("role", ["city_official", "operator_viettel"])
def test_every_page_has_a_strict_csp_and_no_inline_script(role, role_user, hostile_world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    user = hostile_world["operator"] if role == "operator_viettel" else role_user(role)
    client.force_login(user)
    checked, problems = 0, []
    for url in pages(hostile_world):
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith(
            "text/html"
        ):
            continue
        checked += 1
        assert_strict_csp(response, url)
        assert "Permissions-Policy" in response, url
        cache = response["Cache-Control"]
        assert "private" in cache and "no-store" in cache, f"{url}: {cache}"
        html = response.content.decode()
        assert HOSTILE not in html, f"{url} shows the hostile value unescaped"
        inline, handlers = inline_scripts(html)
        if inline or handlers:
            problems.append(f"{url}: inline {inline} handlers {handlers}")
    assert not problems, "\n".join(problems)
    # The walk reached the main pages (a broken walk must not pass by checking nothing).
    assert checked >= 25, checked


def test_inline_script_detection_can_fail():
    inline, handlers = inline_scripts(
        '<script>alert(1)</script><script src="/static/a.js"></script>'
        '<script type="application/json" id="d">{"a": 1}</script>'
        '<button onclick="x()">b</button><a href="javascript:x()">a</a>'
    )
    assert inline == ["alert(1)"]
    assert handlers == ["<button onclick>", "<a href>"]


def test_login_page_anonymous_has_csp_and_permissions_policy(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_strict_csp(response, "login")
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy
    assert inline_scripts(response.content.decode()) == ([], [])


def test_api_answers_are_private_no_store_even_anonymous(client):
    response = client.get("/api/v1/stations/")
    assert response.status_code in (401, 403)
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "Content-Security-Policy" in response and "Permissions-Policy" in response


def test_api_detail_keeps_its_etag_and_304_with_no_store(as_role, hostile_world):
    client = as_role("operator_viettel")
    url = f"/api/v1/stations/{hostile_world['station'].public_id}/"
    first = client.get(url)
    assert first.status_code == 200, first.content
    assert "no-store" in first["Cache-Control"] and "private" in first["Cache-Control"]
    body = first.json()
    # JSON carries the value as it is; pages and scripts escape it.
    assert body.get("properties", body)["name"] == HOSTILE
    etag = first["ETag"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert "no-store" in again["Cache-Control"]


def test_public_cache_directives_give_way_on_private_answers(rf, role_user):
    from django.http import HttpResponse

    from core.middleware import SecurityHeadersMiddleware

    def view(request):
        response = HttpResponse("x")
        response["Cache-Control"] = "public, max-age=600"
        return response

    request = rf.get("/stations/")
    request.user = role_user("operator_viettel")
    response = SecurityHeadersMiddleware(view)(request)
    parts = {p.strip() for p in response["Cache-Control"].split(",")}
    assert parts == {"private", "no-store"}

    # Static files keep theirs, signed in or not.
    request = rf.get("/static/js/escape.js")
    request.user = role_user("operator_viettel")
    assert SecurityHeadersMiddleware(view)(request)["Cache-Control"] == "public, max-age=600"


def test_static_files_keep_their_cache_headers(client, role_user):
    client.force_login(role_user("operator_viettel"))
    response = client.get("/static/js/escape.js")
    if response.status_code == 200:  # served by WhiteNoise when collected, else not at all
        assert "no-store" not in response.get("Cache-Control", "")


def test_the_tile_host_is_allowed_for_images():
    """LEAFLET_TILES_URL's host (a {s} sub-domain template too) joins img-src, nothing else."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']))"
    )
    for url, host in (
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tiles.example.vn:8443/{z}/{x}/{y}.png", "https://*.tiles.example.vn:8443"),
    ):
        env = {
            **os.environ,
            "LEAFLET_TILES_URL": url,
            "DJANGO_SETTINGS_MODULE": "hanoi_infra.settings",
        }
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=settings.BASE_DIR,
        ).stdout
        directives = json.loads(out.strip().splitlines()[-1])
        assert directives["img-src"] == ["'self'", "data:", host]
        assert directives["script-src"] == ["'self'"] and directives["connect-src"] == ["'self'"]


def test_pdf_values_are_escaped_as_reportlab_markup():
    """Paragraph text is markup to reportlab: a label such as <img src=x> must arrive as text."""
    from reports import documents

    row = {
        "label": HOSTILE,
        "unit_label": "<b>km</b>",
        "unit": "km",
        "value": 1.5,
        "previous": None,
        "last_year": 2,
        "breakdown": [{"label": HOSTILE, "value": 1.5}],
    }
    snapshot = {
        "report": "R <font size=40>",
        "heading": HOSTILE,
        "recipient": "<a href='x'>",
        "period": "Q1 & Q2",
        "previous": "<i>",
        "last_year": "</para>",
        "start": "2026-01-01",
        "cutoff": "2026-03-31",
        "intro": HOSTILE,
        "sections": [{"title": HOSTILE, "by": "<u>", "rows": [row]}],
    }
    data = documents.pdf(snapshot)
    assert data.startswith(b"%PDF-")
    assert len(data) > 1000
