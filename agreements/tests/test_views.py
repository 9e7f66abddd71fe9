"""The agreements app's HTML pages: who sees and changes what, bad input through the forms (form
errors, nothing stored, never a 500), the happy paths of every form, query counts that do not grow
with the rows, and the XLSX and printable status."""

import datetime
import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from openpyxl import load_workbook

from agreements import services
from agreements.models import Agreement, Decision, Meeting, ProgressUpdate, Task
from conftest import ROLE_USERS
from core.models import Organization

pytestmark = pytest.mark.django_db

ROLES = list(ROLE_USERS)
SEES_ALL = {"city_official", "national_official", "agency_api_client", "administrator"}
OFFICIALS = {"city_official", "national_official", "administrator"}
# The agreement below is between the Sở (SO_KHCN_HN) and Viettel: Viettel's staff are a party.
PARTY = {"operator_viettel"}
D = datetime.date
PDF = b"%PDF-1.4\n% test\n"


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def login(client, role_user):
    def log_in(role):
        user = role_user(role)
        if user is not None:
            client.force_login(user)
        return user

    return log_in


@pytest.fixture
def official(make_user):
    return make_user("city_official", "SO_KHCN_HN")


def org(code):
    return Organization.objects.get(code=code)


def make_agreement(official, code="CT-VIETTEL-2024", parties=("SO_KHCN_HN", "VIETTEL"), **fields):
    data = {
        "code": code,
        "title": "Chương trình phối hợp 2024–2028",
        "period_start": D(2024, 1, 1),
        "period_end": D(2028, 12, 31),
    }
    data.update(fields)
    agreement = services.save_agreement(
        official,
        parties=[
            {
                "organization": org(c),
                "role": "lead" if i == 0 else "party",
                "signatory": "Nguyễn Văn A",
            }
            for i, c in enumerate(parties)
        ],
        **data,
    )
    return services.bring_into_force(official, agreement, signed_on=data["period_start"])


@pytest.fixture
def agreement(official):
    return make_agreement(official)


@pytest.fixture
def area(official, agreement):
    return services.save_area(official, agreement, number=1, title="Xây dựng chính sách")


@pytest.fixture
def task(official, area):
    return services.save_task(
        official,
        area=area,
        title="Báo cáo hạ tầng dùng chung",
        responsible=org("VIETTEL"),
        due_date=D(2027, 6, 30),
    )


def detail_url(agreement):
    return f"/agreements/{agreement.public_id}/"


def task_url(task):
    return f"/agreements/tasks/{task.public_id}/"


# --- Pages render; who sees what ----------------------------------------------------------------


def test_every_page_renders_for_an_official(client, official, agreement, area, task):
    services.post_update(
        official,
        task,
        reported_on=timezone.localdate(),
        narrative="Đã gửi báo cáo quý",
        percent=30,
        organization=org("VIETTEL"),
    )
    client.force_login(official)
    base = detail_url(agreement)
    for url in [
        "/agreements/",
        "/agreements/?status=in_force&party=VIETTEL",
        "/agreements/new/",
        base,
        base + "edit/",
        base + "print/",
        base + "areas/new/",
        base + "tasks/new/",
        base + f"tasks/new/?area={area.number}",
        base + "meetings/new/",
        task_url(task),
        task_url(task) + "edit/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(base).content.decode()
    for testid in ("agreement-edit", "area-create", "task-create", "meeting-create", "renew-form"):
        assert f'data-testid="{testid}"' in page
    assert 'data-testid="area-bar"' in page and 'data-testid="board"' in page
    assert "Đã gửi báo cáo quý" in page  # the timeline
    assert "31/12/2028" in page  # dates as dd/mm/yyyy


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_the_agreement_and_its_tasks_are_seen_by_officials_and_parties_only(
    client, login, agreement, task, role
):
    login(role)
    pages = [client.get(detail_url(agreement)), client.get(task_url(task))]
    listed = client.get("/agreements/")
    if role == "anonymous":
        assert all(r.status_code == 302 for r in pages)
        return
    if role == "no_role":  # an account without a role reaches no page: core.access
        assert [r.status_code for r in [*pages, listed]] == [403, 403, 403]
        return
    sees = role in SEES_ALL | PARTY
    for response in pages:
        assert response.status_code == (200 if sees else 404)
    assert (agreement.code in listed.content.decode()) is sees
    if sees:
        page = pages[0].content.decode()
        assert ('data-testid="agreement-edit"' in page) is (role in OFFICIALS)
        assert ('data-testid="renew-form"' in page) is (role in OFFICIALS)
        task_page = pages[1].content.decode()
        # Viettel is responsible for the task: its staff post updates and move its status.
        assert ('data-testid="update-form"' in task_page) is (role in OFFICIALS | PARTY)
        assert ('data-testid="task-moves"' in task_page) is (role in OFFICIALS | PARTY)


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_forms_are_for_officials(client, login, agreement, task, role):
    login(role)
    urls = [
        "/agreements/new/",
        detail_url(agreement) + "edit/",
        detail_url(agreement) + "areas/new/",
        detail_url(agreement) + "tasks/new/",
        detail_url(agreement) + "meetings/new/",
        task_url(task) + "edit/",
    ]
    for url in urls:
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302
        elif role in OFFICIALS:
            assert response.status_code == 200, url
        elif role in SEES_ALL | PARTY or role == "no_role" or url == "/agreements/new/":
            assert response.status_code == 403, url
        else:
            assert response.status_code == 404, url


def test_a_party_sees_its_agreement_another_operator_gets_404(
    client, make_user, official, agreement, task
):
    other = make_agreement(official, code="CT-MOBI", parties=("SO_KHCN_HN", "MOBIFONE"))
    client.force_login(make_user("operator_staff", "VIETTEL"))
    listed = client.get("/agreements/").content.decode()
    assert agreement.code in listed and other.code not in listed
    assert client.get(detail_url(agreement)).status_code == 200
    assert client.get(detail_url(other)).status_code == 404
    assert client.get(detail_url(other) + "print/").status_code == 404
    assert client.get(detail_url(other) + "status.xlsx").status_code == 404


def test_parties_show_the_organisation_as_signed_and_its_successor(client, official):
    agreement = make_agreement(
        official,
        code="CT-VT-2020",
        parties=("SO_TTTT_HN", "CUC_VT"),
        period_start=D(2020, 1, 1),
        period_end=D(2025, 12, 31),
    )
    client.force_login(official)
    page = client.get(detail_url(agreement)).content.decode()
    assert "Sở TT&amp;TT Hà Nội" in page
    assert 'data-testid="party-successor"' in page and "now: Sở KH&amp;CN" in page
    # An official of the Sở KH&CN posts updates for the party it succeeded, by default.
    area = services.save_area(official, agreement, number=1, title="Chính sách")
    task = services.save_task(official, area=area, title="Việc", responsible=org("SO_TTTT_HN"))
    page = client.get(task_url(task)).content.decode()
    assert f'<option value="{org("SO_TTTT_HN").pk}" selected>' in page
    response = client.post(
        task_url(task) + "updates/", update_post(organization=str(org("SO_TTTT_HN").pk))
    )
    assert response.status_code == 302
    assert ProgressUpdate.objects.get().organization.code == "SO_TTTT_HN"


# --- Bad input: form errors, nothing stored -----------------------------------------------------


def agreement_post(**extra):
    data = {
        "code": "CT-NEW",
        "title": "Chương trình phối hợp mới",
        "summary": "",
        "signed_on": "",
        "period_start": "2026-01-01",
        "period_end": "2030-12-31",
        "status": "draft",
        "parties-TOTAL_FORMS": "3",
        "parties-INITIAL_FORMS": "0",
        "parties-MIN_NUM_FORMS": "0",
        "parties-MAX_NUM_FORMS": "20",
        "parties-0-organization": str(org("SO_KHCN_HN").pk),
        "parties-0-role": "lead",
        "parties-0-signatory": "Nguyễn Văn A",
        "parties-0-signatory_title": "Giám đốc",
        "parties-1-organization": str(org("CUC_VT").pk),
        "parties-1-role": "party",
        "parties-1-signatory": "Trần Văn B",
        "parties-1-signatory_title": "Cục trưởng",
        "parties-2-organization": "",
        "parties-2-role": "party",
        "parties-2-signatory": "",
        "parties-2-signatory_title": "",
    }
    data.update(extra)
    return data


BAD_AGREEMENTS = [
    ({"period_end": "2025-12-31"}, "cannot end before it starts"),
    ({"period_end": "31/13/2030"}, "Enter a valid date"),
    (
        {"parties-1-organization": "", "parties-1-signatory": "", "parties-1-signatory_title": ""},
        "at least two different parties",
    ),
    ({"parties-2-organization": "__so__"}, "Each organisation is a party once"),
    ({"parties-1-organization": str(0)}, "Select a valid choice"),
    ({"code": ""}, "This field is required"),
    ({"parties-2-signatory": "Lê C"}, "Choose the organisation that signed"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_AGREEMENTS)
def test_bad_agreements_are_refused_with_a_clear_error(client, official, extra, message):
    client.force_login(official)
    extra = {k: str(org("SO_KHCN_HN").pk) if v == "__so__" else v for k, v in extra.items()}
    response = client.post("/agreements/new/", agreement_post(**extra))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Agreement.objects.exists()


def test_an_agreement_is_created_with_its_parties_and_document(client, official):
    client.force_login(official)
    data = agreement_post()
    data["document"] = SimpleUploadedFile("ct.pdf", PDF, "application/pdf")
    response = client.post("/agreements/new/", data)
    assert response.status_code == 302
    agreement = Agreement.objects.get(code="CT-NEW")
    assert response["Location"] == detail_url(agreement)
    assert [p.organization.code for p in agreement.parties.order_by("id")] == [
        "SO_KHCN_HN",
        "CUC_VT",
    ]
    assert agreement.status == "draft" and agreement.document
    document = client.get(detail_url(agreement) + "document/")
    assert document.status_code == 200 and b"".join(document.streaming_content) == PDF


def test_a_jpeg_named_pdf_is_refused_as_the_document(client, official):
    client.force_login(official)
    data = agreement_post()
    data["document"] = SimpleUploadedFile("ct.pdf", b"\xff\xd8\xff\xe0 jpeg", "application/pdf")
    response = client.post("/agreements/new/", data)
    assert response.status_code == 200 and 'data-testid="form-errors"' in response.content.decode()
    assert not Agreement.objects.exists()


def test_editing_keeps_a_party_responsible_for_tasks(client, official, agreement, task):
    client.force_login(official)
    data = agreement_post(
        code=agreement.code,
        title="Tên mới",
        period_start="2024-01-01",
        period_end="2028-12-31",
        **{
            "parties-0-organization": str(org("SO_KHCN_HN").pk),
            "parties-1-organization": str(org("CUC_VT").pk),  # Viettel dropped
        },
    )
    data.pop("status")
    response = client.post(detail_url(agreement) + "edit/", data)
    assert response.status_code == 200
    assert "responsible for tasks cannot be removed" in response.content.decode()
    agreement.refresh_from_db()
    assert agreement.title != "Tên mới"
    # Shrinking the period under a task's due date is refused too.
    data["parties-1-organization"] = str(org("VIETTEL").pk)
    data["period_end"] = "2026-12-31"
    response = client.post(detail_url(agreement) + "edit/", data)
    assert "due outside the new period" in response.content.decode()
    data["period_end"] = "2028-12-31"
    assert client.post(detail_url(agreement) + "edit/", data).status_code == 302
    agreement.refresh_from_db()
    assert agreement.title == "Tên mới" and agreement.status == "in_force"


def task_post(area, **extra):
    data = {
        "area": str(area.pk),
        "title": "Hạ ngầm cáp các tuyến phố",
        "description": "",
        "responsible": str(org("VIETTEL").pk),
        "due_date": "2027-06-30",
        "recurrence": "",
        "indicator": "",
        "baseline_value": "",
        "target_value": "",
        "target_date": "",
    }
    data.update(extra)
    return data


BAD_TASKS = [
    ({"due_date": "2030-01-01"}, "within the agreement&#x27;s period"),
    (
        {"target_date": "2023-12-31", "indicator": "cables.km_duct_built", "target_value": "5"},
        "within",
    ),
    ({"indicator": "cables.no_such_thing", "target_value": "5"}, "Unknown indicator"),
    ({"indicator": "cables.km_duct_built"}, "needs a target value"),
    ({"target_value": "10"}, "Choose the indicator"),
    ({"responsible": "0"}, "Select a valid choice"),
    ({"recurrence": "quarterly", "due_date": ""}, "next occurrence"),
    ({"target_value": "abc", "indicator": "cables.km_duct_built"}, "Enter a number"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_TASKS)
def test_bad_tasks_are_refused_with_a_clear_error(
    client, official, agreement, area, extra, message
):
    client.force_login(official)
    response = client.post(detail_url(agreement) + "tasks/new/", task_post(area, **extra))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Task.objects.exists()


def test_supporting_parties_are_limited_to_the_agreements_parties(
    client, official, agreement, area
):
    client.force_login(official)
    response = client.post(
        detail_url(agreement) + "tasks/new/",
        task_post(area, supporting=[str(org("MOBIFONE").pk)]),
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(
        detail_url(agreement) + "tasks/new/",
        task_post(area, supporting=[str(org("SO_KHCN_HN").pk)]),
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert response["Location"] == task_url(task)
    assert [o.code for o in task.supporting.all()] == ["SO_KHCN_HN"]


def test_a_task_measured_by_an_indicator_shows_live_progress(client, official, agreement, area):
    client.force_login(official)
    response = client.post(
        detail_url(agreement) + "tasks/new/",
        task_post(area, indicator="cables.km_duct_built", target_value="300", baseline_value="0"),
    )
    assert response.status_code == 302
    task = Task.objects.get()
    page = client.get(task_url(task)).content.decode()
    assert 'data-testid="live-note"' in page and "computed from live data" in page
    assert 'name="update-percent"' not in page  # progress is not typed in
    # A percent posted anyway is not taken.
    response = client.post(
        task_url(task) + "updates/",
        update_post(percent="90", organization=str(org("VIETTEL").pk)),
    )
    assert response.status_code == 302
    assert ProgressUpdate.objects.get().percent is None


def update_post(**extra):
    data = {
        "update-reported_on": timezone.localdate().isoformat(),
        "update-narrative": "Đã hoàn thành khảo sát",
        "update-percent": "40",
    }
    data.update({f"update-{k}": v for k, v in extra.items()})
    return data


def future():
    return (timezone.localdate() + datetime.timedelta(days=3)).isoformat()


BAD_UPDATES = [
    ({"percent": "101"}, "from 0 to 100"),
    ({"percent": "-1"}, "from 0 to 100"),
    ({"percent": "abc"}, "Enter a whole number"),
    ({"reported_on": future()}, "cannot be in the future"),
    ({"reported_on": "2023-06-01"}, "before the agreement"),
    ({"narrative": ""}, "This field is required"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_UPDATES)
def test_bad_updates_are_refused_and_nothing_stored(client, make_user, task, extra, message):
    client.force_login(make_user("operator_staff", "VIETTEL"))
    response = client.post(task_url(task) + "updates/", update_post(**extra))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_an_update_by_an_organisation_that_is_not_a_party_is_refused(client, role_user, task):
    # A national official may update any task, but the Cục is not a party to this agreement.
    client.force_login(role_user("national_official"))
    response = client.post(task_url(task) + "updates/", update_post())
    assert response.status_code == 400
    assert "Only a party to the agreement can post an update" in response.content.decode()
    # Naming an organisation outside the parties is refused by the form.
    response = client.post(
        task_url(task) + "updates/", update_post(organization=str(org("CUC_VT").pk))
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_a_party_not_involved_in_the_task_cannot_post(client, make_user, official, agreement, area):
    other_task = services.save_task(
        official, area=area, title="Việc của Sở", responsible=org("SO_KHCN_HN")
    )
    client.force_login(make_user("operator_staff", "VIETTEL"))
    response = client.post(task_url(other_task) + "updates/", update_post())
    assert response.status_code == 403
    page = client.get(task_url(other_task)).content.decode()
    assert 'data-testid="update-form"' not in page
    assert not ProgressUpdate.objects.exists()


def test_updates_with_evidence_and_a_correction(client, make_user, task):
    staff = make_user("operator_staff", "VIETTEL")
    client.force_login(staff)
    url = task_url(task) + "updates/"
    evidence = SimpleUploadedFile("bien-ban.pdf", PDF, "application/pdf")
    response = client.post(url, update_post(percent="60", evidence=evidence))
    assert response.status_code == 302, response.content.decode()[:3000]
    first = ProgressUpdate.objects.get()
    task.refresh_from_db()
    assert task.percent == 60 and task.status == "in_progress"
    response = client.post(url, update_post(percent="45", corrects=str(first.pk)))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.percent == 45
    page = client.get(task_url(task)).content.decode()
    assert 'data-corrected="1"' in page and 'data-testid="correction"' in page
    # Evidence is served to those who see the agreement, and to no one else.
    link = first.evidence.get()
    assert client.get(f"/agreements/evidence/{link.pk}/").status_code == 200
    client.force_login(make_user("operator_staff", "MOBIFONE"))
    assert client.get(f"/agreements/evidence/{link.pk}/").status_code == 404
    # Correcting the same update twice is refused.
    client.force_login(staff)
    again = client.post(url, update_post(percent="50", corrects=str(first.pk)))
    assert again.status_code == 400
    assert ProgressUpdate.objects.count() == 2


def test_a_fake_evidence_file_is_refused(client, make_user, task):
    client.force_login(make_user("operator_staff", "VIETTEL"))
    fake = SimpleUploadedFile("anh.png", b"not an image", "image/png")
    response = client.post(task_url(task) + "updates/", update_post(evidence=fake))
    assert response.status_code == 400
    assert not ProgressUpdate.objects.exists()


def test_status_moves_follow_the_table(client, make_user, task):
    client.force_login(make_user("operator_staff", "VIETTEL"))
    url = task_url(task) + "status/"
    page = client.get(task_url(task)).content.decode()
    assert 'data-testid="move-in_progress"' in page and 'data-testid="move-overdue"' not in page
    assert client.post(url, {"status": "done"}).status_code == 302
    task.refresh_from_db()
    assert task.status == "done"
    response = client.post(url, {"status": "dropped"}, follow=True)
    assert "cannot become" in response.content.decode()
    response = client.post(url, {"status": "nonsense"}, follow=True)
    assert response.status_code == 200 and "Unknown status" in response.content.decode()
    task.refresh_from_db()
    assert task.status == "done"


def test_another_party_cannot_move_the_task(client, make_user, official, agreement, area):
    mine = services.save_task(
        official, area=area, title="Việc của Sở", responsible=org("SO_KHCN_HN")
    )
    client.force_login(make_user("operator_staff", "VIETTEL"))
    assert client.post(task_url(mine) + "status/", {"status": "done"}).status_code == 403


# --- Content areas, meetings, renewal ------------------------------------------------------------


def test_content_areas_are_numbered_once(client, official, agreement, area):
    client.force_login(official)
    url = detail_url(agreement) + "areas/new/"
    assert 'value="2"' in client.get(url).content.decode()  # the next number is suggested
    response = client.post(url, {"number": "1", "title": "Trùng số"})
    assert response.status_code == 200 and "already has an area" in response.content.decode()
    response = client.post(url, {"number": "0", "title": "Số 0"})
    assert "from 1" in response.content.decode()
    assert client.post(url, {"number": "2", "title": "Thực thi"}).status_code == 302
    assert list(agreement.areas.values_list("number", flat=True)) == [1, 2]


def meeting_post(agreement, **extra):
    data = {
        "held_on": timezone.localdate().isoformat(),
        "title": "Họp sơ kết",
        "present": [str(org("SO_KHCN_HN").pk), str(org("VIETTEL").pk)],
        "minutes": "Hai bên thống nhất",
        "decisions-TOTAL_FORMS": "3",
        "decisions-INITIAL_FORMS": "0",
        "decisions-MIN_NUM_FORMS": "0",
        "decisions-MAX_NUM_FORMS": "20",
    }
    data.update(extra)
    return data


def test_a_meeting_records_decisions_that_create_and_change_tasks(
    client, official, agreement, area, task
):
    client.force_login(official)
    data = meeting_post(
        agreement,
        **{
            "decisions-0-text": "Lùi hạn báo cáo",
            "decisions-0-task": str(task.pk),
            "decisions-0-due_date": "2027-09-30",
            "decisions-0-status": "in_progress",
            "decisions-1-text": "Giao Viettel khảo sát tuyến mới",
            "decisions-1-new_title": "Khảo sát tuyến Láng",
            "decisions-1-new_area": str(area.pk),
            "decisions-1-new_responsible": str(org("VIETTEL").pk),
            "decisions-1-new_due_date": "2027-03-31",
        },
    )
    response = client.post(detail_url(agreement) + "meetings/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    meeting = Meeting.objects.get()
    assert set(meeting.present.values_list("code", flat=True)) == {"SO_KHCN_HN", "VIETTEL"}
    task.refresh_from_db()
    assert task.due_date == D(2027, 9, 30) and task.status == "in_progress"
    created = Task.objects.get(title="Khảo sát tuyến Láng")
    assert Decision.objects.filter(task=created, created_task=True).exists()
    page = client.get(detail_url(agreement)).content.decode()
    assert page.count('data-testid="decision"') == 2


BAD_MEETINGS = [
    ({"present": []}, "Choose the parties present"),
    ({"held_on": future()}, "cannot be in the future"),
    ({"decisions-0-task": "__task__"}, "Write the decision"),
    (
        {"decisions-0-text": "Tạo việc", "decisions-0-new_title": "Việc mới"},
        "Choose the content area",
    ),
    (
        {
            "decisions-0-text": "Tạo việc",
            "decisions-0-new_title": "Việc mới",
            "decisions-0-new_area": "__area__",
            "decisions-0-new_responsible": "__viettel__",
            "decisions-0-new_due_date": "2031-01-01",
        },
        "within the agreement",
    ),
    (
        {
            "decisions-0-text": "Bỏ",
            "decisions-0-task": "__task__",
            "decisions-0-status": "dropped",
        },
        "cannot become",
    ),
]


@pytest.mark.parametrize(("extra", "message"), BAD_MEETINGS)
def test_bad_meetings_are_refused_and_nothing_stored(
    client, official, agreement, area, task, extra, message
):
    services.set_task_status(official, task, "done")  # done cannot become dropped
    client.force_login(official)
    values = {
        "__task__": str(task.pk),
        "__area__": str(area.pk),
        "__viettel__": str(org("VIETTEL").pk),
    }
    extra = {k: values.get(v, v) if isinstance(v, str) else v for k, v in extra.items()}
    response = client.post(
        detail_url(agreement) + "meetings/new/", meeting_post(agreement, **extra)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Meeting.objects.exists()
    assert Task.objects.count() == 1


def test_renewal_creates_a_draft_successor_and_bringing_it_into_force_closes_the_old_one(
    client, official
):
    old = make_agreement(
        official,
        code="CTPH-VT-2020-2025",
        title="Chương trình phối hợp 2020–2025",
        parties=("SO_TTTT_HN", "CUC_VT"),
        period_start=D(2020, 1, 1),
        period_end=D(2025, 12, 31),
    )
    area = services.save_area(official, old, number=1, title="Chính sách")
    open_task = services.save_task(
        official, area=area, title="Việc còn dở", responsible=org("SO_TTTT_HN")
    )
    done = services.save_task(official, area=area, title="Việc đã xong", responsible=org("CUC_VT"))
    services.set_task_status(official, done, "done")
    client.force_login(official)
    page = client.get(detail_url(old)).content.decode()
    # Pre-filled with the next five years.
    assert 'value="2026-01-01"' in page and 'value="2030-12-31"' in page
    assert 'value="CTPH-VT-2026-2030"' in page and "Chương trình phối hợp 2026–2030" in page
    # A successor that does not start after this agreement is refused.
    bad = client.post(
        detail_url(old) + "renew/",
        {
            "renew-code": "X",
            "renew-title": "X",
            "renew-period_start": "2019-01-01",
            "renew-period_end": "2030-12-31",
        },
    )
    assert bad.status_code == 400 and "must start after" in bad.content.decode()
    bad = client.post(
        detail_url(old) + "renew/",
        {
            "renew-code": "X",
            "renew-title": "X",
            "renew-period_start": "2026-01-01",
            "renew-period_end": "2025-01-01",
        },
    )
    assert bad.status_code == 400 and "cannot end before it starts" in bad.content.decode()
    response = client.post(
        detail_url(old) + "renew/",
        {
            "renew-code": "CTPH-VT-2026-2030",
            "renew-title": "Chương trình phối hợp 2026–2030",
            "renew-period_start": "2026-01-01",
            "renew-period_end": "2030-12-31",
        },
    )
    new = Agreement.objects.get(code="CTPH-VT-2026-2030")
    assert response.status_code == 302 and response["Location"] == detail_url(new)
    assert new.status == "draft" and new.predecessor == old
    assert {p.organization.code for p in new.parties.all()} == {"SO_KHCN_HN", "CUC_VT"}
    carried = Task.objects.filter(area__agreement=new)
    assert [t.title for t in carried] == ["Việc còn dở"]
    assert carried.get().carried_from == open_task
    page = client.get(detail_url(new)).content.decode()
    assert 'data-testid="predecessor-link"' in page and 'data-testid="bring-into-force"' in page
    old_page = client.get(detail_url(old)).content.decode()
    assert 'data-testid="successor-link"' in old_page and 'data-testid="renew-form"' not in old_page
    # A second successor is refused.
    again = client.post(
        detail_url(old) + "renew/",
        {
            "renew-code": "CTPH-2",
            "renew-title": "Lần hai",
            "renew-period_start": "2026-01-01",
            "renew-period_end": "2030-12-31",
        },
        follow=True,
    )
    assert "already has a successor" in again.content.decode()
    response = client.post(detail_url(new) + "in-force/", follow=True)
    assert "The agreement is in force." in response.content.decode()
    new.refresh_from_db()
    old.refresh_from_db()
    assert new.status == "in_force" and old.status == "renewed"
    # Bringing it into force twice is a message, not a 500.
    response = client.post(detail_url(new) + "in-force/", follow=True)
    assert response.status_code == 200 and "not allowed" in response.content.decode()


def test_only_officials_renew(client, make_user, agreement):
    client.force_login(make_user("operator_staff", "VIETTEL"))
    response = client.post(
        detail_url(agreement) + "renew/",
        {
            "renew-code": "X",
            "renew-title": "X",
            "renew-period_start": "2029-01-01",
            "renew-period_end": "2033-12-31",
        },
    )
    assert response.status_code == 403
    assert client.post(detail_url(agreement) + "in-force/").status_code == 403
    assert Agreement.objects.count() == 1


def test_bad_filter_values_are_form_errors_not_500(client, official, agreement):
    client.force_login(official)
    assert client.get("/agreements/?in_force_on=abc&party=NOPE&status=x").status_code == 200
    assert client.get("/agreements/not-a-uuid/").status_code == 404
    assert client.get(f"/agreements/{agreement.public_id}x/").status_code == 404


# --- Query counts, export, print ----------------------------------------------------------------


def make_agreements(official, n, start=0):
    for i in range(start, start + n):
        make_agreement(
            official,
            code=f"CT-{i:03d}",
            parties=("SO_TTTT_HN", "CUC_VT", "VIETTEL"),
            period_start=D(2020, 1, 1),
            period_end=D(2025, 12, 31),
        )


def test_the_list_query_count_does_not_grow_with_the_rows(
    client, official, django_assert_max_num_queries
):
    client.force_login(official)
    make_agreements(official, 2)
    with django_assert_max_num_queries(12) as few:
        assert client.get("/agreements/").status_code == 200
    make_agreements(official, 12, start=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/agreements/")
    assert response.content.decode().count('data-testid="agreement-row"') == 14


def test_the_overview_query_count_does_not_grow_with_the_tasks(
    client, official, agreement, area, django_assert_max_num_queries
):
    client.force_login(official)

    def add(n, start):
        for i in range(start, start + n):
            t = services.save_task(
                official,
                area=area,
                title=f"Việc {i}",
                responsible=org("VIETTEL"),
                supporting=[org("SO_KHCN_HN")],
                due_date=D(2027, 1, 1),
            )
            services.post_update(
                official,
                t,
                reported_on=timezone.localdate(),
                narrative="Tiến độ",
                percent=10,
                organization=org("VIETTEL"),
            )

    add(1, 0)
    with django_assert_max_num_queries(60) as few:
        assert client.get(detail_url(agreement)).status_code == 200
    add(8, 1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(detail_url(agreement)).status_code == 200


def test_the_status_export_has_a_row_per_task(client, official, agreement, area, task):
    services.save_task(
        official,
        area=area,
        title="Hạ ngầm cáp",
        responsible=org("SO_KHCN_HN"),
        supporting=[org("VIETTEL")],
        indicator="cables.km_duct_built",
        target_value=300,
        target_date=D(2028, 6, 30),
    )
    services.post_update(
        official,
        task,
        reported_on=timezone.localdate(),
        narrative="Một nửa",
        percent=50,
        organization=org("VIETTEL"),
    )
    client.force_login(official)
    response = client.get(detail_url(agreement) + "status.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    rows = [dict(zip(values[0], r, strict=True)) for r in values[1:]]
    assert {r["Task"] for r in rows} == {"Báo cáo hạ tầng dùng chung", "Hạ ngầm cáp"}
    by_title = {r["Task"]: r for r in rows}
    report = by_title["Báo cáo hạ tầng dùng chung"]
    assert report["Progress (%)"] == 50 and report["Responsible party"] == "Viettel"
    assert report["Due date"].date() == D(2027, 6, 30)
    cable = by_title["Hạ ngầm cáp"]
    assert float(cable["Target"]) == 300 and "Duct built" in cable["Indicator"]
    assert cable["Progress (%)"] == 0 and cable["Value"] == 0
    assert cable["Content area"] == "Xây dựng chính sách" and cable["Area"] == 1


def test_the_printable_page_has_no_navigation(client, official, agreement, task):
    client.force_login(official)
    page = client.get(detail_url(agreement) + "print/").content.decode()
    # The print styles live in a static file (the Content-Security-Policy refuses <style>).
    assert "css/agreement_print.css" in page and 'data-testid="print-task"' in page
    assert "@media print" in (settings.BASE_DIR / "static/css/agreement_print.css").read_text()
    assert "<style" not in page
    assert "navbar" not in page and "nav-agreements" not in page
    assert "cdn" not in page.lower()


def test_a_task_is_changed_through_its_form(client, official, agreement, area, task):
    client.force_login(official)
    url = task_url(task) + "edit/"
    assert 'value="2027-06-30"' in client.get(url).content.decode()  # the current due date
    response = client.post(url, task_post(area, title=task.title, due_date="2029-01-01"))
    assert response.status_code == 200 and "within the agreement" in response.content.decode()
    response = client.post(url, task_post(area, title=task.title, due_date="2028-03-31"))
    assert response.status_code == 302 and response["Location"] == task_url(task)
    task.refresh_from_db()
    assert task.due_date == D(2028, 3, 31)
