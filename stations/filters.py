"""One FilterSet per list: the HTML page and the API filter with the same class."""

import math

import django_filters
from django import forms
from django.contrib.gis.db.models import PointField
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from core.filters import FoldedSearchFilter
from core.models import AdministrativeUnit, Organization
from stations.models import (
    LandCategory,
    PermitApplication,
    PublicSite,
    Station,
    StructureType,
    Technology,
)


def _numbers(value, count, message):
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise forms.ValidationError(message) from None
    if len(numbers) != count or not all(math.isfinite(n) for n in numbers):
        raise forms.ValidationError(message)
    return numbers


class BBoxField(forms.CharField):
    """``min_lon,min_lat,max_lon,max_lat`` (WGS 84) -> a Polygon, validated with the form."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        x1, y1, x2, y2 = _numbers(value, 4, _("Give the box as min_lon,min_lat,max_lon,max_lat."))
        if not (x1 < x2 and y1 < y2):
            raise forms.ValidationError(_("The box's minimum must be below its maximum."))
        if not (x1 >= -180 and x2 <= 180 and y1 >= -90 and y2 <= 90):
            raise forms.ValidationError(_("The box must lie within -180..180, -90..90."))
        box = Polygon.from_bbox((x1, y1, x2, y2))
        box.srid = 4326
        return box


class NearField(forms.CharField):
    """``lon,lat,radius_m`` -> (Point, metres), validated with the form."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        lon, lat, radius = _numbers(value, 3, _("Give the point as lon,lat,radius_m."))
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise forms.ValidationError(_("The point must lie within -180..180, -90..90."))
        if not (0 < radius <= 50_000):
            raise forms.ValidationError(_("The radius must be between 0 and 50,000 m."))
        return Point(lon, lat, srid=4326), radius


class BBoxFilter(django_filters.Filter):
    """``bbox=min_lon,min_lat,max_lon,max_lat``: records whose geometry meets the box."""

    field_class = BBoxField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__intersects": value})


class NearFilter(django_filters.Filter):
    """``near=lon,lat,radius_m``: within that many metres (at most 50 km)."""

    field_class = NearField

    def filter(self, qs, value):
        if value is None:
            return qs
        point, radius = value
        # Metres through the geography cast, which the GiST index station_location_geog_idx covers.
        geography = Cast(self.field_name, PointField(geography=True, srid=4326))
        return qs.annotate(_geog=geography).filter(_geog__dwithin=(point, D(m=radius)))


def operators():
    return Organization.objects.filter(kind=Organization.Kind.OPERATOR)


def communes():
    return AdministrativeUnit.objects.defer("boundary", "map_boundary")


class StationFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(field_name="search_text", label=_("Search"))
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
    non_bulky = django_filters.BooleanFilter(label=_("Non-bulky"))
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
            "bbox",
            "near",
        ]

    def filter_technology(self, qs, name, value):
        return qs.filter(technologies__overlap=list(value)) if value else qs


class PublicSiteFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(field_name="search_text", label=_("Search"))
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
    overdue = django_filters.BooleanFilter(label=_("Overdue"))
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
        fields = ["q", "number", "status", "applicant", "commune", "overdue"]
