"""One FilterSet per list: the HTML pages and the API filter with the same classes."""

import django_filters
from django.contrib.gis.db.models import GeometryField
from django.utils.translation import gettext_lazy as _

from core.filters import BBoxFilter, DayFilter, FoldedSearchFilter, NearFilter, YesNoFilter
from core.models import Organization
from core.selectors import communes
from sharing.models import AssetKind, InfrastructureAsset, SharingRequest, Tenancy


class AssetFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(
        field_name="search_text", also=("commune__search_text",), label=_("Search")
    )
    kind = django_filters.MultipleChoiceFilter(
        choices=AssetKind.choices, label=_("Kind"), distinct=False
    )
    owner = django_filters.ModelMultipleChoiceFilter(
        field_name="owner__code",
        queryset=Organization.objects.all(),
        to_field_name="code",
        label=_("Owner"),
        distinct=False,
    )
    commune = django_filters.ModelChoiceFilter(
        queryset=communes(), to_field_name="code", label=_("Commune")
    )
    status = django_filters.MultipleChoiceFilter(
        choices=InfrastructureAsset.Status.choices, label=_("Status"), distinct=False
    )
    has_free = YesNoFilter(method="filter_has_free", label=_("Has free capacity"))
    min_free = django_filters.NumberFilter(
        field_name="free_capacity", lookup_expr="gte", label=_("At least free")
    )
    shareable = YesNoFilter(label=_("Offered for sharing"))
    condition = django_filters.MultipleChoiceFilter(
        choices=InfrastructureAsset.Condition.choices, label=_("Condition"), distinct=False
    )
    bbox = BBoxFilter(field_name="geometry", label=_("Map box"))
    near = NearFilter(
        field_name="geometry",
        geography_field=GeometryField(geography=True, srid=4326),
        label=_("Near (lon,lat,metres)"),
    )

    class Meta:
        model = InfrastructureAsset
        fields = [
            "q",
            "kind",
            "owner",
            "commune",
            "status",
            "has_free",
            "min_free",
            "shareable",
            "condition",
            "bbox",
            "near",
        ]

    def filter_has_free(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(free_capacity__gt=0) if value else qs.filter(free_capacity=0)


class TenancyFilter(django_filters.FilterSet):
    operator = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.filter(kind="operator"),
        to_field_name="code",
        label=_("Operator"),
    )
    owner = django_filters.ModelChoiceFilter(
        field_name="asset__owner",
        queryset=Organization.objects.all(),
        to_field_name="code",
        label=_("Owner"),
    )
    status = django_filters.ChoiceFilter(choices=Tenancy.Status.choices, label=_("Status"))
    asset = django_filters.UUIDFilter(field_name="asset__public_id", label=_("Asset"))
    since_after = django_filters.DateFilter(
        field_name="since", lookup_expr="gte", label=_("Start date from")
    )
    since_before = django_filters.DateFilter(
        field_name="since", lookup_expr="lte", label=_("Start date until")
    )
    until_after = django_filters.DateFilter(
        field_name="until", lookup_expr="gte", label=_("End date from")
    )
    until_before = django_filters.DateFilter(
        field_name="until", lookup_expr="lte", label=_("End date until")
    )

    class Meta:
        model = Tenancy
        fields = [
            "operator",
            "owner",
            "status",
            "asset",
            "since_after",
            "since_before",
            "until_after",
            "until_before",
        ]


class SharingRequestFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(field_name="search_text", label=_("Number or need"))
    number = django_filters.CharFilter(lookup_expr="iexact", label=_("Request number"))
    status = django_filters.MultipleChoiceFilter(
        choices=SharingRequest.Status.choices, label=_("Status"), distinct=False
    )
    requester = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.filter(kind="operator"),
        to_field_name="code",
        label=_("Requester"),
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(), to_field_name="code", label=_("Owner")
    )
    overdue = YesNoFilter(label=_("Overdue"))
    asset = django_filters.UUIDFilter(field_name="asset__public_id", label=_("Asset"))
    outcome = django_filters.ChoiceFilter(
        choices=SharingRequest.Outcome.choices, label=_("Decision")
    )
    submitted_after = django_filters.DateFilter(
        field_name="submitted_on", lookup_expr="gte", label=_("Submitted from")
    )
    submitted_before = django_filters.DateFilter(
        field_name="submitted_on", lookup_expr="lte", label=_("Submitted until")
    )
    decided_after = DayFilter(field_name="decided_at", after=True, label=_("Decided from"))
    decided_before = DayFilter(field_name="decided_at", after=False, label=_("Decided until"))
    ordering = django_filters.OrderingFilter(
        fields=(("response_due", "deadline"), ("submitted_on", "submitted"), ("id", "id")),
        label=_("Sort by"),
    )

    class Meta:
        model = SharingRequest
        fields = [
            "q",
            "number",
            "status",
            "requester",
            "owner",
            "overdue",
            "asset",
            "outcome",
            "submitted_after",
            "submitted_before",
            "decided_after",
            "decided_before",
        ]


# Fields of the lists' models without a filter, and why (core/tests/test_filter_coverage.py).
FILTER_EXEMPT = {
    "AssetFilter.code": "searched by q (search_text: code, name, address)",
    "AssetFilter.name": "searched by q (search_text: code, name, address)",
    "AssetFilter.address": "searched by q (search_text: code, name, address)",
    "AssetFilter.capacity": "filtered through has_free / min_free (free_capacity)",
    "AssetFilter.used_capacity": "filtered through has_free / min_free (free_capacity)",
    "AssetFilter.length_m": "a measurement shown on the record",
    "TenancyFilter.units": "shown on the record",
    "TenancyFilter.occupies": "shown on the record",
    "TenancyFilter.terms_reference": "shown on the record",
    "TenancyFilter.request": "the request that granted it, followed from the record",
    "SharingRequestFilter.radius_m": "an area request's search radius, shown on the record",
    "SharingRequestFilter.units": "shown on the record",
    "SharingRequestFilter.created_by": "bookkeeping (who filed it)",
    "SharingRequestFilter.response_due": "the deadline's bookkeeping (overdue filters it)",
    "SharingRequestFilter.counter_units": "the counter-offer's terms, shown on the record",
    "SharingRequestFilter.counter_location": "the counter-offer's terms, shown on the record",
    "SharingRequestFilter.counter_contract_number": "the counter-offer's terms, shown on the record",
    "SharingRequestFilter.counter_start_date": "the counter-offer's terms, shown on the record",
    "SharingRequestFilter.counter_end_date": "the counter-offer's terms, shown on the record",
    "SharingRequestFilter.escalated_by": "shown on the record",
    "SharingRequestFilter.decision_number": "shown on the record",
    "SharingRequestFilter.decided_by": "shown on the record",
}
