"""HTML forms and list filters of the reports pages.

The forms only parse and label: ``reports.services`` checks permissions, the sections against the
indicator registry (services.check_sections) and the period (closed or not), and raises
``InvalidInput``, whose messages ``add_service_errors`` puts on the fields.
"""

import json
import re

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Organization
from core.text import vietnamese
from core.web import ServiceErrorsMixin, bootstrap
from reports import dashboard
from reports.models import PeriodType, ReportDefinition, ReportRun

# A period as people write it (11/2026, Q3/2026, H2/2026) -> its key (2026-11, 2026-Q3, 2026-H2).
WRITTEN_PERIODS = [
    (re.compile(r"^(\d{1,2})/(\d{4})$"), lambda m: f"{m[2]}-{int(m[1]):02d}"),
    (re.compile(r"^[Qq]\s*([1-4])\s*/\s*(\d{4})$"), lambda m: f"{m[2]}-Q{m[1]}"),
    (re.compile(r"^[Hh]\s*([12])\s*/\s*(\d{4})$"), lambda m: f"{m[2]}-H{m[1]}"),
    (re.compile(r"^(\d{4})-[qh]([1-4])$"), lambda m: m[0].upper()),
]


def period_key(text):
    text = (text or "").strip()
    for pattern, key in WRITTEN_PERIODS:
        match = pattern.match(text)
        if match:
            return key(match)
    return text


class DefinitionForm(ServiceErrorsMixin, forms.ModelForm):
    """A report definition; its sections typed as JSON (checked by the service against the
    indicator registry)."""

    sections = forms.CharField(
        label=_("Sections (JSON)"),
        widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace", "spellcheck": "false"}),
        help_text=_(
            'A list of sections: [{"title": "…", "indicators": ["stations.count", …], '
            '"by": "" or a breakdown such as "operator"}].'
        ),
    )

    class Meta:
        model = ReportDefinition
        fields = [
            "code",
            "name",
            "recipient",
            "period_type",
            "cutoff_day",
            "deadline_days",
            "heading",
            "intro",
            "sections",
            "active",
        ]
        widgets = {"intro": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = Organization.objects.filter(
            kind=Organization.Kind.AGENCY
        ).order_by(vietnamese("name"))
        self.fields["cutoff_day"].widget.attrs.update({"min": 0, "max": 28})
        if self.instance.pk and not self.is_bound:
            self.initial["sections"] = json.dumps(
                self.instance.sections, ensure_ascii=False, indent=2
            )
        bootstrap(self)

    def clean_sections(self):
        text = self.cleaned_data["sections"]
        try:
            sections = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("The sections are not valid JSON (line %(line)d, column %(col)d: %(msg)s).")
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
            ) from None
        if not isinstance(sections, list):
            raise forms.ValidationError(_("The sections are a list: [ {…}, {…} ]."))
        return sections

    def _post_clean(self):
        """No model validation here: ``services.save_definition`` does it."""

    def service_data(self):
        return dict(self.cleaned_data)


class RunRequestForm(ServiceErrorsMixin, forms.Form):
    """Run a report now for a closed period."""

    definition = forms.ModelChoiceField(
        label=_("Report"),
        queryset=ReportDefinition.objects.filter(active=True)
        .select_related("recipient")
        .order_by("code"),
    )
    period = forms.CharField(
        label=_("Period"),
        max_length=16,
        widget=forms.TextInput(attrs={"placeholder": "2026-11", "size": 10}),
        help_text=_("Month 2026-11 (or 11/2026), quarter 2026-Q3, half-year 2026-H2, year 2026."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = list(self.fields["definition"].queryset[:2])
        if len(choices) == 1 and not self.initial.get("definition"):
            self.initial["definition"] = choices[0].pk
        bootstrap(self)

    def clean_period(self):
        return period_key(self.cleaned_data["period"])


DEADLINE_STATES = [
    ("on_time", _("On time")),
    ("due_soon", _("Due soon")),
    ("late", _("Late")),
]


class RunFilter(django_filters.FilterSet):
    definition = django_filters.ModelChoiceFilter(
        label=_("Report"),
        queryset=ReportDefinition.objects.order_by("code"),
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ReportRun.Status.choices)
    deadline = django_filters.ChoiceFilter(
        label=_("Deadline"), choices=DEADLINE_STATES, method="filter_deadline"
    )
    period = django_filters.CharFilter(
        label=_("Period"), field_name="period_key", lookup_expr="startswith"
    )

    class Meta:
        model = ReportRun
        fields = ["definition", "status", "deadline", "period"]

    def filter_deadline(self, queryset, name, value):
        return queryset.filter(dashboard.deadline_filter(value, timezone.localdate()))


class DefinitionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    period_type = django_filters.ChoiceFilter(label=_("Period"), choices=PeriodType.choices)
    recipient = django_filters.ModelChoiceFilter(
        label=_("Recipient agency"),
        queryset=Organization.objects.filter(kind=Organization.Kind.AGENCY).order_by(
            vietnamese("name")
        ),
    )
    active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = ReportDefinition
        fields = ["q", "period_type", "recipient", "active"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
