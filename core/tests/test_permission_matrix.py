"""Permission completeness: every URL pattern and every API route has an entry in the role matrix.

``test_every_route_has_a_matrix_entry`` walks the whole URL tree (``get_resolver``, into every
include and DRF router) and fails on a route name that is neither in ``MATRIX`` nor in ``EXCLUDED``
(with the reason), and on a matrix entry whose route is gone. A new page or API action therefore
cannot ship without someone deciding who may reach it.

Then every entry is run:
- ``test_anonymous_and_roleless`` — each route as an anonymous visitor and as a signed-in user
  without a role: pages redirect to the login page (unless declared public), the API answers 401/403
  (a route declared public answers without either);
- ``test_own_and_other_organisations_object`` — the routes marked ``scoped`` are asked for one of
  Viettel's objects by every role: the owner and the officials reach it, another operator (its staff
  and its API client) gets 404 or 403, files included.
Routes whose full role × object matrix lives in an app's own test module say so (``covered_by``);
that module is checked to exist and to name the route's URL, so the reference cannot rot silently.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from conftest import ROLE_USERS

ROLES = [*ROLE_USERS, "anonymous"]
LOGIN = "login"  # anonymous: a redirect to the login page (pages) / 401-403 (API)
PUBLIC = "public"  # anonymous: answered without a log-in (no redirect, no 401/403)
DENY = "deny"  # roleless user: 403 or 404 (or the login page)
OPEN = "open"  # roleless user: the page answers (it shows nothing scoped: home, own notifications)


@dataclass(frozen=True)
class Entry:
    anonymous: str = LOGIN
    no_role: str = DENY
    scoped: str | None = None  # a key of SCOPED_OBJECTS: checked with Viettel's object by each role
    covered_by: str | None = None  # an app test module holding this route's full role matrix


PAGE = Entry()
OPEN_PAGE = Entry(no_role=OPEN)
API = Entry()
AGREEMENTS_API = Entry(covered_by="agreements/tests/test_permissions.py")
SPAM_API = Entry(covered_by="spam_reports/tests/test_permissions.py")

# Routes the matrix does not ask about, each with its reason.
EXCLUDED = {
    "login": "the sign-in page itself (public by definition; throttling has its own tests)",
    "logout": "ends the caller's own session; nothing to scope",
    "set_language": "sets the caller's language cookie; public by design",
    "javascript-catalog": "static translation catalogue for the page scripts",
    "schema": "OpenAPI schema: behind HasPortalRole (SERVE_PERMISSIONS), fuzzed in test_fuzz.py",
    "api-docs": "Swagger UI shell (static; the schema it loads is behind HasPortalRole)",
    "api-root": "DRF's browsable index of the routers (links only, no records)",
    "favicon": "a redirect to the static icon; public by design",
}
EXCLUDED_NAMESPACES = {
    "admin": "Django admin: staff only, guarded by admin.site (is_staff) and model permissions",
}

MATRIX = {
    # --- project and core pages
    "home": OPEN_PAGE,
    "healthz": Entry(anonymous=PUBLIC, no_role=OPEN),
    "core:two-factor-setup": OPEN_PAGE,
    "core:two-factor-verify": OPEN_PAGE,
    "core:two-factor-recovery-codes": OPEN_PAGE,
    "core:unit-list": PAGE,
    "core:unit-geojson": PAGE,
    "core:unit-detail": PAGE,
    "core:organization-list": PAGE,
    "sync:download-list": PAGE,
    "core:notification-list": OPEN_PAGE,
    "core:notification-mark-all-read": OPEN_PAGE,
    "core:import-job": Entry(scoped="import_job"),
    "core:import-job-progress": PAGE,
    "core:import-job-errors": Entry(scoped="import_job"),
    "core:import-job-errors-xlsx": Entry(scoped="import_job"),
    "core:import-job-retry": PAGE,
    "core:import-job-cancel": PAGE,  # own / other operator: stations/tests/test_import_streaming.py
    "core:import-job-mapping": PAGE,
    "core:import-start": PAGE,
    "core:search": PAGE,  # what each role finds: core/tests/test_search.py  # own / other organisation: stations/tests/test_import_mapping.py
    # --- stations pages
    "stations:station-list": PAGE,
    "stations:station-create": PAGE,
    "stations:station-import": PAGE,
    "stations:station-import-template": PAGE,
    "stations:station-import-template-xlsx": PAGE,
    "stations:station-map": PAGE,
    "stations:station-geojson": PAGE,
    "stations:non-bulky-hint": PAGE,
    "stations:site-list": PAGE,
    "stations:site-create": PAGE,
    "stations:site-geojson": PAGE,
    "stations:site-detail": PAGE,
    "stations:site-update": PAGE,
    "stations:application-list": PAGE,
    "stations:application-create": PAGE,
    "stations:application-detail": Entry(scoped="application"),
    "stations:application-update": PAGE,
    "stations:application-upload": PAGE,
    "stations:application-document": Entry(scoped="application_document"),
    "stations:application-message": PAGE,
    "stations:application-share": PAGE,
    "stations:application-action": PAGE,
    "stations:station-detail": Entry(scoped="station"),
    "stations:station-update": Entry(scoped="station_edit"),
    # --- sharing pages
    "sharing:overview": PAGE,
    "sharing:asset-list": PAGE,
    "sharing:asset-create": PAGE,
    "sharing:asset-map": PAGE,
    "sharing:asset-geojson": PAGE,
    "sharing:asset-detail": Entry(scoped="asset"),
    "sharing:asset-update": Entry(scoped="asset_edit"),
    "sharing:tenancy-create": PAGE,
    "sharing:tenancy-end": PAGE,
    "sharing:request-list": PAGE,
    "sharing:request-create": PAGE,
    "sharing:request-detail": Entry(scoped="sharing_request"),
    "sharing:request-message": PAGE,
    "sharing:request-upload": PAGE,
    "sharing:request-document": Entry(scoped="sharing_request_document"),
    "sharing:request-action": PAGE,
    # --- cables pages
    "cables:project-list": PAGE,
    "cables:project-create": PAGE,
    "cables:project-detail": Entry(scoped="cable_project"),
    "cables:segment-create": PAGE,
    "cables:segment-import": PAGE,
    "cables:progress-create": PAGE,
    "cables:progress-photo": Entry(scoped="progress_photo"),
    "cables:segment-map": PAGE,
    "cables:segment-geojson": PAGE,
    "cables:notice-list": PAGE,
    "cables:notice-create": PAGE,
    "cables:notice-detail": PAGE,
    "cables:notice-register": PAGE,
    # --- spam pages
    "/spam/": PAGE,  # unnamed: redirects to the case list
    "spam_reports:case-list": PAGE,
    "spam_reports:case-detail": Entry(scoped="spam_case"),
    "spam_reports:case-status": PAGE,
    "spam_reports:case-operator": PAGE,
    "spam_reports:case-assign": PAGE,
    "spam_reports:action-list": PAGE,
    "spam_reports:action-respond": PAGE,
    "spam_reports:report-list": PAGE,
    "spam_reports:report-create": PAGE,
    "spam_reports:report-create-5656": PAGE,
    "spam_reports:report-detail": Entry(scoped="spam_report"),
    "spam_reports:report-mark": PAGE,
    "spam_reports:evidence": Entry(scoped="spam_evidence"),
    "spam_reports:public-complaint": Entry(anonymous=PUBLIC, no_role=OPEN),
    "spam_reports:public-thanks": Entry(anonymous=PUBLIC, no_role=OPEN),
    "spam_reports:import": PAGE,
    "spam_reports:import-template": PAGE,
    "spam_reports:statistics": PAGE,
    "spam_reports:inspection-list": PAGE,
    "spam_reports:inspection-create": PAGE,
    "spam_reports:inspection-detail": PAGE,
    "spam_reports:inspection-update": PAGE,
    "spam_reports:inspection-follow-up": PAGE,
    "spam_reports:inspection-close": PAGE,
    # --- agreements pages
    "agreements:agreement-list": PAGE,
    "agreements:agreement-create": PAGE,
    "agreements:agreement-detail": Entry(scoped="agreement"),
    "agreements:agreement-edit": PAGE,
    "agreements:agreement-document": PAGE,
    "agreements:agreement-export": PAGE,
    "agreements:agreement-print": PAGE,
    "agreements:agreement-in-force": PAGE,
    "agreements:agreement-renew": PAGE,
    "agreements:area-create": PAGE,
    "agreements:task-create": PAGE,
    "agreements:meeting-create": PAGE,
    "agreements:task-detail": PAGE,
    "agreements:task-edit": PAGE,
    "agreements:task-status": PAGE,
    "agreements:update-create": PAGE,
    "agreements:evidence": PAGE,
    # --- reports pages
    "reports:run-list": PAGE,
    "reports:run-create": PAGE,
    "reports:run-detail": PAGE,
    "reports:run-progress": PAGE,
    "reports:run-download": PAGE,
    "reports:run-action": PAGE,
    "reports:definition-list": PAGE,
    "reports:definition-create": PAGE,
    "reports:definition-edit": PAGE,
    # --- API: core and sync
    "changes": API,
    "changes-head": API,
    "register-download-list": API,
    "register-download-file": API,
    "organization-list": API,
    "organization-detail": API,
    "unit-list": API,
    "search": API,  # what each role finds: core/tests/test_search.py
    "unit-resolve": API,
    "unit-detail": API,
    "webhook-list": API,
    "webhook-detail": API,
    "webhook-deliveries": API,
    "webhook-delivery": API,
    "webhook-resend": API,
    # --- API: stations
    "station-list": API,
    "station-bulk": API,
    "station-by-source": Entry(scoped="station_by_source"),
    "station-detail": Entry(scoped="station_api"),
    "public-site-list": API,
    "public-site-bulk": API,
    "public-site-by-source": API,
    "public-site-detail": API,
    "permit-application-list": API,
    "permit-application-detail": Entry(scoped="application_api"),
    "permit-application-accept": API,
    "permit-application-approve": API,
    "permit-application-documents": API,  # POST-only upload
    "permit-application-messages": API,
    "permit-application-reject": API,
    "permit-application-resubmit": API,
    "permit-application-return-": API,
    "permit-application-submit": API,
    "permit-application-withdraw": API,
    # --- API: sharing
    "asset-list": API,
    "asset-bulk": API,
    "asset-by-source": API,
    "asset-detail": Entry(scoped="asset_api"),
    "tenancy-list": API,
    "tenancy-detail": Entry(scoped="tenancy_api"),
    "tenancy-end": API,
    "sharing-request-list": API,
    "sharing-request-detail": Entry(scoped="sharing_request_api"),
    "sharing-request-accept": API,
    "sharing-request-accept-counter": API,
    "sharing-request-counter": API,
    "sharing-request-decide": API,
    "sharing-request-documents": API,
    "sharing-request-escalate": API,
    "sharing-request-messages": API,
    "sharing-request-refuse": API,
    "sharing-request-withdraw": API,
    # --- API: cables
    "cable-project-list": API,
    "cable-project-detail": Entry(scoped="cable_project_api"),
    "cable-project-import-segments": API,
    "cable-segment-list": API,
    "cable-segment-detail": Entry(scoped="cable_segment_api"),
    "cable-segment-progress": API,
    "progress-update-list": API,
    "progress-update-detail": Entry(scoped="progress_update_api"),
    "civil-works-notice-list": API,
    "civil-works-notice-detail": API,
    "civil-works-notice-register": API,
    "cable-totals-list": API,
    # --- API: spam (full matrix in spam_reports/tests/test_permissions.py)
    "spam-report-list": SPAM_API,
    "spam-report-detail": SPAM_API,
    "spam-report-evidence": SPAM_API,
    "spam-report-mark": SPAM_API,
    "spam-case-list": SPAM_API,
    "spam-case-detail": SPAM_API,
    "spam-case-assign": SPAM_API,
    "spam-case-change-status": SPAM_API,
    "spam-case-set-operator": SPAM_API,
    "spam-assignment-list": SPAM_API,
    "spam-assignment-detail": SPAM_API,
    "spam-assignment-respond": SPAM_API,
    "spam-inspection-list": SPAM_API,
    "spam-inspection-detail": SPAM_API,
    "spam-inspection-close": SPAM_API,
    "spam-inspection-follow-ups": SPAM_API,
    "spam-statistics-list": SPAM_API,
    "spam-import-list": SPAM_API,
    "spam-import-detail": SPAM_API,
    "spam-import-retry": SPAM_API,
    "spam-import-cancel": SPAM_API,
    "do-not-call-list": SPAM_API,
    # --- API: agreements (full matrix in agreements/tests/test_permissions.py)
    "agreement-list": AGREEMENTS_API,
    "agreement-detail": AGREEMENTS_API,
    "agreement-in-force": AGREEMENTS_API,
    "agreement-renew": AGREEMENTS_API,
    "agreement-area-list": AGREEMENTS_API,
    "agreement-area-detail": AGREEMENTS_API,
    "agreement-task-list": AGREEMENTS_API,
    "agreement-task-detail": AGREEMENTS_API,
    "agreement-task-move": AGREEMENTS_API,
    "agreement-task-post-update": AGREEMENTS_API,
    "agreement-update-list": AGREEMENTS_API,
    "agreement-update-detail": AGREEMENTS_API,
    "agreement-meeting-list": AGREEMENTS_API,
    "agreement-meeting-detail": AGREEMENTS_API,
    "indicator-list": AGREEMENTS_API,
    "indicator-detail": AGREEMENTS_API,
    # --- API: reports
    "report-definition-list": API,
    "report-definition-detail": API,
    "report-run-list": API,
    "report-run-detail": API,
    "report-run-approve": API,
    "report-run-pdf": API,
    "report-run-recompute": API,
    "report-run-retry": API,
    "report-run-submit": API,
    "report-run-xlsx": API,
}


# --- The URL tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str | None
    path: str
    params: tuple[str, ...]

    @property
    def key(self):
        """The route's name, or for an unnamed route its path ("/spam/")."""
        return self.name or f"/{self.path}"

    @property
    def is_api(self):
        return self.path.startswith("api/")


def _params(pattern):
    regex = pattern.pattern.regex.pattern
    return tuple(re.findall(r"\(\?P<(\w+)>", regex))


def walk(resolver=None, prefix="", namespace=None):
    """Every URL pattern under ``resolver``: (qualified name, route text, its parameters)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield Route(name, prefix + str(pattern.pattern), _params(pattern))


def is_excluded(route):
    if route.name in EXCLUDED:
        return True
    head = (route.name or "").split(":", 1)[0]
    return (
        ":" in (route.name or "") and head in EXCLUDED_NAMESPACES or route.path.startswith("admin/")
    )


def missing_entries(routes):
    return sorted(
        {f"{r.key} -> /{r.path}" for r in routes if not is_excluded(r) and r.key not in MATRIX}
    )


def routes_to_check():
    """One route per name (DRF's format-suffix twins share the name), the matrix's routes only."""
    seen = {}
    for route in walk():
        if route.key in MATRIX and route.key not in seen:
            seen[route.key] = route
    return seen


def test_every_route_has_a_matrix_entry():
    missing = missing_entries(walk())
    assert not missing, (
        "Routes with no entry in the permission matrix (add them to MATRIX in "
        "core/tests/test_permission_matrix.py, or to EXCLUDED with a reason):\n  "
        + "\n  ".join(missing)
    )


def test_every_matrix_entry_still_has_its_route():
    names = {r.key for r in walk()}
    stale = sorted(set(MATRIX) - names) + sorted(set(EXCLUDED) - names)
    assert not stale, f"Matrix entries for routes that no longer exist: {stale}"


def test_missing_entries_are_detected():
    """The completeness check can fail: a route nobody declared is reported."""
    unknown = Route("stations:station-secret-export", "stations/secret.csv", ())
    assert missing_entries([unknown]) == ["stations:station-secret-export -> /stations/secret.csv"]


@pytest.mark.parametrize(
    "module", sorted({e.covered_by for e in MATRIX.values() if e.covered_by is not None})
)
def test_covering_modules_name_their_routes(module):
    text = (Path(settings.BASE_DIR) / module).read_text()
    assert "(PermissionMatrix):" in text  # the shared runner (core.testing.permissions)
    tree = routes_to_check()
    for name, entry in MATRIX.items():
        if entry.covered_by != module:
            continue
        # The module names each route's first path segment (e.g. "agreement-tasks/").
        segment = tree[name].path.removeprefix("api/v1/").lstrip("^").split("/")[0]
        segment = re.sub(r"\\\.\(\?P<format>.*$", "", segment)
        assert f"{segment}/" in text, f"{module} does not exercise {name} (/{tree[name].path})"


# --- Anonymous and roleless -------------------------------------------------------------------

DUMMY = {
    "public_id": str(uuid.uuid4()),
    "id": str(uuid.uuid4()),
    "delivery_id": str(uuid.uuid4()),
    "asset_id": str(uuid.uuid4()),
    "pk": 987654,
    "document_id": 987654,
    "code": "00004",
    "key": "no-such-indicator",
    "source": "VIETTEL",
    "external_id": "no-such-record",
    "resource": "stations",
    "fmt": "csv",
    "kind": "reports",
    "action": "submit",
}


def url_of(route, **kwargs):
    if route.name is None:
        return f"/{route.path}"
    values = {p: kwargs.get(p, DUMMY[p]) for p in route.params if p != "format"}
    return reverse(route.name, kwargs=values)


def client_for(role_user, role):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    user = role_user(role)
    if user is not None:
        if ROLE_USERS[role][0] == "api_client":
            client.force_authenticate(user)
        else:
            client.force_login(user)
    return client


def is_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(resolve_url("login"))


CHECKED = sorted(MATRIX)


@pytest.mark.django_db
@pytest.mark.parametrize("name", CHECKED)
def test_anonymous_and_roleless(role_user, name):
    route = routes_to_check()[name]
    entry = MATRIX[name]
    url = url_of(route)

    anonymous = APIClient(HTTP_ACCEPT_LANGUAGE="en").get(url)
    if entry.anonymous == PUBLIC:
        assert anonymous.status_code not in (401, 403) and not is_login_redirect(anonymous), url
    elif route.is_api:
        assert anonymous.status_code in (401, 403), (url, anonymous.status_code)
    else:
        assert is_login_redirect(anonymous), (url, anonymous.status_code)

    roleless = client_for(role_user, "no_role").get(url)
    if entry.no_role == DENY:
        assert roleless.status_code in (403, 404) or is_login_redirect(roleless), (
            url,
            roleless.status_code,
        )
    else:
        assert roleless.status_code < 500, (url, roleless.status_code)


# --- Own and another organisation's object ----------------------------------------------------

ALLOWED, HIDDEN = "allowed", "hidden"
# Who reaches one of Viettel's records: its own staff and every official; another operator (its staff,
# its API client) does not, whatever the door.
VIETTEL_RECORD = {
    "city_official": ALLOWED,
    "national_official": ALLOWED,
    "administrator": ALLOWED,
    "operator_viettel": ALLOWED,
    "operator_mobifone": HIDDEN,
    "operator_api_client": HIDDEN,
    "agency_api_client": ALLOWED,
    "no_role": HIDDEN,
}
# Machine clients have no pages: the HTML doors send them to the login page.
VIETTEL_PAGE = {**VIETTEL_RECORD, "agency_api_client": HIDDEN}
VIETTEL_EDIT = {**VIETTEL_RECORD, "national_official": HIDDEN, "agency_api_client": HIDDEN}
# The asset register is open to every portal role (operators look for free capacity in it); only
# its owner and the city's officials edit an asset.
EVERY_ROLE = {**dict.fromkeys(VIETTEL_RECORD, ALLOWED), "no_role": HIDDEN}
EVERY_ROLE_PAGE = {**EVERY_ROLE, "agency_api_client": HIDDEN, "operator_api_client": HIDDEN}


def _station(viettel):
    from core.models import AdministrativeUnit
    from stations.models import Station

    return Station.objects.create(
        operator=viettel,
        code=f"ST-M-{uuid.uuid4().hex[:6]}",
        name="Trạm ma trận",
        address="Hà Nội",
        structure_type="monopole",
        structure_height_m=Decimal("30"),
        land_category="public_land",
        status=Station.Status.OPERATING,
        technologies=["4G"],
        location=Point(105.8345, 21.0360, srid=4326),
        commune=AdministrativeUnit.objects.get(code="00004"),
        source="VIETTEL",
        external_id=f"M-{uuid.uuid4().hex[:6]}",
    )


def _application(viettel_staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from stations import services
    from stations.models import ApplicationType, DocumentType

    application = services.save_draft(
        viettel_staff,
        application_type=ApplicationType.objects.get(code="public_station"),
        station_code=f"HN-M-{uuid.uuid4().hex[:6]}",
        station_name="Trạm mới ma trận",
        address="Số 1 Phố Thử",
        location=Point(105.8345, 21.0360, srid=4326),
        structure_type="rooftop_mast",
        structure_height_m=Decimal("6"),
        building_height_m=Decimal("24"),
        technologies=["4G"],
        land_category="public_building",
    )
    pdf = SimpleUploadedFile(
        "drawings.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"
    )
    document = services.upload_document(
        viettel_staff, application, DocumentType.objects.get(code="drawings"), pdf
    )
    return application, document


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
BA_DINH = Point(105.8345, 21.0360, srid=4326)


def _png(name="anh.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PNG, "image/png")


def _sharing(official, viettel_staff, org):
    """Viettel's own tower; Viettel's request to share FPT's tower (neither MobiFone nor VNPT takes
    part), with a document; a tenancy of Viettel on FPT's tower."""
    from core.models import AdministrativeUnit
    from sharing import services

    def tower(owner, code):
        return services.save_asset(
            official,
            owner=org(owner),
            code=code,
            name=f"Cột {owner} ma trận",
            kind="tower",
            geometry=BA_DINH,
            commune=AdministrativeUnit.objects.get(code="00004"),
            capacity=4,
        )

    asset = tower("VIETTEL", f"T-M-{uuid.uuid4().hex[:6]}")
    fpt_tower = tower("FPT", f"T-F-{uuid.uuid4().hex[:6]}")
    request = services.create_request(viettel_staff, asset=fpt_tower, units=1, needs="Ăng ten 5G")
    pdf = _pdf()
    document = services.upload_document(viettel_staff, request, pdf)
    tenancy = services.create_tenancy(official, fpt_tower, operator=org("VIETTEL"), units=1)
    return {
        "asset": asset,
        "sharing_request": request,
        "request_document": document,
        "tenancy": tenancy,
    }


def _pdf(name="ho-so.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"
    )


def _cables(official, viettel_staff, org):
    """A project only Viettel takes part in (led by the Sở), its segment, Viettel's progress update
    with a photo."""
    from django.contrib.gis.geos import LineString
    from django.utils import timezone

    from cables import services

    project = services.save_project(
        official,
        participants=[org("VIETTEL")],
        code=f"KM-M-{uuid.uuid4().hex[:6]}",
        name="Hạ ngầm ma trận",
        lead_agency=org("SO_KHCN_HN"),
        year=2026,
    )
    segment = services.save_segment(
        official,
        project,
        name="Kim Mã ma trận",
        route=LineString((105.8120, 21.0320), (105.8180, 21.0318), srid=4326),
        method="new_duct_bank",
        operator=org("VIETTEL"),
    )
    update = services.record_progress(
        viettel_staff,
        segment,
        reported_on=timezone.localdate(),
        duct_built_m=100,
        photos=[_png()],
    )
    return {
        "cable_project": project,
        "cable_segment": segment,
        "progress_update": update,
        "progress_photo": update.photos.get(),
    }


def _spam(official):
    """A complaint about a Viettel number (its case is Viettel's), with a screenshot."""
    from django.utils import timezone

    from spam_reports import services
    from spam_reports.models import SpamCase

    report = services.submit_report(
        official,
        channel="sms",
        sender="0981 234 567",
        recipient="0987 654 321",
        content=f"Vay nhanh ma trận {uuid.uuid4().hex[:6]}",
        received_at=timezone.now() - timezone.timedelta(days=1),
    )
    services.add_evidence(official, report, [_png("man-hinh.png")])
    case = SpamCase.objects.get(pk=report.case_id)
    assert case.operator.code == "VIETTEL"
    return {"spam_report": report, "spam_case": case, "spam_evidence": report.evidence.get()}


def _agreement(official, org):
    from agreements import services

    agreement = services.save_agreement(
        official,
        parties=[
            {"organization": org("SO_KHCN_HN"), "role": "lead"},
            {"organization": org("VIETTEL"), "role": "party"},
        ],
        code=f"CTPH-M-{uuid.uuid4().hex[:6]}",
        title="Chương trình phối hợp ma trận",
        period_start=date(2026, 1, 1),
        period_end=date(2027, 12, 31),
    )
    return {"agreement": agreement}


def _import_job(viettel_staff):
    from core.models import ImportJob

    job = ImportJob.objects.create(
        kind="stations.stations",
        original_name="tram.csv",
        created_by=viettel_staff,
        organization=viettel_staff.organization,
        status=ImportJob.Status.DONE,
        errors=[{"row": 2, "errors": {"code": ["Trùng mã"]}}],
        error_count=1,
    )
    return {"import_job": job}


def _public_id(key):
    return lambda w: {"public_id": w[key].public_id}


def _pk(key):
    return lambda w: {"pk": w[key].pk}


# scoped key -> (the URL's arguments for Viettel's object, who reaches it)
SCOPED_OBJECTS = {
    "asset": (_public_id("asset"), EVERY_ROLE_PAGE),
    "asset_edit": (_public_id("asset"), VIETTEL_EDIT),
    "asset_api": (_public_id("asset"), EVERY_ROLE),
    "tenancy_api": (_public_id("tenancy"), VIETTEL_RECORD),
    "sharing_request": (_pk("sharing_request"), VIETTEL_PAGE),
    "sharing_request_api": (_pk("sharing_request"), VIETTEL_RECORD),
    "sharing_request_document": (
        lambda w: {"pk": w["sharing_request"].pk, "document_id": w["request_document"].pk},
        VIETTEL_PAGE,
    ),
    "cable_project": (_pk("cable_project"), VIETTEL_PAGE),
    "cable_project_api": (_public_id("cable_project"), VIETTEL_RECORD),
    "cable_segment_api": (_public_id("cable_segment"), VIETTEL_RECORD),
    "progress_update_api": (_pk("progress_update"), VIETTEL_RECORD),
    "progress_photo": (_pk("progress_photo"), VIETTEL_PAGE),
    "spam_case": (_public_id("spam_case"), VIETTEL_PAGE),
    "spam_report": (_public_id("spam_report"), VIETTEL_PAGE),
    "spam_evidence": (_public_id("spam_evidence"), VIETTEL_PAGE),
    "agreement": (_public_id("agreement"), VIETTEL_PAGE),
    "import_job": (_public_id("import_job"), VIETTEL_PAGE),
    "station": (lambda w: {"public_id": w["station"].public_id}, VIETTEL_PAGE),
    "station_edit": (lambda w: {"public_id": w["station"].public_id}, VIETTEL_EDIT),
    "station_api": (lambda w: {"public_id": w["station"].public_id}, VIETTEL_RECORD),
    "station_by_source": (
        lambda w: {"source": "VIETTEL", "external_id": w["station"].external_id},
        VIETTEL_RECORD,
    ),
    "application": (lambda w: {"pk": w["application"].pk}, VIETTEL_PAGE),
    "application_api": (lambda w: {"pk": w["application"].pk}, VIETTEL_RECORD),
    "application_document": (
        lambda w: {"pk": w["application"].pk, "document_id": w["document"].pk},
        VIETTEL_PAGE,
    ),
}
SCOPED = sorted(n for n, e in MATRIX.items() if e.scoped)


@pytest.fixture
def world(role_user, org):
    viettel_staff = role_user("operator_viettel")
    official = role_user("city_official")
    application, document = _application(viettel_staff)
    return {
        "station": _station(org("VIETTEL")),
        "application": application,
        "document": document,
        **_sharing(official, viettel_staff, org),
        **_cables(official, viettel_staff, org),
        **_spam(official),
        **_agreement(official, org),
        **_import_job(viettel_staff),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
@pytest.mark.parametrize("name", SCOPED)
def test_own_and_other_organisations_object(role_user, world, name, role):
    route = routes_to_check()[name]
    build, who = SCOPED_OBJECTS[MATRIX[name].scoped]
    if route.is_api and ROLE_USERS[role][0] is None:
        pytest.skip("covered by test_anonymous_and_roleless")
    url = url_of(route, **build(world))
    response = client_for(role_user, role).get(url)
    expected = who[role]
    if expected == ALLOWED:
        assert response.status_code == 200, (role, url, response.status_code)
    else:
        assert response.status_code in (403, 404) or is_login_redirect(response), (
            role,
            url,
            response.status_code,
        )
