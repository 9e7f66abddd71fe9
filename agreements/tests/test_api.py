"""The agreements API over HTTP: agreements with their parties and progress, content areas, tasks
(status, progress from an indicator), append-only progress updates with evidence, meetings, the
indicator registry; bad input, ETag / If-Match, query counts and the OpenAPI schema (real PostgreSQL,
no mocks: data is made through the services)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import services
from agreements.models import (
    Agreement,
    AgreementParty,
    ContentArea,
    Decision,
    Meeting,
    ProgressUpdate,
    Task,
    UpdateEvidence,
)
from agreements.tests import factories
from core import indicators
from core.indicators import Indicator

pytestmark = pytest.mark.django_db

AGREEMENTS = "/api/v1/agreements/"
AREAS = "/api/v1/agreement-areas/"
TASKS = "/api/v1/agreement-tasks/"
UPDATES = "/api/v1/agreement-updates/"
MEETINGS = "/api/v1/agreement-meetings/"
INDICATORS = "/api/v1/indicators/"
PARTIES = ("SO_KHCN_HN", "CUC_VT", "VIETTEL")
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def programme(official):
    """An agreement in force between the Sở KH&CN (lead), the Cục Viễn thông and Viettel, with two
    content areas: a Viettel task (supported by the Cục), a Sở task, and an overdue Sở task."""
    agreement = factories.agreement(official, PARTIES, code="CTPH-2020")
    area1 = factories.area(official, agreement, 1, "Xây dựng chính sách")
    area2 = factories.area(official, agreement, 2, "Chia sẻ thông tin")
    viettel_task = factories.task(
        official,
        area1,
        "VIETTEL",
        ("CUC_VT",),
        title="Ngầm hoá cáp",
        due_date=date(2025, 10, 1),
    )
    city_task = factories.task(official, area2, "SO_KHCN_HN", title="Tập huấn cán bộ")
    late = factories.task(
        official, area2, "SO_KHCN_HN", title="Báo cáo quý", due_date=date(2024, 3, 31)
    )
    services.set_task_status(official, late, "in_progress")  # past its due date: overdue
    return {
        "agreement": agreement,
        "areas": (area1, area2),
        "viettel_task": viettel_task,
        "city_task": city_task,
        "late": late,
    }


@pytest.fixture
def constant_indicator(monkeypatch):
    """A registered indicator worth 150 whatever the date (so progress is checked exactly)."""
    key = "test.constant"
    monkeypatch.setitem(
        indicators.REGISTRY,
        key,
        Indicator(
            key=key,
            label="Test constant",
            unit="count",
            description="Always 150.",
            compute=lambda window, by=None: (
                [{"key": "A", "label": "A", "value": 150}] if by else 150
            ),
            dimensions=("operator",),
            app="test",
        ),
    )
    return key


def counts():
    return tuple(
        model.objects.count()
        for model in (
            Agreement,
            AgreementParty,
            ContentArea,
            Task,
            ProgressUpdate,
            UpdateEvidence,
            Meeting,
            Decision,
        )
    )


def agreement_body(**fields):
    body = {
        "code": "CTPH-2026",
        "title": "Chương trình phối hợp giai đoạn 2026–2030",
        "period_start": "2026-01-01",
        "period_end": "2030-12-31",
        "parties": [
            {"organization": "SO_KHCN_HN", "role": "lead", "signatory": "Nguyễn Văn A"},
            {"organization": "CUC_VT", "signatory_title": "Cục trưởng"},
        ],
    }
    body.update(fields)
    return body


def ids(response):
    return {row["id"] for row in response.json()["results"]}


# --- Agreements ----------------------------------------------------------------------------------


def test_official_creates_an_agreement_with_its_parties(as_role):
    client = as_role("city_official")
    response = client.post(AGREEMENTS, agreement_body(), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert response["ETag"]
    assert data["status"] == "draft" and data["code"] == "CTPH-2026"
    assert [(p["organization"], p["role"]) for p in data["parties"]] == [
        ("SO_KHCN_HN", "lead"),
        ("CUC_VT", "party"),
    ]
    assert data["parties"][0]["signatory"] == "Nguyễn Văn A"
    assert data["areas"] == [] and data["overdue_tasks"] == []
    agreement = Agreement.objects.get(public_id=data["id"])
    assert agreement.parties.count() == 2


def test_an_agreement_is_created_with_its_signed_pdf(as_role):
    client = as_role("national_official")
    body = {
        "code": "CTPH-PDF",
        "title": "Có văn bản",
        "period_start": "2026-01-01",
        "period_end": "2030-12-31",
        "parties[0]organization": "CUC_VT",
        "parties[0]role": "lead",
        "parties[1]organization": "SO_KHCN_HN",
        "document": SimpleUploadedFile("ky.pdf", PDF, "application/pdf"),
    }
    response = client.post(AGREEMENTS, body, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["document"].endswith(".pdf")
    assert [p["organization"] for p in response.json()["parties"]] == ["CUC_VT", "SO_KHCN_HN"]


def test_a_jpeg_named_pdf_is_refused_as_the_document(as_role):
    before = counts()
    body = {
        **{k: v for k, v in agreement_body().items() if k != "parties"},
        "parties[0]organization": "CUC_VT",
        "parties[1]organization": "SO_KHCN_HN",
        "document": SimpleUploadedFile(
            "ky.pdf", b"\xff\xd8\xff\xe0" + b"0" * 64, "application/pdf"
        ),
    }
    response = as_role("city_official").post(AGREEMENTS, body, format="multipart")
    assert response.status_code == 400
    assert "document" in response.json()
    assert counts() == before


def test_agreement_detail_shows_parties_with_successors_area_progress_and_overdue_tasks(
    as_role, official, programme
):
    agreement = programme["agreement"]
    services.post_update(
        official,
        programme["city_task"],
        reported_on=date(2025, 5, 1),
        narrative="Đã tập huấn 2 lớp",
        percent=60,
    )
    old = factories.agreement(official, ("SO_TTTT_HN", "CUC_BDTW"))
    client = as_role("city_official")

    response = client.get(f"{AGREEMENTS}{agreement.public_id}/")
    assert response.status_code == 200, response.content
    assert response["ETag"]
    data = response.json()
    assert data["status"] == "in_force" and data["signed_on"] == "2020-06-26"
    assert [a["number"] for a in data["areas"]] == [1, 2]
    area2 = data["areas"][1]
    assert area2["tasks"] == 2 and area2["overdue"] == 1
    assert area2["percent"] == 30  # (60 + 0) / 2
    assert [t["id"] for t in data["overdue_tasks"]] == [str(programme["late"].public_id)]
    assert data["overdue_tasks"][0]["responsible"] == "SO_KHCN_HN"

    parties = client.get(f"{AGREEMENTS}{old.public_id}/").json()["parties"]
    assert [(p["organization"], p["current"]) for p in parties] == [
        ("SO_TTTT_HN", "SO_KHCN_HN"),
        ("CUC_BDTW", "CUC_BDTW"),
    ]


def test_agreement_list_filters_by_party_and_status(as_role, official, programme):
    draft = factories.agreement(official, ("SO_TTTT_HN", "CUC_BDTW"), in_force=False)
    client = as_role("national_official")
    every = ids(client.get(AGREEMENTS))
    assert every == {str(programme["agreement"].public_id), str(draft.public_id)}
    assert ids(client.get(f"{AGREEMENTS}?party=VIETTEL")) == {str(programme["agreement"].public_id)}
    assert ids(client.get(f"{AGREEMENTS}?party=CUC_BDTW")) == {str(draft.public_id)}
    assert ids(client.get(f"{AGREEMENTS}?status=draft")) == {str(draft.public_id)}
    assert ids(client.get(f"{AGREEMENTS}?status=in_force&party=CUC_VT")) == {
        str(programme["agreement"].public_id)
    }
    assert client.get(f"{AGREEMENTS}?party=NOBODY").status_code == 400
    assert client.get(f"{AGREEMENTS}?status=lost").status_code == 400


def test_if_match_guards_agreement_updates(as_role, programme):
    client = as_role("city_official")
    url = f"{AGREEMENTS}{programme['agreement'].public_id}/"
    tag = client.get(url)["ETag"]
    response = client.patch(url, {"title": "Lần một"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content
    assert response["ETag"] != tag
    assert len(response.json()["parties"]) == 3  # parties left out are kept
    response = client.patch(url, {"title": "Lần hai"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 412
    programme["agreement"].refresh_from_db()
    assert programme["agreement"].title == "Lần một"


def test_parties_are_replaced_when_sent_but_not_one_with_tasks(as_role, official):
    agreement = factories.agreement(official, PARTIES)
    client = as_role("city_official")
    url = f"{AGREEMENTS}{agreement.public_id}/"
    parties = [{"organization": "SO_KHCN_HN", "role": "lead"}, {"organization": "CUC_VT"}]
    response = client.patch(url, {"parties": parties}, format="json")
    assert response.status_code == 200, response.content
    assert [p["organization"] for p in response.json()["parties"]] == ["SO_KHCN_HN", "CUC_VT"]

    area = factories.area(official, agreement)
    factories.task(official, area, "CUC_VT")
    response = client.patch(url, {"parties": [parties[0], {"organization": "VNPT"}]}, format="json")
    assert response.status_code == 400
    assert "parties" in response.json()
    assert sorted(agreement.parties.values_list("organization__code", flat=True)) == [
        "CUC_VT",
        "SO_KHCN_HN",
    ]


def test_a_draft_comes_into_force_once(as_role, official):
    draft = factories.agreement(official, PARTIES, in_force=False)
    client = as_role("national_official")
    url = f"{AGREEMENTS}{draft.public_id}/in-force/"
    response = client.post(url, {"signed_on": "2020-06-30"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_force" and response.json()["signed_on"] == "2020-06-30"
    assert client.post(url, {}, format="json").status_code == 409
    assert (
        client.post(
            f"{AGREEMENTS}{draft.public_id}/in-force/", {"signed_on": "1 June"}, format="json"
        ).status_code
        == 400
    )


def test_renewal_makes_a_draft_successor_with_areas_and_open_tasks(as_role, official, programme):
    services.set_task_status(official, programme["city_task"], "done")
    client = as_role("city_official")
    url = f"{AGREEMENTS}{programme['agreement'].public_id}/renew/"
    body = {
        "code": "CTPH-2026",
        "title": "Giai đoạn 2026–2030",
        "period_start": "2026-01-01",
        "period_end": "2030-12-31",
    }
    response = client.post(url, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "draft" and data["predecessor"] == "CTPH-2020"
    assert [a["number"] for a in data["areas"]] == [1, 2]
    assert sum(a["tasks"] for a in data["areas"]) == 2  # the done task stays behind
    successor = Agreement.objects.get(public_id=data["id"])
    carried = Task.objects.filter(area__agreement=successor)
    assert {t.carried_from_id for t in carried} == {
        programme["viettel_task"].pk,
        programme["late"].pk,
    }
    task = client.get(f"{TASKS}{carried.get(title='Ngầm hoá cáp').public_id}/").json()
    assert task["carried_from"] == str(programme["viettel_task"].public_id)
    old = client.get(f"{AGREEMENTS}{programme['agreement'].public_id}/").json()
    assert old["successor"] == "CTPH-2026"
    # Only one successor.
    again = client.post(url, {**body, "code": "CTPH-2026B"}, format="json")
    assert again.status_code == 409


# --- Content areas -------------------------------------------------------------------------------


def test_official_adds_and_renames_a_content_area(as_role, programme):
    client = as_role("city_official")
    body = {"agreement": "CTPH-2020", "number": 3, "title": "Phối hợp thanh tra"}
    response = client.post(AREAS, body, format="json")
    assert response.status_code == 201, response.content
    area = response.json()
    assert area["agreement"] == "CTPH-2020" and area["number"] == 3
    url = f"{AREAS}{area['id']}/"
    tag = client.get(url)["ETag"]
    response = client.patch(
        url, {"title": "Phối hợp xử lý vi phạm"}, format="json", HTTP_IF_MATCH=tag
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Phối hợp xử lý vi phạm"
    assert client.patch(url, {"title": "Cũ"}, format="json", HTTP_IF_MATCH=tag).status_code == 412
    listed = client.get(f"{AREAS}?agreement=CTPH-2020").json()["results"]
    assert [a["number"] for a in listed] == [1, 2, 3]
    # The agreement by its public id works too.
    body = {"agreement": str(programme["agreement"].public_id), "number": 4, "title": "Đào tạo"}
    assert client.post(AREAS, body, format="json").status_code == 201


# --- Tasks ---------------------------------------------------------------------------------------


def test_official_creates_a_task_measured_by_an_indicator(as_role, programme, constant_indicator):
    client = as_role("city_official")
    body = {
        "area": str(programme["areas"][0].public_id),
        "title": "Ngầm hoá 300 tuyến phố",
        "responsible": "VIETTEL",
        "supporting": ["CUC_VT", "SO_KHCN_HN"],
        "due_date": "2025-12-31",
        "indicator": constant_indicator,
        "baseline_value": 100,
        "target_value": "200.5",
        "target_date": "2025-12-31",
    }
    response = client.post(TASKS, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert response["ETag"]
    assert data["agreement"] == "CTPH-2020" and data["area_number"] == 1
    assert sorted(data["supporting"]) == ["CUC_VT", "SO_KHCN_HN"]
    assert data["status"] == "not_started"
    assert data["progress"]["source"] == "indicator"
    assert data["progress"]["value"] == 150
    assert data["progress"]["percent"] == 50  # (150 - 100) / (200.5 - 100)
    assert data["may_update"] and data["may_move"]
    task = Task.objects.get(public_id=data["id"])
    assert task.target_value == Decimal("200.5")

    # Viettel's staff see the same progress, computed, not typed.
    viettel = as_role("operator_viettel").get(f"{TASKS}{data['id']}/").json()
    assert viettel["progress"]["percent"] == 50
    assert viettel["may_update"] and viettel["may_move"]


def test_a_task_without_an_indicator_takes_the_latest_updates_percent(as_role, programme):
    client = as_role("operator_viettel")
    task = programme["viettel_task"]
    body = {"reported_on": "2025-04-01", "narrative": "Đã ngầm hoá 12 tuyến", "percent": 40}
    response = client.post(f"{TASKS}{task.public_id}/updates/", body, format="json")
    assert response.status_code == 201, response.content
    update = response.json()
    assert update["organization"] == "VIETTEL" and update["percent"] == 40
    assert update["task"] == str(task.public_id) and update["agreement"] == "CTPH-2020"
    detail = client.get(f"{TASKS}{task.public_id}/").json()
    assert detail["progress"] == {"percent": 40, "value": None, "target": None, "source": "updates"}
    assert detail["status"] == "in_progress"
    assert detail["may_update"] and detail["may_move"]


def test_a_correction_replaces_the_update_it_names(as_role, programme):
    client = as_role("operator_viettel")
    url = f"{TASKS}{programme['viettel_task'].public_id}/updates/"
    first = client.post(
        url, {"reported_on": "2025-04-01", "narrative": "Sai số", "percent": 90}, format="json"
    ).json()
    body = {"reported_on": "2025-04-02", "narrative": "Sửa", "percent": 45, "corrects": first["id"]}
    response = client.post(url, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["corrects"] == first["id"]
    assert client.get(f"{UPDATES}{first['id']}/").json()["corrected_by"] == response.json()["id"]
    programme["viettel_task"].refresh_from_db()
    assert programme["viettel_task"].percent == 45
    # A second correction of the same update is refused.
    again = client.post(url, {**body, "narrative": "Lại sửa"}, format="json")
    assert again.status_code == 400 and "corrects" in again.json()


def test_an_update_with_evidence_files(as_role, programme):
    client = as_role("national_official")  # the Cục supports Viettel's task
    body = {
        "reported_on": "2025-05-10",
        "narrative": "Biên bản kiểm tra",
        "organization": "CUC_VT",
        "evidence": [
            SimpleUploadedFile("anh.png", PNG, "image/png"),
            SimpleUploadedFile("bien-ban.pdf", PDF, "application/pdf"),
        ],
    }
    url = f"{TASKS}{programme['viettel_task'].public_id}/updates/"
    response = client.post(url, body, format="multipart")
    assert response.status_code == 201, response.content
    evidence = response.json()["evidence"]
    assert [(e["original_name"], e["content_type"]) for e in evidence] == [
        ("anh.png", "image/png"),
        ("bien-ban.pdf", "application/pdf"),
    ]
    assert response.json()["organization"] == "CUC_VT"
    assert response.json()["percent"] is None

    before = counts()
    body["evidence"] = [SimpleUploadedFile("anh.png", b"not an image at all", "image/png")]
    response = client.post(url, body, format="multipart")
    assert response.status_code == 400 and "evidence" in response.json()
    assert counts() == before


def test_task_status_moves_and_illegal_moves_are_409(as_role, programme):
    client = as_role("operator_viettel")
    url = f"{TASKS}{programme['viettel_task'].public_id}/status/"
    response = client.post(url, {"status": "in_progress"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] in ("in_progress", "overdue")
    assert client.post(url, {"status": "done"}, format="json").json()["status"] == "done"
    response = client.post(url, {"status": "dropped"}, format="json")
    assert response.status_code == 409
    assert client.post(url, {"status": "finished"}, format="json").status_code == 400
    programme["viettel_task"].refresh_from_db()
    assert programme["viettel_task"].status == "done"


def test_a_supporting_party_may_report_but_not_move_a_task(as_role, official, programme):
    client = as_role("operator_viettel")
    task = programme["city_task"]  # the Sở's task: Viettel is a party but not involved
    url = f"{TASKS}{task.public_id}/"
    detail = client.get(url).json()
    assert not detail["may_update"] and not detail["may_move"]
    response = client.post(
        f"{url}updates/", {"reported_on": "2025-04-01", "narrative": "x"}, format="json"
    )
    assert response.status_code == 403
    assert client.post(f"{url}status/", {"status": "done"}, format="json").status_code == 403

    services.save_task(official, task, supporting=[factories.org("VIETTEL")])
    response = client.post(
        f"{url}updates/", {"reported_on": "2025-04-01", "narrative": "Hỗ trợ"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert client.post(f"{url}status/", {"status": "done"}, format="json").status_code == 403


def test_task_list_filters(as_role, programme):
    client = as_role("city_official")

    def found(query):
        return {row["title"] for row in client.get(f"{TASKS}?{query}").json()["results"]}

    every = {"Ngầm hoá cáp", "Tập huấn cán bộ", "Báo cáo quý"}
    assert found("agreement=CTPH-2020") == every
    assert found("agreement=OTHER") == set()
    assert found("party=VIETTEL") == {"Ngầm hoá cáp"}
    assert found("party=SO_KHCN_HN") == {"Tập huấn cán bộ", "Báo cáo quý"}
    assert found("status=overdue") == {"Báo cáo quý"}
    assert found("status=overdue&status=not_started") == every
    assert found("due_before=2024-12-31") == {"Báo cáo quý"}
    assert found("due_after=2025-01-01") == {"Ngầm hoá cáp"}
    assert found("due_after=2024-01-01&due_before=2025-12-31") == {"Ngầm hoá cáp", "Báo cáo quý"}
    assert found("has_indicator=false") == every
    assert client.get(f"{TASKS}?due_before=soon").status_code == 400
    row = client.get(f"{TASKS}?party=VIETTEL").json()["results"][0]
    assert row["supporting"] == ["CUC_VT"] and row["responsible"] == "VIETTEL"


def test_if_match_guards_task_updates(as_role, programme):
    client = as_role("city_official")
    url = f"{TASKS}{programme['viettel_task'].public_id}/"
    tag = client.get(url)["ETag"]
    response = client.patch(
        url, {"due_date": "2025-11-30", "supporting": []}, format="json", HTTP_IF_MATCH=tag
    )
    assert response.status_code == 200, response.content
    assert response.json()["due_date"] == "2025-11-30" and response.json()["supporting"] == []
    response = client.patch(url, {"title": "Cũ"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 412
    programme["viettel_task"].refresh_from_db()
    assert programme["viettel_task"].title == "Ngầm hoá cáp"


# --- Progress updates ----------------------------------------------------------------------------


def test_progress_updates_are_append_only(as_role, official, programme):
    update = services.post_update(
        official, programme["city_task"], reported_on=date(2025, 1, 5), narrative="Bắt đầu"
    )
    client = as_role("city_official")
    url = f"{UPDATES}{update.public_id}/"
    response = client.get(url)
    assert response.status_code == 200 and response["ETag"]
    assert response.json()["author"] and response.json()["task_title"] == "Tập huấn cán bộ"
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(url, {"narrative": "x"}, format="json").status_code == 405
    assert client.post(UPDATES, {}, format="json").status_code == 405
    assert ProgressUpdate.objects.get(pk=update.pk).narrative == "Bắt đầu"


def test_update_list_filters(as_role, official, programme):
    services.post_update(
        official, programme["city_task"], reported_on=date(2025, 1, 5), narrative="Sở"
    )
    services.post_update(
        official,
        programme["viettel_task"],
        reported_on=date(2025, 3, 5),
        narrative="Viettel",
        organization=factories.org("VIETTEL"),
    )
    client = as_role("agency_api_client")

    def found(query):
        return [row["narrative"] for row in client.get(f"{UPDATES}?{query}").json()["results"]]

    assert found("agreement=CTPH-2020") == ["Viettel", "Sở"]
    assert found("party=VIETTEL") == ["Viettel"]
    assert found(f"task={programme['city_task'].public_id}") == ["Sở"]
    assert found("reported_after=2025-02-01") == ["Viettel"]
    assert found("reported_before=2025-02-01") == ["Sở"]


# --- Meetings ------------------------------------------------------------------------------------


def test_a_meeting_records_decisions_that_create_and_change_tasks(as_role, programme):
    client = as_role("city_official")
    body = {
        "agreement": "CTPH-2020",
        "held_on": "2025-03-15",
        "title": "Hội nghị sơ kết",
        "present": ["SO_KHCN_HN", "CUC_VT", "VIETTEL"],
        "minutes": "Các bên thống nhất…",
        "decisions": [
            {
                "text": "Giao Viettel rà soát cột treo cáp",
                "new_task": {
                    "area": str(programme["areas"][0].public_id),
                    "title": "Rà soát cột treo cáp",
                    "responsible": "VIETTEL",
                    "supporting": ["SO_KHCN_HN"],
                    "due_date": "2025-09-30",
                },
            },
            {
                "text": "Lùi hạn tập huấn",
                "task": str(programme["city_task"].public_id),
                "changes": {"due_date": "2025-11-30"},
            },
        ],
    }
    response = client.post(MEETINGS, body, format="json")
    assert response.status_code == 201, response.content
    meeting = response.json()
    assert response["ETag"]
    assert sorted(meeting["present"]) == ["CUC_VT", "SO_KHCN_HN", "VIETTEL"]
    assert [d["created_task"] for d in meeting["decisions"]] == [True, False]
    created = Task.objects.get(public_id=meeting["decisions"][0]["task"])
    assert created.title == "Rà soát cột treo cáp" and created.responsible.code == "VIETTEL"
    programme["city_task"].refresh_from_db()
    assert programme["city_task"].due_date == date(2025, 11, 30)
    assert client.get(f"{MEETINGS}{meeting['id']}/").status_code == 200
    listed = as_role("operator_viettel").get(f"{MEETINGS}?agreement=CTPH-2020").json()
    assert [m["id"] for m in listed["results"]] == [meeting["id"]]


def test_a_failing_decision_stores_nothing_of_the_meeting(as_role, programme):
    before = counts()
    body = {
        "agreement": "CTPH-2020",
        "held_on": "2025-03-15",
        "title": "Hội nghị",
        "present": ["SO_KHCN_HN", "CUC_VT"],
        "decisions": [
            {
                "text": "Giao việc",
                "new_task": {
                    "area": str(programme["areas"][0].public_id),
                    "title": "Quá hạn kỳ",
                    "responsible": "VIETTEL",
                    "due_date": "2031-01-01",
                },
            },
        ],
    }
    response = as_role("city_official").post(MEETINGS, body, format="json")
    assert response.status_code == 400
    assert "due_date" in response.json()
    assert counts() == before


def test_a_decision_cannot_create_a_task_under_another_agreement(as_role, official, programme):
    other = factories.agreement(official, PARTIES)
    other_area = factories.area(official, other)
    before = counts()
    body = {
        "agreement": "CTPH-2020",
        "held_on": "2025-03-15",
        "title": "Hội nghị",
        "present": ["SO_KHCN_HN"],
        "decisions": [
            {
                "text": "Giao việc",
                "new_task": {
                    "area": str(other_area.public_id),
                    "title": "Việc của chương trình khác",
                    "responsible": "VIETTEL",
                },
            },
        ],
    }
    response = as_role("city_official").post(MEETINGS, body, format="json")
    assert response.status_code == 400
    assert "decisions.1" in response.json()
    assert counts() == before


# --- Indicators ----------------------------------------------------------------------------------


def test_indicator_registry_is_listed(as_role):
    response = as_role("operator_mobifone").get(INDICATORS)
    assert response.status_code == 200
    rows = {row["key"]: row for row in response.json()}
    assert {"cables.km_cable_pulled", "sharing.shared_site_pct", "stations.count"} <= set(rows)
    row = rows["cables.km_cable_pulled"]
    assert row["unit"] == "km" and row["dimensions"] == ["operator", "commune"]
    assert row["label"] and row["description"] and row["app"] == "cables"


def test_indicator_value_on_a_date_and_by_a_dimension(as_role, constant_indicator):
    client = as_role("agency_api_client")
    response = client.get(f"{INDICATORS}{constant_indicator}/?as_of=2025-06-30")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["value"] == 150 and data["as_of"] == "2025-06-30" and data["by"] is None
    response = client.get(f"{INDICATORS}{constant_indicator}/?by=operator")
    assert response.json()["value"] == [{"key": "A", "label": "A", "value": 150}]
    assert response.json()["as_of"] == str(timezone.localdate())
    # A real one, computed in the database.
    response = client.get(f"{INDICATORS}stations.count/?as_of=2025-06-30&by=operator")
    assert response.status_code == 200 and isinstance(response.json()["value"], list)


@pytest.mark.parametrize(
    "query, field",
    [
        ("as_of=2025-13-01", "as_of"),
        ("as_of=yesterday", "as_of"),
        ("by=channel", "by"),
        ("start=2025-07-01&as_of=2025-06-30", "start"),
    ],
)
def test_bad_indicator_queries_are_400(as_role, query, field):
    response = as_role("city_official").get(f"{INDICATORS}stations.count/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_indicator_is_404(as_role):
    assert as_role("city_official").get(f"{INDICATORS}stations.nothing/").status_code == 404


# --- Bad input -----------------------------------------------------------------------------------


def _task_update(p):
    return f"{TASKS}{p['viettel_task'].public_id}/updates/"


def _new_task(p, **fields):
    return {
        "area": str(p["areas"][0].public_id),
        "title": "Nhiệm vụ mới",
        "responsible": "VIETTEL",
        **fields,
    }


BAD_INPUT = [
    # (name, method, url(p), body(p) or raw text, field)
    (
        "period ends before it starts",
        "post",
        lambda p: AGREEMENTS,
        lambda p: agreement_body(period_start="2026-01-01", period_end="2025-12-31"),
        "period_end",
    ),
    (
        "unknown organisation code",
        "post",
        lambda p: AGREEMENTS,
        lambda p: agreement_body(
            parties=[{"organization": "SO_KHCN_HN"}, {"organization": "NOPE"}]
        ),
        "parties",
    ),
    (
        "a single party",
        "post",
        lambda p: AGREEMENTS,
        lambda p: agreement_body(parties=[{"organization": "SO_KHCN_HN"}]),
        "parties",
    ),
    (
        "the same party twice",
        "post",
        lambda p: AGREEMENTS,
        lambda p: agreement_body(parties=[{"organization": "CUC_VT"}, {"organization": "CUC_VT"}]),
        "parties",
    ),
    (
        "no parties",
        "post",
        lambda p: AGREEMENTS,
        lambda p: {k: v for k, v in agreement_body().items() if k != "parties"},
        "parties",
    ),
    (
        "parties not a list",
        "post",
        lambda p: AGREEMENTS,
        lambda p: agreement_body(parties="CUC_VT"),
        "parties",
    ),
    (
        "a code in use",
        "post",
        lambda p: AGREEMENTS,
        lambda p: agreement_body(code="CTPH-2020"),
        "code",
    ),
    (
        "not a date",
        "post",
        lambda p: AGREEMENTS,
        lambda p: agreement_body(period_start="2026-02-30"),
        "period_start",
    ),
    (
        "signed after its end",
        "post",
        lambda p: AGREEMENTS,
        lambda p: agreement_body(signed_on="2031-01-01"),
        "signed_on",
    ),
    ("malformed JSON", "post", lambda p: AGREEMENTS, '{"code": "X", ', "detail"),
    ("a list, not an object", "post", lambda p: AGREEMENTS, "[1, 2]", "non_field_errors"),
    (
        "patch: period ends before it starts",
        "patch",
        lambda p: f"{AGREEMENTS}{p['agreement'].public_id}/",
        lambda p: {"period_end": "2019-01-01"},
        "period_end",
    ),
    (
        "patch: a period that leaves tasks outside",
        "patch",
        lambda p: f"{AGREEMENTS}{p['agreement'].public_id}/",
        lambda p: {"period_end": "2024-12-31"},
        "period_end",
    ),
    (
        "area number 0",
        "post",
        lambda p: AREAS,
        lambda p: {"agreement": "CTPH-2020", "number": 0, "title": "X"},
        "number",
    ),
    (
        "area number taken",
        "post",
        lambda p: AREAS,
        lambda p: {"agreement": "CTPH-2020", "number": 1, "title": "X"},
        "number",
    ),
    (
        "area of an unknown agreement",
        "post",
        lambda p: AREAS,
        lambda p: {"agreement": "NOPE", "number": 5, "title": "X"},
        "agreement",
    ),
    (
        "task due outside the period",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, due_date="2026-03-01"),
        "due_date",
    ),
    (
        "task target date outside the period",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, target_date="2019-03-01"),
        "target_date",
    ),
    (
        "target on an unknown indicator",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, indicator="cables.km_nothing", target_value=10),
        "indicator",
    ),
    (
        "indicator without a target",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, indicator="stations.count"),
        "target_value",
    ),
    (
        "target without an indicator",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, target_value=10),
        "indicator",
    ),
    (
        "target not a number",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, indicator="stations.count", target_value="many"),
        "target_value",
    ),
    (
        "responsible not a party",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, responsible="MOBIFONE"),
        "responsible",
    ),
    (
        "responsible unknown code",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, responsible="NOPE"),
        "responsible",
    ),
    (
        "supporting not a party",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, supporting=["VNPT"]),
        "supporting",
    ),
    (
        "unknown area",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, area="8d1f5a52-0000-4000-8000-000000000000"),
        "area",
    ),
    ("area not an id", "post", lambda p: TASKS, lambda p: _new_task(p, area="area one"), "area"),
    (
        "unknown recurrence",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, recurrence="weekly"),
        "recurrence",
    ),
    (
        "recurring without a date",
        "post",
        lambda p: TASKS,
        lambda p: _new_task(p, recurrence="quarterly"),
        "due_date",
    ),
    (
        "task patch due outside the period",
        "patch",
        lambda p: f"{TASKS}{p['viettel_task'].public_id}/",
        lambda p: {"due_date": "2019-12-31"},
        "due_date",
    ),
    (
        "percent above 100",
        "post",
        _task_update,
        lambda p: {"reported_on": "2025-04-01", "narrative": "x", "percent": 101},
        "percent",
    ),
    (
        "percent below 0",
        "post",
        _task_update,
        lambda p: {"reported_on": "2025-04-01", "narrative": "x", "percent": -5},
        "percent",
    ),
    (
        "percent not a number",
        "post",
        _task_update,
        lambda p: {"reported_on": "2025-04-01", "narrative": "x", "percent": "half"},
        "percent",
    ),
    (
        "update by an organisation that is not a party",
        "post",
        _task_update,
        lambda p: {"reported_on": "2025-04-01", "narrative": "x", "organization": "MOBIFONE"},
        "organization",
    ),
    (
        "update by an unknown organisation",
        "post",
        _task_update,
        lambda p: {"reported_on": "2025-04-01", "narrative": "x", "organization": "NOPE"},
        "organization",
    ),
    (
        "update dated in the future",
        "post",
        _task_update,
        lambda p: {"reported_on": str(timezone.localdate() + timedelta(days=2)), "narrative": "x"},
        "reported_on",
    ),
    (
        "update before the period",
        "post",
        _task_update,
        lambda p: {"reported_on": "2019-04-01", "narrative": "x"},
        "reported_on",
    ),
    (
        "update without a narrative",
        "post",
        _task_update,
        lambda p: {"reported_on": "2025-04-01", "narrative": "  "},
        "narrative",
    ),
    (
        "update correcting an unknown update",
        "post",
        _task_update,
        lambda p: {
            "reported_on": "2025-04-01",
            "narrative": "x",
            "corrects": "8d1f5a52-0000-4000-8000-000000000000",
        },
        "corrects",
    ),
    ("update: malformed JSON", "post", _task_update, '{"narrative": ', "detail"),
    (
        "meeting with a party not in the agreement",
        "post",
        lambda p: MEETINGS,
        lambda p: {
            "agreement": "CTPH-2020",
            "held_on": "2025-03-01",
            "title": "H",
            "present": ["SO_KHCN_HN", "MOBIFONE"],
        },
        "present",
    ),
    (
        "meeting in the future",
        "post",
        lambda p: MEETINGS,
        lambda p: {
            "agreement": "CTPH-2020",
            "title": "H",
            "present": ["CUC_VT"],
            "held_on": str(timezone.localdate() + timedelta(days=3)),
        },
        "held_on",
    ),
    (
        "decision without text",
        "post",
        lambda p: MEETINGS,
        lambda p: {
            "agreement": "CTPH-2020",
            "held_on": "2025-03-01",
            "title": "H",
            "present": ["CUC_VT"],
            "decisions": [{"text": " "}],
        },
        "decisions.1",
    ),
    (
        "renewal that ends before it starts",
        "post",
        lambda p: f"{AGREEMENTS}{p['agreement'].public_id}/renew/",
        lambda p: {
            "code": "N",
            "title": "N",
            "period_start": "2026-01-01",
            "period_end": "2025-01-01",
        },
        "period_end",
    ),
    (
        "renewal that starts before the agreement",
        "post",
        lambda p: f"{AGREEMENTS}{p['agreement'].public_id}/renew/",
        lambda p: {
            "code": "N",
            "title": "N",
            "period_start": "2019-01-01",
            "period_end": "2025-01-01",
        },
        "period_start",
    ),
]


@pytest.mark.parametrize(
    "method, url, body, field", [case[1:] for case in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_400_with_field_messages_and_stores_nothing(
    as_role, programme, method, url, body, field
):
    client = as_role("city_official")
    before = counts()
    stamps = sorted(Agreement.objects.values_list("updated_at", flat=True)) + sorted(
        Task.objects.values_list("updated_at", flat=True)
    )
    target = url(programme)
    if isinstance(body, str):
        response = getattr(client, method)(target, body, content_type="application/json")
    else:
        response = getattr(client, method)(target, body(programme), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert all(isinstance(m, str) and m for m in _messages(errors[field])), errors
    assert counts() == before
    assert stamps == sorted(Agreement.objects.values_list("updated_at", flat=True)) + sorted(
        Task.objects.values_list("updated_at", flat=True)
    )


def _messages(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    return [m for v in value for m in _messages(v)]


def test_percent_on_a_task_measured_by_an_indicator_is_refused(as_role, official, programme):
    task = factories.task(
        official,
        programme["areas"][0],
        "VIETTEL",
        indicator="stations.count",
        target_value=Decimal(100),
    )
    before = counts()
    response = as_role("operator_viettel").post(
        f"{TASKS}{task.public_id}/updates/",
        {"reported_on": "2025-04-01", "narrative": "x", "percent": 50},
        format="json",
    )
    assert response.status_code == 400 and "percent" in response.json()
    assert counts() == before


def test_unknown_or_malformed_ids_are_404(as_role, programme):
    client = as_role("city_official")
    for url in (
        f"{AGREEMENTS}8d1f5a52-0000-4000-8000-000000000000/",
        f"{AGREEMENTS}CTPH-2020/",
        f"{TASKS}12/",
        f"{AREAS}8d1f5a52-0000-4000-8000-000000000000/",
        f"{UPDATES}8d1f5a52-0000-4000-8000-000000000000/",
        f"{MEETINGS}8d1f5a52-0000-4000-8000-000000000000/",
    ):
        assert client.get(url).status_code == 404, url


# --- Query counts --------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("role", ["city_official", "operator_viettel"])
def test_list_query_counts_are_constant(as_role, official, role):
    for i in range(12):
        agreement = factories.agreement(official, PARTIES, code=f"Q-{i:02d}")
        area = factories.area(official, agreement, 1)
        task = factories.task(
            official, area, "VIETTEL", ("CUC_VT", "SO_KHCN_HN"), due_date=date(2025, 1, 1)
        )
        update = services.post_update(
            official,
            task,
            reported_on=date(2025, 1, 2),
            narrative="Tiến độ",
            percent=10,
            evidence=[SimpleUploadedFile("a.png", PNG, "image/png")],
        )
        services.post_update(
            official,
            task,
            reported_on=date(2025, 1, 3),
            narrative="Sửa",
            percent=20,
            corrects=update,
        )
        services.record_meeting(
            official,
            agreement,
            held_on=date(2025, 2, 1),
            title="Họp",
            present=[factories.org("VIETTEL"), factories.org("CUC_VT")],
            decisions=[{"text": "Giữ nguyên", "task": task}],
        )
    client = as_role(role)
    client.get(AGREEMENTS)  # the user's roles are read once, on the first request
    for url in (
        f"{AGREEMENTS}?party=VIETTEL",
        f"{AREAS}?x=1",
        f"{TASKS}?party=VIETTEL",
        f"{UPDATES}?x=1",
        f"{MEETINGS}?x=1",
    ):
        small_count, small = _queries(client, f"{url}&page_size=3")
        big_count, big = _queries(client, f"{url}&page_size=30")
        assert len(small.json()["results"]) == 3, url
        assert len(big.json()["results"]) >= 12, url
        assert small_count == big_count <= 6, (url, small_count, big_count)


def test_agreement_detail_query_count_does_not_grow_with_tasks(
    as_role, official, programme, django_assert_max_num_queries
):
    client = as_role("city_official")
    url = f"{AGREEMENTS}{programme['agreement'].public_id}/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(10):
        factories.task(official, programme["areas"][i % 2], "VIETTEL", ("CUC_VT",))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


# --- OpenAPI -------------------------------------------------------------------------------------


def test_schema_documents_the_agreements_api(as_role):
    response = as_role("city_official").get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/agreements/",
        "/api/v1/agreements/{public_id}/",
        "/api/v1/agreements/{public_id}/in-force/",
        "/api/v1/agreements/{public_id}/renew/",
        "/api/v1/agreement-areas/",
        "/api/v1/agreement-areas/{public_id}/",
        "/api/v1/agreement-tasks/",
        "/api/v1/agreement-tasks/{public_id}/",
        "/api/v1/agreement-tasks/{public_id}/status/",
        "/api/v1/agreement-tasks/{public_id}/updates/",
        "/api/v1/agreement-updates/",
        "/api/v1/agreement-updates/{public_id}/",
        "/api/v1/agreement-meetings/",
        "/api/v1/indicators/",
        "/api/v1/indicators/{key}/",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/agreement-updates/{public_id}/"]) == {"get"}
    assert set(paths["/api/v1/indicators/{key}/"]) == {"get"}
    params = {p["name"] for p in paths["/api/v1/agreement-tasks/"]["get"]["parameters"]}
    assert {"agreement", "party", "status", "due_before", "due_after", "cursor"} <= params
    params = {p["name"] for p in paths["/api/v1/agreements/"]["get"]["parameters"]}
    assert {"party", "status", "q", "cursor", "page_size"} <= params
    params = {p["name"] for p in paths["/api/v1/indicators/{key}/"]["get"]["parameters"]}
    assert {"key", "as_of", "by"} <= params
    upload = paths["/api/v1/agreement-tasks/{public_id}/updates/"]["post"]["requestBody"]
    assert {"application/json", "multipart/form-data"} <= set(upload["content"])


def test_schema_generates_without_warnings():
    """Our part of `manage.py spectacular --validate --fail-on-warn`."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
