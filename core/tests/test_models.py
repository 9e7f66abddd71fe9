from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.models import AdministrativeUnit, Organization

pytestmark = pytest.mark.django_db


def test_reference_data_has_hanoi_units_and_agencies():
    assert AdministrativeUnit.objects.count() == 126
    assert AdministrativeUnit.objects.filter(kind="phuong").count() == 51
    assert AdministrativeUnit.objects.filter(kind="xa").count() == 75
    codes = set(Organization.objects.values_list("code", flat=True))
    assert {
        "SO_TTTT_HN",
        "SO_KHCN_HN",
        "CUC_VT",
        "CUC_BDTW",
        "VIETTEL",
        "VNPT",
        "MOBIFONE",
        "FPT",
        "CMC",
        "VIETNAMOBILE",
        "GTEL",
    } <= codes


def test_old_department_is_succeeded_by_the_science_department():
    old = Organization.objects.get(code="SO_TTTT_HN")
    assert old.effective_to == date(2025, 2, 28)
    assert old.current.code == "SO_KHCN_HN"
    assert old.is_active_on(date(2025, 2, 28))
    assert not old.is_active_on(date(2025, 3, 1))
    assert Organization.objects.get(code="SO_KHCN_HN").current.code == "SO_KHCN_HN"
    assert Organization.objects.get(code="CUC_VT").parent.code == "BO_KHCN"


def test_end_date_before_start_date_is_refused_by_clean_and_by_the_database():
    org = Organization(
        code="TEST_ORG",
        kind="other",
        name="Thử",
        effective_from=date(2025, 3, 1),
        effective_to=date(2025, 2, 1),
    )
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert "effective_to" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        org.save()
    assert not Organization.objects.filter(code="TEST_ORG").exists()


def test_organisation_cannot_succeed_itself():
    org = Organization.objects.get(code="VIETTEL")
    org.successor = org
    with pytest.raises(ValidationError):
        org.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        org.save()


def test_unit_code_must_have_five_digits():
    unit = AdministrativeUnit(code="123", name="Phường Thử", short_name="Thử", kind="phuong")
    with pytest.raises(ValidationError) as exc:
        unit.full_clean()
    assert "code" in exc.value.message_dict


def test_unit_keys_follow_its_name():
    unit = AdministrativeUnit.objects.get(code="00175")
    assert unit.name == "Phường Yên Hoà"
    unit.name = "Phường Yên Hòa"
    unit.save()
    unit.refresh_from_db()
    assert unit.search_text.startswith("00175 phuong yen hoa")


def test_full_name_in_vietnamese_order(make_user):
    user = make_user(None, None, first_name="Minh", last_name="Nguyễn Văn")
    assert user.get_full_name() == "Nguyễn Văn Minh"
