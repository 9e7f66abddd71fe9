"""core.dateorder: a file's date order is decided from its whole column, never per row."""

import pytest
from django.utils import translation

from core.dateorder import DMY, MDY, DateOrder
from core.exceptions import ImportRejected


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def order_of(*values):
    found = DateOrder("received_at")
    for row, value in enumerate(values, start=2):
        found.see(row, value)
    return found


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("9/8/2026 10:00", "13/8/2026 10:00"), DMY),  # the 13th proves day-first
        (("8/9/2026", "8/13/2026"), MDY),  # the 13th in second place proves month-first
        (("2026-08-09T10:00", "05/05/2026"), DMY),  # nothing whose order matters
        (("", None, "hôm qua"), DMY),  # no dates at all
        (("13/8/2026", "8/13/2026"), None),  # rows disagree
        (("9/8/2026", "10/8/2026"), None),  # every date could be either
        (("31.12.2026", "1-2-2026"), DMY),  # dots and dashes as Excel's locales write them
    ],
)
def test_the_column_decides(values, expected):
    assert order_of(*values).found() == expected


def test_a_file_that_proves_day_first_is_read_day_first():
    found = order_of("9/8/2026", "13/8/2026")
    assert found.decide() == DMY and found.notice == ""


def test_month_first_is_refused_naming_a_row_unless_chosen():
    found = order_of("8/9/2026", "8/13/2026")
    with pytest.raises(ImportRejected) as refused:
        found.decide()
    assert "row 3" in str(refused.value.message) and "8/13/2026" in str(refused.value.message)
    assert found.decide(MDY) == MDY


def test_disagreeing_rows_are_refused_unless_the_user_chose():
    found = order_of("13/8/2026", "1/1/2026", "8/13/2026")
    with pytest.raises(ImportRejected) as refused:
        found.decide()
    message = str(refused.value.message)
    assert "row 2" in message and "row 4" in message
    # The user's explicit choice is theirs: the rows that do not fit it fail one by one.
    assert found.decide(DMY) == DMY


def test_all_ambiguous_is_read_day_first_with_a_notice():
    found = order_of("9/8/2026", "10/8/2026")
    assert found.decide() == DMY
    assert "row 2" in found.notice and "9/8/2026" in found.notice
    chosen = order_of("9/8/2026")
    assert chosen.decide(MDY) == MDY and chosen.notice == ""


def test_the_messages_are_in_vietnamese_for_the_portal():
    found = order_of("8/13/2026")
    with translation.override("vi"), pytest.raises(ImportRejected) as refused:
        found.decide()
    assert "tháng/ngày/năm" in str(refused.value.message) and "dòng 2" in str(refused.value.message)
