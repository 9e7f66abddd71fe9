"""One FilterSet per list: the HTML page and the API filter with the same class."""

import django_filters
from django.utils.translation import gettext_lazy as _

from core.filters import BBoxFilter, DayFilter, FoldedSearchFilter, NearFilter, YesNoFilter
from core.models import Organization
from core.selectors import communes
from stations.models import (
    ApplicationType,
    LandCategory,
    PermitApplication,
    PublicSite,
    Station,
    StructureType,
    Technology,
)


def operators():
    return Organization.objects.filter(kind=Organization.Kind.OPERATOR)


class StationFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(
        field_name="search_text", also=("commune__search_text",), label=_("Search")
    )
    operator = django_filters.ModelMultipleChoiceFilter(
        field_name="operator__code",
        queryset=operators(),
        to_field_name="code",
        label=_("Operator"),
        distinct=False,  # a station has one operator: no DISTINCT over every column
    )
    commune = django_filters.ModelChoiceFilter(
        queryset=communes(), to_field_name="code", label=_("Commune")
    )
    technology = django_filters.MultipleChoiceFilter(
        field_name="technologies",
        lookup_expr="contains",
        choices=Technology.choices,
        label=_("Technology"),
        method="filter_technology",
    )
    status = django_filters.MultipleChoiceFilter(
        choices=Station.Status.choices, label=_("Status"), distinct=False
    )
    land_category = django_filters.ChoiceFilter(
        choices=LandCategory.choices, label=_("Land category")
    )
    structure_type = django_filters.ChoiceFilter(
        choices=StructureType.choices, label=_("Structure type")
    )
    non_bulky = YesNoFilter(label=_("Non-bulky"))
    commissioned_after = django_filters.DateFilter(
        field_name="commissioned_on", lookup_expr="gte", label=_("Commissioned from")
    )
    commissioned_before = django_filters.DateFilter(
        field_name="commissioned_on", lookup_expr="lte", label=_("Commissioned until")
    )
    bbox = BBoxFilter(field_name="location", label=_("Map box"))
    near = NearFilter(field_name="location", label=_("Near (lon,lat,metres)"))
    ordering = django_filters.OrderingFilter(
        fields=(
            ("code", "code"),
            ("name", "name"),
            ("structure_height_m", "height"),
            ("status", "status"),
            ("updated_at", "updated"),
            ("id", "id"),
        ),
        label=_("Sort by"),
    )

    class Meta:
        model = Station
        fields = [
            "q",
            "operator",
            "commune",
            "technology",
            "status",
            "land_category",
            "structure_type",
            "non_bulky",
            "commissioned_after",
            "commissioned_before",
            "bbox",
            "near",
        ]

    def filter_technology(self, qs, name, value):
        return qs.filter(technologies__overlap=list(value)) if value else qs


class PublicSiteFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(
        field_name="search_text", also=("commune__search_text",), label=_("Search")
    )
    commune = django_filters.ModelChoiceFilter(
        queryset=communes(), to_field_name="code", label=_("Commune")
    )
    status = django_filters.MultipleChoiceFilter(
        choices=PublicSite.Status.choices, label=_("Status"), distinct=False
    )
    land_category = django_filters.ChoiceFilter(
        choices=LandCategory.choices, label=_("Land category")
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(), to_field_name="code", label=_("Owner")
    )
    bbox = BBoxFilter(field_name="location", label=_("Map box"))

    class Meta:
        model = PublicSite
        fields = ["q", "commune", "status", "land_category", "owner", "bbox"]


class PermitApplicationFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(field_name="search_text", label=_("Number or name"))
    number = django_filters.CharFilter(lookup_expr="iexact", label=_("Application number"))
    status = django_filters.MultipleChoiceFilter(
        choices=PermitApplication.Status.choices, label=_("Status"), distinct=False
    )
    applicant = django_filters.ModelChoiceFilter(
        queryset=operators(), to_field_name="code", label=_("Applicant")
    )
    commune = django_filters.ModelChoiceFilter(
        queryset=communes(), to_field_name="code", label=_("Commune")
    )
    overdue = YesNoFilter(label=_("Overdue"))
    application_type = django_filters.ModelChoiceFilter(
        queryset=ApplicationType.objects.all(), to_field_name="code", label=_("Application type")
    )
    structure_type = django_filters.ChoiceFilter(
        choices=StructureType.choices, label=_("Structure type")
    )
    land_category = django_filters.ChoiceFilter(
        choices=LandCategory.choices, label=_("Land category")
    )
    submitted_after = DayFilter(field_name="submitted_at", after=True, label=_("Submitted from"))
    submitted_before = DayFilter(field_name="submitted_at", after=False, label=_("Submitted until"))
    decided_after = DayFilter(field_name="decided_at", after=True, label=_("Decided from"))
    decided_before = DayFilter(field_name="decided_at", after=False, label=_("Decided until"))
    ordering = django_filters.OrderingFilter(
        fields=(
            ("decision_due", "deadline"),
            ("submitted_at", "submitted"),
            ("number", "number"),
            ("id", "id"),
        ),
        label=_("Sort by"),
    )

    class Meta:
        model = PermitApplication
        fields = [
            "q",
            "number",
            "status",
            "applicant",
            "commune",
            "overdue",
            "application_type",
            "structure_type",
            "land_category",
            "submitted_after",
            "submitted_before",
            "decided_after",
            "decided_before",
        ]


# Fields of the lists' models without a filter, and why (core/tests/test_filter_coverage.py).
FILTER_EXEMPT = {
    "StationFilter.code": "searched by q (search_text: code, name, address)",
    "StationFilter.name": "searched by q (search_text: code, name, address)",
    "StationFilter.address": "searched by q (search_text: code, name, address)",
    "StationFilter.structure_height_m": "a measurement, sorted by (ordering=height), not filtered",
    "StationFilter.building_height_m": "a measurement shown on the record",
    "StationFilter.permit_reference": "a reference shown on the record",
    "StationFilter.asset": "the link to the shared-asset register, followed from the record",
    "PublicSiteFilter.name": "searched by q (search_text: name, address)",
    "PublicSiteFilter.address": "searched by q (search_text: name, address)",
    "PublicSiteFilter.building_height_m": "a measurement shown on the record",
    "PublicSiteFilter.capacity": "shown on the record (status says whether a place is free)",
    "PermitApplicationFilter.station_code": "searched by q (search_text: number, code, name, address)",
    "PermitApplicationFilter.station_name": "searched by q (search_text: number, code, name, address)",
    "PermitApplicationFilter.address": "searched by q (search_text: number, code, name, address)",
    "PermitApplicationFilter.structure_height_m": "a measurement shown on the record",
    "PermitApplicationFilter.building_height_m": "a measurement shown on the record",
    "PermitApplicationFilter.technologies": "shown on the record",
    "PermitApplicationFilter.public_site": "followed from the site's page",
    "PermitApplicationFilter.station": "the station it granted, followed from the record",
    "PermitApplicationFilter.created_by": "bookkeeping (who drafted it)",
    "PermitApplicationFilter.clock_running": "the statutory clock's bookkeeping (overdue filters it)",
    "PermitApplicationFilter.clock_started_on": "the statutory clock's bookkeeping",
    "PermitApplicationFilter.days_used_before": "the statutory clock's bookkeeping",
    "PermitApplicationFilter.completeness_due": "the statutory clock's bookkeeping (overdue filters it)",
    "PermitApplicationFilter.decision_due": "the statutory clock's bookkeeping (overdue filters it)",
    "PermitApplicationFilter.decided_by": "shown on the record",
    "PermitApplicationFilter.decision_number": "shown on the record",
}
