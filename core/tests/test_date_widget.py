"""One date widget: the browser's date picker with an ISO value, whatever the page's language."""

import datetime
import re
from pathlib import Path

from django import forms
from django.utils import translation

from core.forms import DateInput

ROOT = Path(__file__).resolve().parents[2]


class _Form(forms.Form):
    day = forms.DateField(widget=DateInput())


def test_the_value_is_iso_in_vietnamese_and_english():
    for language in ("vi", "en"):
        with translation.override(language):
            html = str(_Form(initial={"day": datetime.date(2026, 12, 7)})["day"])
        assert 'type="date"' in html and 'value="2026-12-07"' in html, html


def test_a_submitted_iso_date_is_read_back():
    with translation.override("vi"):
        form = _Form(data={"day": "2026-12-07"})
        assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == datetime.date(2026, 12, 7)


def test_no_form_builds_its_own_date_widget():
    """The rule in one place: a form that wrote its own DateInput (or type=date) drifted before,
    sending 07/12/2026 into <input type="date">, which shows nothing and fails the first submit."""
    found = []
    for path in ROOT.glob("*/forms.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"forms\.DateInput\(", r"[\"']type[\"']\s*:\s*[\"']date[\"']"):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    found = [f for f in found if not f.startswith("core/forms.py")]
    assert not found, found


def test_the_cables_progress_form_shows_the_date_iso():
    from cables.forms import ProgressForm

    field = ProgressForm.base_fields["reported_on"]
    with translation.override("vi"):
        html = field.widget.render("reported_on", datetime.date(2026, 12, 7))
    assert 'value="2026-12-07"' in html
