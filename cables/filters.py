import django_filters
from django.contrib.gis.db.models import LineStringField
from django.utils.translation import gettext_lazy as _

from cables.models import CableProject, CableSegment, CivilWorksNotice, ProgressUpdate
from core.filters import BBoxFilter, FoldedSearchFilter, NearFilter
from core.models import Organization
from core.selectors import communes


class ProjectFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(field_name="search_text", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(
        choices=CableProject.Status.choices, label=_("Status"), distinct=False
    )
    year = django_filters.NumberFilter(label=_("Year"))
    operator = django_filters.ModelChoiceFilter(
        field_name="participants",
        queryset=Organization.objects.filter(kind="operator"),
        to_field_name="code",
        label=_("Operator"),
    )
    commune = django_filters.ModelChoiceFilter(
        field_name="segments__pieces__commune",
        queryset=communes(),
        to_field_name="code",
        label=_("Commune"),
    )
    lead_agency = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(), to_field_name="code", label=_("Lead agency")
    )
    budget_source = django_filters.CharFilter(lookup_expr="icontains", label=_("Budget source"))

    class Meta:
        model = CableProject
        fields = ["q", "status", "year", "operator", "commune", "lead_agency", "budget_source"]


class SegmentFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__code", label=_("Project code"))
    status = django_filters.MultipleChoiceFilter(
        field_name="project__status",
        choices=CableProject.Status.choices,
        label=_("Project status"),
        distinct=False,
    )
    method = django_filters.ChoiceFilter(choices=CableSegment.Method.choices, label=_("Method"))
    operator = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.filter(kind="operator"),
        to_field_name="code",
        label=_("Operator"),
    )
    commune = django_filters.ModelChoiceFilter(
        field_name="pieces__commune", queryset=communes(), to_field_name="code", label=_("Commune")
    )
    year = django_filters.NumberFilter(field_name="project__year", label=_("Year"))
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("Segment name"))
    bbox = BBoxFilter(field_name="route", label=_("Map box"))
    near = NearFilter(
        field_name="route",
        geography_field=LineStringField(geography=True, srid=4326),
        label=_("Near (lon,lat,metres)"),
    )

    class Meta:
        model = CableSegment
        fields = [
            "project",
            "status",
            "method",
            "operator",
            "commune",
            "year",
            "name",
            "bbox",
            "near",
        ]


class NoticeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=CivilWorksNotice.Status.choices, label=_("Status"))
    commune = django_filters.ModelChoiceFilter(
        queryset=communes(), to_field_name="code", label=_("Commune")
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(), to_field_name="code", label=_("Works owner")
    )
    starts_after = django_filters.DateFilter(
        field_name="effective_from", lookup_expr="gte", label=_("Works start on or after")
    )
    starts_before = django_filters.DateFilter(
        field_name="effective_from", lookup_expr="lte", label=_("Works start on or before")
    )
    ends_after = django_filters.DateFilter(
        field_name="effective_to", lookup_expr="gte", label=_("Works end on or after")
    )
    ends_before = django_filters.DateFilter(
        field_name="effective_to", lookup_expr="lte", label=_("Works end on or before")
    )
    deadline_after = django_filters.DateFilter(
        field_name="registration_deadline",
        lookup_expr="gte",
        label=_("Registration deadline on or after"),
    )
    deadline_before = django_filters.DateFilter(
        field_name="registration_deadline",
        lookup_expr="lte",
        label=_("Registration deadline on or before"),
    )
    bbox = BBoxFilter(field_name="route", label=_("Map box"))

    class Meta:
        model = CivilWorksNotice
        fields = [
            "q",
            "status",
            "commune",
            "owner",
            "starts_after",
            "starts_before",
            "ends_after",
            "ends_before",
            "deadline_after",
            "deadline_before",
            "bbox",
        ]


class ProgressFilter(django_filters.FilterSet):
    segment = django_filters.UUIDFilter(
        field_name="segment__public_id", label=_("Segment (public id)")
    )
    project = django_filters.CharFilter(field_name="segment__project__code", label=_("Project"))
    operator = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(), to_field_name="code", label=_("Reported by")
    )
    reported_after = django_filters.DateFilter(
        field_name="reported_on", lookup_expr="gte", label=_("Reported on or after")
    )
    reported_before = django_filters.DateFilter(
        field_name="reported_on", lookup_expr="lte", label=_("Reported on or before")
    )

    class Meta:
        model = ProgressUpdate
        fields = ["segment", "project", "operator", "reported_after", "reported_before"]


# Fields of the lists' models without a filter, and why (core/tests/test_filter_coverage.py).
FILTER_EXEMPT = {
    "ProjectFilter.code": "searched by q (search_text: code, name, streets, programme)",
    "ProjectFilter.name": "searched by q (search_text: code, name, streets, programme)",
    "ProjectFilter.programme": "searched by q (search_text: code, name, streets, programme)",
    "ProjectFilter.planned_start": "shown on the record (year filters the project's year)",
    "ProjectFilter.planned_end": "shown on the record (year filters the project's year)",
    "SegmentFilter.length_m": "a measurement shown on the record",
    "SegmentFilter.bores": "a count shown on the record",
    "SegmentFilter.duct_asset": "the link to the shared-asset register, followed from the record",
    "ProgressFilter.duct_built_m": "a measurement shown on the record",
    "ProgressFilter.cable_pulled_m": "a measurement shown on the record",
    "ProgressFilter.overhead_removed_m": "a measurement shown on the record",
    "ProgressFilter.poles_removed": "a count shown on the record",
    "ProgressFilter.corrects": "followed from the record (corrections)",
    "ProgressFilter.created_by": "bookkeeping (who reported it)",
}
