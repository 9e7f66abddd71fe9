"""Journey 10 through the pages: another system's file (its own column names, month-first dates,
UTF-16 from Excel) is mapped once in the mapping step, saved as "VNPT OSS", and next month's file
is read with it by itself; nothing is stored with a changed meaning."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import ImportJob, ImportMapping
from stations.models import Station
from stations.tests.test_import_file import MAPPING, OSS_HEADER, OSS_ROWS, utf16_tabs

pytestmark = pytest.mark.django_db


@pytest.fixture
def vnpt(make_user, needs_shared_data):
    return make_user("operator_staff", "VNPT")


def upload(rows=OSS_ROWS, name="vnpt-oss.txt"):
    return SimpleUploadedFile(name, utf16_tabs([OSS_HEADER, *rows]))


def mapping_post(job_page, date_order="mdy", save_as="VNPT OSS", **changes):
    header = [c["name"] for c in job_page.context["columns"]]
    data = {f"column-{i}": MAPPING.get(column, "") for i, column in enumerate(header)}
    data.update(date_order=date_order, save_as=save_as, **changes)
    return data


def test_another_systems_file_goes_through_the_mapping_step_once(client, vnpt):
    client.force_login(vnpt)
    response = client.post("/stations/import/", {"file": upload()})
    job = ImportJob.objects.get()
    assert job.status == "draft"
    assert response.status_code == 302 and response.url == f"/imports/{job.public_id}/mapping/"
    page = client.get(response.url)
    assert page.status_code == 200
    columns = {c["name"]: c for c in page.context["columns"]}
    assert list(columns) == OSS_HEADER
    assert columns["Site Name"]["samples"][:1] == ["Trạm Cầu Giấy"]
    assert columns["Lat"]["field"] == "lat"  # pre-filled by name and synonym
    assert columns["Vendor"]["field"] == ""
    assert (
        "operator" in page.context["missing"]
    )  # "Net" says nothing; "Site ID" is a synonym of code
    assert columns["Site ID"]["field"] == "code"
    html = page.content.decode()
    assert 'data-testid="mapping-form"' in html and "Ericsson" in html

    # The dates are month first: the step asks, it does not guess.
    asked = client.post(page.request["PATH_INFO"], mapping_post(page, date_order=""))
    said = " ".join(asked.context["errors"])  # in Vietnamese: the page's language
    assert asked.status_code == 400 and "tháng trước ngày" in said and "8/13/2024" in said
    assert not Station.objects.exists() and ImportJob.objects.get().status == "draft"

    done = client.post(page.request["PATH_INFO"], mapping_post(page))
    assert done.status_code == 302 and done.url == f"/imports/{job.public_id}/"
    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 0), job.message
    assert any("Vendor" in n for n in job.notices)
    first = Station.objects.get(code="HN-0001")
    assert str(first.commissioned_on) == "2024-08-13" and first.name == "Trạm Cầu Giấy"
    saved = ImportMapping.objects.get()
    assert (saved.name, saved.organization, saved.date_order) == (
        "VNPT OSS",
        vnpt.organization,
        "mdy",
    )
    result = client.get(done.url)
    assert result.status_code == 200 and 'data-status="done"' in result.content.decode()

    # Next month: the same columns are read with the saved mapping by itself.
    rows = [[*OSS_ROWS[0][:1], "Trạm Cầu Giấy mới", *OSS_ROWS[0][2:]]]
    response = client.post("/stations/import/", {"file": upload(rows)}, follow=True)
    assert response.redirect_chain[-1][0] == "/stations/"
    assert "VNPT OSS" in response.content.decode()
    assert Station.objects.get(code="HN-0001").name == "Trạm Cầu Giấy mới"


def test_a_mapping_step_refuses_a_field_fed_twice_and_keeps_the_job_waiting(client, vnpt):
    client.force_login(vnpt)
    client.post("/stations/import/", {"file": upload()})
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.public_id}/mapping/")
    data = mapping_post(page, **{"column-9": "name"})  # Vendor feeds the name too
    response = client.post(f"/imports/{job.public_id}/mapping/", data)
    assert response.status_code == 400 and "name" in " ".join(response.context["errors"])
    job.refresh_from_db()
    assert job.status == "draft" and not Station.objects.exists()


def test_a_constant_feeds_a_column_the_file_does_not_have(client, vnpt):
    client.force_login(vnpt)
    header = [h for h in OSS_HEADER if h != "Net"]
    rows = [[v for h, v in zip(OSS_HEADER, row, strict=True) if h != "Net"] for row in OSS_ROWS]
    client.post(
        "/stations/import/",
        {"file": SimpleUploadedFile("x.txt", utf16_tabs([header, *rows]))},
    )
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.public_id}/mapping/")
    data = mapping_post(page, save_as="", **{"constant-operator": "VNPT"})
    response = client.post(f"/imports/{job.public_id}/mapping/", data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert set(Station.objects.values_list("operator__code", flat=True)) == {"VNPT"}


def test_another_operator_does_not_see_the_mapping_step(client, vnpt, make_user):
    client.force_login(vnpt)
    client.post("/stations/import/", {"file": upload()})
    job = ImportJob.objects.get()
    client.force_login(make_user("operator_staff", "VIETTEL"))
    assert client.get(f"/imports/{job.public_id}/mapping/").status_code == 404
    assert client.post(f"/imports/{job.public_id}/mapping/", {}).status_code == 404
    assert ImportJob.objects.get().status == "draft"


@pytest.mark.parametrize(
    "change",
    [
        {"constant-address": "Số 1\x00Phố"},  # NUL: the database would refuse it
        {"save_as": "VNPT\x1bOSS"},  # a control character in the mapping's name
        {"date_order": "ymd"},
    ],
)
def test_hostile_values_in_the_mapping_step_are_form_errors(client, vnpt, change):
    client.force_login(vnpt)
    client.post("/stations/import/", {"file": upload()})
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.public_id}/mapping/")
    response = client.post(f"/imports/{job.public_id}/mapping/", mapping_post(page, **change))
    assert response.status_code == 400 and response.context["errors"], response.status_code
    job.refresh_from_db()
    assert job.status == "draft" and not Station.objects.exists()
    assert not ImportMapping.objects.exists()
