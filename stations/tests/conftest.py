"""Factories for the stations app's tests (used by model, service, API, view and browser tests)."""

import io
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AdministrativeUnit, Organization
from stations import services
from stations.models import ApplicationType, DocumentType, PublicSite, Station

# Inside Phường Ba Đình (00004) and Phường Cầu Giấy; checked against the real boundaries.
BA_DINH = Point(105.8345, 21.0360, srid=4326)
NEAR_BA_DINH = Point(105.8355, 21.0365, srid=4326)  # ~115 m away
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64


def pdf(name="drawings.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def jpeg_named_pdf(name="land-use.pdf"):
    return SimpleUploadedFile(name, JPEG_BYTES, content_type="application/pdf")


@pytest.fixture
def unit():
    return lambda code="00004": AdministrativeUnit.objects.get(code=code)


@pytest.fixture
def make_station(db, django_db_blocker):
    """make_station(operator_code="VIETTEL", code=..., location=BA_DINH, **fields) (no permission check)."""
    counter = {"n": 0}

    def make(operator_code="VIETTEL", location=BA_DINH, **fields):
        counter["n"] += 1
        defaults = {
            "code": f"ST-{counter['n']:05d}",
            "name": f"Trạm thử {counter['n']}",
            "address": "Hà Nội",
            "structure_type": "monopole",
            "structure_height_m": Decimal("30"),
            "land_category": "public_land",
            "status": Station.Status.OPERATING,
            "technologies": ["4G"],
        }
        defaults.update(fields)
        commune = (
            defaults.pop("commune", None)
            or AdministrativeUnit.objects.filter(boundary__intersects=location).first()
            or AdministrativeUnit.objects.get(code="00004")
        )
        return Station.objects.create(
            operator=Organization.objects.get(code=operator_code),
            location=location,
            commune=commune,
            **defaults,
        )

    return make


@pytest.fixture
def make_site(db):
    def make(**fields):
        defaults = {
            "name": "Trụ sở UBND phường Ba Đình",
            "owner": Organization.objects.get(code="UBND_HN"),
            "address": "Số 1 Phố Thử, Phường Ba Đình",
            "commune": AdministrativeUnit.objects.get(code="00004"),
            "land_category": "public_building",
            "location": BA_DINH,
            "building_height_m": Decimal("24"),
            "capacity": 1,
        }
        defaults.update(fields)
        return PublicSite.objects.create(**defaults)

    return make


@pytest.fixture
def app_type(db):
    return lambda code="public_station": ApplicationType.objects.get(code=code)


@pytest.fixture
def doc_type(db):
    return lambda code="drawings": DocumentType.objects.get(code=code)


@pytest.fixture
def make_application(db, app_type):
    """make_application(user, **fields) -> a draft through services.save_draft (user = operator staff)."""

    def make(user, **fields):
        data = {
            "application_type": app_type(fields.pop("type_code", "public_station")),
            "station_code": fields.pop("station_code", "HN-NEW-1"),
            "station_name": "Trạm mới Ba Đình",
            "address": "Số 1 Phố Thử",
            "location": BA_DINH,
            "structure_type": "rooftop_mast",
            "structure_height_m": Decimal("6"),
            "building_height_m": Decimal("24"),
            "technologies": ["4G", "5G"],
            "land_category": "public_building",
        }
        data.update(fields)
        return services.save_draft(user, **data)

    return make


@pytest.fixture
def xlsx_bytes():
    def build(rows):
        from openpyxl import Workbook

        wb = Workbook()
        for row in rows:
            wb.active.append(row)
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()

    return build
