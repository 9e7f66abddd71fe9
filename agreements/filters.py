"""One FilterSet per list: the same class filters the HTML list and the API list."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, ProgressUpdate, Task
from core.filters import YesNoFilter
from core.models import Organization


class AgreementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Code or title"))
    party = django_filters.ModelChoiceFilter(
        field_name="parties__organization",
        queryset=Organization.objects.all(),
        to_field_name="code",
        label=_("Party"),
    )
    status = django_filters.ChoiceFilter(choices=Agreement.Status.choices, label=_("Status"))
    in_force_on = django_filters.DateFilter(method="filter_in_force_on", label=_("In force on"))
    code = django_filters.CharFilter(lookup_expr="iexact", label=_("Code"))

    class Meta:
        model = Agreement
        fields = ["q", "code", "party", "status", "in_force_on"]

    def filter_q(self, qs, name, value):
        """Every word in the code or the title (a programme is looked up by its code too)."""
        for word in (value or "").split():
            qs = qs.filter(Q(code__icontains=word) | Q(title__icontains=word))
        return qs

    def filter_in_force_on(self, qs, name, value):
        return qs.filter(period_start__lte=value, period_end__gte=value) if value else qs


class TaskFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(lookup_expr="icontains", label=_("Title"))
    agreement = django_filters.CharFilter(field_name="area__agreement__code", label=_("Agreement"))
    area = django_filters.NumberFilter(field_name="area__number", label=_("Content area"))
    party = django_filters.ModelChoiceFilter(
        field_name="responsible",
        queryset=Organization.objects.all(),
        to_field_name="code",
        label=_("Responsible party"),
    )
    status = django_filters.MultipleChoiceFilter(choices=Task.Status.choices, label=_("Status"))
    due_after = django_filters.DateFilter(
        field_name="due_date", lookup_expr="gte", label=_("Due from")
    )
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label=_("Due until")
    )
    has_indicator = YesNoFilter(
        field_name="indicator", method="filter_has_indicator", label=_("Measured by an indicator")
    )

    class Meta:
        model = Task
        fields = [
            "title",
            "agreement",
            "area",
            "party",
            "status",
            "due_after",
            "due_before",
            "has_indicator",
        ]

    def filter_has_indicator(self, qs, name, value):
        if value is None:
            return qs
        return qs.exclude(indicator="") if value else qs.filter(indicator="")


class UpdateFilter(django_filters.FilterSet):
    task = django_filters.UUIDFilter(field_name="task__public_id", label=_("Task"))
    agreement = django_filters.CharFilter(
        field_name="task__area__agreement__code", label=_("Agreement")
    )
    party = django_filters.ModelChoiceFilter(
        field_name="organization",
        queryset=Organization.objects.all(),
        to_field_name="code",
        label=_("Party"),
    )
    reported_after = django_filters.DateFilter(
        field_name="reported_on", lookup_expr="gte", label=_("From")
    )
    reported_before = django_filters.DateFilter(
        field_name="reported_on", lookup_expr="lte", label=_("Until")
    )

    class Meta:
        model = ProgressUpdate
        fields = ["task", "agreement", "party", "reported_after", "reported_before"]


# Fields of the lists' models without a filter, and why (core/tests/test_filter_coverage.py);
# AreaFilter and MeetingFilter are the API's (agreements.api.views).
FILTER_EXEMPT = {
    "AgreementFilter.title": "searched by q (code or title)",
    "AgreementFilter.signed_on": "shown on the record (in_force_on filters the period)",
    "AgreementFilter.period_start": "filtered through in_force_on",
    "AgreementFilter.period_end": "filtered through in_force_on",
    "AgreementFilter.predecessor": "followed from the record (renewals)",
    "AgreementFilter.renewal_notified_on": "bookkeeping of the reminder",
    "TaskFilter.recurrence": "shown on the record",
    "TaskFilter.percent": "a measurement shown on the record",
    "TaskFilter.baseline_value": "an indicator's value, shown on the record (has_indicator)",
    "TaskFilter.target_value": "an indicator's value, shown on the record (has_indicator)",
    "TaskFilter.target_date": "shown on the record (due_after / due_before filter the due date)",
    "TaskFilter.reminded_on": "bookkeeping of the reminder",
    "TaskFilter.carried_from": "followed from the record",
    "UpdateFilter.author": "shown on the record",
    "UpdateFilter.percent": "a measurement shown on the record",
    "UpdateFilter.corrects": "followed from the record (corrections)",
    "AreaFilter.number": "the areas of an agreement are few, listed by agreement",
    "AreaFilter.title": "the areas of an agreement are few, listed by agreement",
}
