"""One FilterSet per list: the same class filters the HTML list and the API list."""

import django_filters
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filters import DayFilter
from core.models import Organization
from spam_reports import rules
from spam_reports.models import (
    Channel,
    OperatorAction,
    Origin,
    SenderKind,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)


def operators():
    return Organization.objects.filter(kind=Organization.Kind.OPERATOR)


class SenderSearchFilter(django_filters.CharFilter):
    """A sender as typed ("0912 345 678", "shopee"): normalised where it reads as one, else a
    part of the stored value."""

    def filter(self, qs, value):
        value = (value or "").strip()
        if not value:
            return qs
        from core.exceptions import InvalidInput
        from spam_reports import senders

        try:
            normalised, _kind = senders.sender(value, Channel.OTHER)
        except InvalidInput:
            return qs.filter(**{f"{self.field_name}__icontains": value})
        return qs.filter(**{self.field_name: normalised})


class CaseFilter(django_filters.FilterSet):
    sender = SenderSearchFilter(field_name="sender", label=_("Sender"))
    status = django_filters.MultipleChoiceFilter(choices=SpamCase.Status.choices, label=_("Status"))
    operator = django_filters.ModelChoiceFilter(
        queryset=operators(), to_field_name="code", label=_("Sender's operator")
    )
    sender_kind = django_filters.ChoiceFilter(choices=SenderKind.choices, label=_("Kind of sender"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("First channel"))
    flag = django_filters.ChoiceFilter(
        choices=rules.CHOICES, label=_("Rule flag"), method="filter_flag"
    )
    min_reports = django_filters.NumberFilter(
        field_name="report_count", lookup_expr="gte", label=_("At least this many reports")
    )
    seen_after = DayFilter(field_name="last_seen_at", after=True, label=_("Last seen from"))
    seen_before = DayFilter(field_name="last_seen_at", after=False, label=_("Last seen until"))
    first_seen_after = DayFilter(field_name="first_seen_at", after=True, label=_("First seen from"))
    first_seen_before = DayFilter(
        field_name="first_seen_at", after=False, label=_("First seen until")
    )
    confirmed_after = DayFilter(field_name="confirmed_at", after=True, label=_("Confirmed from"))
    confirmed_before = DayFilter(field_name="confirmed_at", after=False, label=_("Confirmed until"))
    closed_after = DayFilter(field_name="closed_at", after=True, label=_("Closed from"))
    closed_before = DayFilter(field_name="closed_at", after=False, label=_("Closed until"))
    ordering = django_filters.OrderingFilter(
        fields=(
            ("last_seen_at", "last_seen_at"),
            ("report_count", "report_count"),
            ("first_seen_at", "first_seen_at"),
            ("sender", "sender"),
        ),
        label=_("Sort"),
    )

    class Meta:
        model = SpamCase
        fields = [
            "sender",
            "status",
            "operator",
            "sender_kind",
            "channel",
            "flag",
            "min_reports",
            "seen_after",
            "seen_before",
            "first_seen_after",
            "first_seen_before",
            "confirmed_after",
            "confirmed_before",
            "closed_after",
            "closed_before",
        ]

    def filter_flag(self, qs, name, value):
        return qs.filter(flags__contains=[value]) if value else qs


class ReportFilter(django_filters.FilterSet):
    case = django_filters.UUIDFilter(field_name="case__public_id", label=_("Case"))
    sender = SenderSearchFilter(field_name="case__sender", label=_("Sender"))
    recipient = SenderSearchFilter(field_name="recipient", label=_("Recipient"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    status = django_filters.ChoiceFilter(choices=SpamReport.Status.choices, label=_("Status"))
    origin = django_filters.ChoiceFilter(choices=Origin.choices, label=_("Source of the report"))
    sender_kind = django_filters.ChoiceFilter(choices=SenderKind.choices, label=_("Kind of sender"))
    reporting_organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(),
        to_field_name="code",
        label=_("Reported by organisation"),
    )
    sender_operator = django_filters.ModelChoiceFilter(
        queryset=operators(), to_field_name="code", label=_("Sender's operator")
    )
    recipient_operator = django_filters.ModelChoiceFilter(
        queryset=operators(), to_field_name="code", label=_("Recipient's operator")
    )
    received_after = DayFilter(field_name="received_at", after=True, label=_("Received from"))
    received_before = DayFilter(field_name="received_at", after=False, label=_("Received until"))

    class Meta:
        model = SpamReport
        fields = [
            "case",
            "sender",
            "recipient",
            "channel",
            "status",
            "origin",
            "sender_kind",
            "reporting_organization",
            "sender_operator",
            "recipient_operator",
            "received_after",
            "received_before",
        ]


class ActionFilter(django_filters.FilterSet):
    STATES = (
        ("pending", _("Awaiting the operator")),
        ("overdue", _("Overdue")),
        ("answered", _("Answered")),
    )
    operator = django_filters.ModelChoiceFilter(
        queryset=operators(), to_field_name="code", label=_("Operator")
    )
    state = django_filters.ChoiceFilter(choices=STATES, method="filter_state", label=_("State"))
    outcome = django_filters.ChoiceFilter(
        choices=OperatorAction.Outcome.choices, label=_("Outcome")
    )
    assigned_after = DayFilter(field_name="assigned_at", after=True, label=_("Assigned from"))
    assigned_before = DayFilter(field_name="assigned_at", after=False, label=_("Assigned until"))
    responded_after = DayFilter(field_name="responded_at", after=True, label=_("Answered from"))
    responded_before = DayFilter(field_name="responded_at", after=False, label=_("Answered until"))

    class Meta:
        model = OperatorAction
        fields = [
            "operator",
            "state",
            "outcome",
            "assigned_after",
            "assigned_before",
            "responded_after",
            "responded_before",
        ]

    def filter_state(self, qs, name, value):
        now = timezone.now()
        if value == "pending":
            return qs.filter(outcome="")
        if value == "overdue":
            return qs.filter(Q(outcome="", deadline__lt=now) | Q(responded_at__gt=F("deadline")))
        if value == "answered":
            return qs.exclude(outcome="")
        return qs


class InspectionFilter(django_filters.FilterSet):
    operator = django_filters.ModelChoiceFilter(
        queryset=operators(), to_field_name="code", label=_("Operator")
    )
    status = django_filters.ChoiceFilter(
        choices=SubscriberInspection.Status.choices, label=_("Status")
    )
    inspected_after = django_filters.DateFilter(
        field_name="inspected_on", lookup_expr="gte", label=_("Inspected from")
    )
    inspected_before = django_filters.DateFilter(
        field_name="inspected_on", lookup_expr="lte", label=_("Inspected until")
    )
    inspecting_agency = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.filter(kind=Organization.Kind.AGENCY),
        to_field_name="code",
        label=_("Inspecting agency"),
    )
    deadline_after = django_filters.DateFilter(
        field_name="deadline", lookup_expr="gte", label=_("Deadline from")
    )
    deadline_before = django_filters.DateFilter(
        field_name="deadline", lookup_expr="lte", label=_("Deadline until")
    )

    class Meta:
        model = SubscriberInspection
        fields = [
            "operator",
            "status",
            "inspected_after",
            "inspected_before",
            "inspecting_agency",
            "deadline_after",
            "deadline_before",
        ]


# Fields of the lists' models without a filter, and why (core/tests/test_filter_coverage.py).
FILTER_EXEMPT = {
    "CaseFilter.flags": "filtered by flag (one flag at a time)",
    "ReportFilter.sender_raw": "the sender as typed; sender filters its normalised form",
    "ReportFilter.recipient_raw": "the recipient as typed; recipient filters its normalised form",
    "ReportFilter.reported_by": "bookkeeping (who filed it; personal data)",
    "ReportFilter.invalid_reason": "shown on the record",
    "ReportFilter.status_changed_at": "bookkeeping of the status",
    "ReportFilter.fingerprint": "internal: the duplicate check's hash",
    "ActionFilter.case": "the assignments of a case are listed on the case",
    "ActionFilter.assigned_by": "shown on the record",
    "ActionFilter.sla_hours": "shown on the record (the deadline follows from it)",
    "ActionFilter.deadline": "filtered through state=overdue (filter_state)",
    "ActionFilter.responded_by": "shown on the record",
    "ActionFilter.overdue_at": "bookkeeping of the reminder (state filters overdue)",
    "InspectionFilter.reference": "shown on the record",
    "InspectionFilter.sample_size": "a count shown on the record",
    "InspectionFilter.nonconforming": "a count shown on the record",
    "InspectionFilter.overdue_notified_on": "bookkeeping of the reminder",
}
