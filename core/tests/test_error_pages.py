"""Error pages in the portal's layout, in Vietnamese, with the way back; the 500 page touches no
database; the catalogue has no untranslated or fuzzy entry; the icon is served."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import translation

from core.api import exceptions

pytestmark = pytest.mark.django_db

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "vi" / "LC_MESSAGES" / "django.po"


def _request(user, path="/stations/nowhere/"):
    request = RequestFactory().get(path)
    request.user = user
    return request


def test_an_unknown_page_is_the_portals_404_in_vietnamese(client, make_user):
    client.force_login(make_user("city_official", "SO_KHCN_HN"))
    response = client.get("/stations/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert 'data-testid="error-page" data-status="404"' in body
    assert "Không tìm thấy trang" in body and 'data-testid="error-home"' in body
    assert 'data-testid="brand"' in body  # the layout, its navbar included


def test_an_unknown_api_address_stays_a_json_error(client, make_user):
    client.force_login(make_user("city_official", "SO_KHCN_HN"))
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("handler", "status", "text"),
    [
        (lambda r: exceptions.permission_denied(r, PermissionDenied()), 403, "Không có quyền"),
        (lambda r: exceptions.bad_request(r, ValueError()), 400, "Yêu cầu không hợp lệ"),
    ],
)
def test_refusals_are_pages_of_the_portal(make_user, handler, status, text):
    with translation.override("vi"):
        response = handler(_request(make_user("operator_staff", "VNPT")))
    body = response.content.decode()
    assert response.status_code == status and text in body
    assert f'data-status="{status}"' in body and 'data-testid="error-home"' in body


def test_the_500_page_needs_no_database(django_assert_num_queries, make_user):
    request = _request(make_user("city_official", "SO_KHCN_HN"))
    with translation.override("vi"), django_assert_num_queries(0):
        response = exceptions.server_error(request)
    body = response.content.decode()
    assert response.status_code == 500 and "Đã có lỗi xảy ra" in body
    assert 'data-testid="error-home"' in body


def test_the_favicon_is_served_from_static(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith(".svg")


def test_the_catalogue_has_no_untranslated_or_fuzzy_entry():
    text = CATALOGUE.read_text(encoding="utf-8")
    entries = [e for e in text.split("\n\n") if "msgid " in e]
    fuzzy = [e for e in entries if re.search(r"^#,.*\bfuzzy\b", e, re.M)]
    empty = []
    for entry in entries:
        msgid = re.search(r'^msgid "(.*)"$', entry, re.M)
        if msgid is None or (msgid.group(1) == "" and entry.lstrip().startswith("msgid")):
            continue  # the header entry
        if "msgid_plural" in entry:
            forms = re.findall(r'^msgstr\[\d\] "(.*)"((?:\n".*")*)', entry, re.M)
            if any(not (a or b.strip()) for a, b in forms):
                empty.append(entry)
        else:
            found = re.search(r'^msgstr "(.*)"((?:\n".*")*)', entry, re.M)
            if found is None or not (found.group(1) or found.group(2).strip()):
                empty.append(entry)
    assert not fuzzy, fuzzy[:3]
    assert not empty, empty[:3]


def test_pages_open_in_vietnamese_whatever_the_browser_sends(client, make_user):
    client.force_login(make_user("city_official", "SO_KHCN_HN"))
    page = client.get("/stations/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="vi">' in page and "Trạm BTS" in page
    client.cookies["django_language"] = "en"  # the user chose English with the switch
    page = client.get("/stations/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert '<html lang="en">' in page


def test_the_login_page_is_vietnamese_for_an_english_browser(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="vi">' in page and "Đăng nhập" in page


def test_the_api_speaks_the_language_its_client_asks_for(client):
    response = client.get("/api/v1/stations/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "en"
    assert "credentials were not provided" in response.json()["detail"]
    assert client.get("/api/v1/stations/", HTTP_ACCEPT_LANGUAGE="vi")["Content-Language"] == "vi"
    assert client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "vi"
