"""History tables show what pages show: choice labels and the names of related records."""

import pytest
from django.utils import translation

from core.history import acting_as
from core.models import Organization
from core.web import history_rows
from spam_reports.models import SpamCase
from spam_reports.tests.factories import report

pytestmark = pytest.mark.django_db


def test_a_change_reads_in_labels_not_codes(make_user):
    official = make_user("city_official", "SO_KHCN_HN")
    case = SpamCase.objects.get(pk=report(official, "0981 234 567").case_id)
    before = case.operator
    vnpt = Organization.objects.get(code="VNPT")
    with acting_as(official, action="test"):
        case.status = SpamCase.Status.CONFIRMED
        case.operator = vnpt
        case.save()
    with translation.override("vi"):
        rows = history_rows(case, SpamCase)
    changes = {c["field"]: (c["before"], c["after"]) for c in rows[0]["changes"]}
    status = changes[str(SpamCase._meta.get_field("status").verbose_name)]
    assert status == (str(SpamCase.Status.NEW.label), str(SpamCase.Status.CONFIRMED.label))
    operator = changes[str(SpamCase._meta.get_field("operator").verbose_name)]
    assert operator == (str(before), str(vnpt))
    assert "confirmed" not in str(changes) and str(vnpt.pk) not in operator
