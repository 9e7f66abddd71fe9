"""core.rowcheck reads every value exactly as the form would: the same cleaned value, the same
messages, for what people and hostile files send."""

import itertools

import pytest
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from core.rowcheck import RowChecker


class RowForm(forms.Form):
    code = forms.CharField(max_length=8)
    note = forms.CharField(max_length=20, required=False)
    lon = forms.FloatField(min_value=-180, max_value=180)
    ratio = forms.FloatField(required=False, validators=[MinValueValidator(0.5)])
    height = forms.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(1), MaxValueValidator(300)]
    )
    spare = forms.DecimalField(max_digits=4, decimal_places=1, required=False)
    kind = forms.ChoiceField(choices=[("monopole", "Monopole"), ("mast", "Mast")])
    state = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], required=False)
    day = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    tags = forms.CharField(required=False)

    def clean_tags(self):
        return sorted(
            {t.strip().upper() for t in self.cleaned_data["tags"].split(";") if t.strip()}
        )


HOSTILE = [
    "", " ", "  x  ", "x" * 8, "x" * 9, "a\x00b", "Cầu Giấy", "Cầu Giấy", "<b>x</b>",
    "0", "-0", "1", "1.5", "1,5", "1_000", "1e3", "1e400", "-1e400", "nan", "NaN", "inf",
    "-inf", "180", "180.0000001", "-181", " 12 ", "0.5", "0.49", "300", "300.01", "1.234",
    "999.99", "1000", "monopole", "Monopole", "monopole ", "mast", "a", "b", "c",
    "2024-03-15", "2024-3-15", "2024-02-30", "1899-12-31", "2101-01-01", "15/03/2024",
    "20240315", " 2024-03-15 ", "\ud800", "１２",
]  # fmt: skip


def _form_result(values):
    form = RowForm(data=values)
    valid = form.is_valid()
    errors = sorted((k, m) for k, ms in form.errors.items() for m in ms)
    return (form.cleaned_data if valid else None), errors


def _checker_result(checker, values):
    data, errors = checker(values)
    return (None if errors else data), sorted(errors)


@pytest.mark.parametrize("field", list(RowForm.base_fields))
def test_each_value_reads_as_the_form_reads_it(field):
    checker = RowChecker(RowForm)
    base = {
        "code": "HN-1", "note": "", "lon": "105.8", "ratio": "", "height": "30", "spare": "",
        "kind": "monopole", "state": "", "day": "", "tags": "",
    }  # fmt: skip
    for value in HOSTILE:
        values = {**base, field: value}
        expected = _form_result(values)
        got = _checker_result(checker, values)
        assert got[1] == expected[1], (field, value)
        if expected[0] is not None:
            assert got[0] == expected[0], (field, value)
            for name, cleaned in expected[0].items():  # the same types: Decimal, float, date
                assert type(got[0][name]) is type(cleaned), (field, value, name)


def test_a_checker_is_reused_row_after_row_without_carrying_values_over():
    checker = RowChecker(RowForm)
    rows = [
        {"code": c, "lon": lon, "height": "30", "kind": "mast", "tags": t}
        for c, lon, t in itertools.product(["A", ""], ["1", "x"], ["4g;5g", ""])
    ]
    for values in rows:
        assert _checker_result(checker, values)[1] == _form_result(values)[1], values
    assert (
        checker({"code": "A", "lon": "1", "height": "30", "kind": "mast", "tags": ""})[0]["tags"]
        == []
    )
