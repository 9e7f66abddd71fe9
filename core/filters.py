"""FilterSets: the same class filters the HTML list and the API list."""

import math

import django_filters
from django import forms
from django.contrib.gis.db.models import PointField
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from core.models import AdministrativeUnit, Organization
from core.text import fold


class FoldedSearchFilter(django_filters.CharFilter):
    """Free-text search that ignores case and Vietnamese accents, on a stored ``search_text``:
    every word in it, or in one of the ``also`` fields (a related record's ``search_text``, such
    as the commune's: "cau giay" finds the stations of Phường Cầu Giấy)."""

    def __init__(self, *args, also=(), **kwargs):
        self.also = tuple(also)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        for word in fold(value).split():
            where = Q(**{f"{self.field_name}__contains": word})
            for name in self.also:
                where |= Q(**{f"{name}__contains": word})
            qs = qs.filter(where)
        return qs


class _AllYesNo(forms.NullBooleanSelect):
    """A yes/no filter's select whose empty choice says what it does, "All" (Django's says
    "Unknown", "Chưa xác định", as if the value were not known); the values read are the same."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", _("All")), ("true", _("Yes")), ("false", _("No"))]


class YesNoFilter(django_filters.BooleanFilter):
    """Every yes/no filter of the lists (page and API): "All", "Yes", "No"."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", _AllYesNo)
        super().__init__(*args, **kwargs)


class DayFilter(django_filters.DateFilter):
    """A date bound on a date-time field, as a range on the field itself (Hanoi days), so the
    field's index serves it: ``after=True`` keeps times from the start of the day, otherwise times
    before the end of the day."""

    def __init__(self, *args, after=True, **kwargs):
        self.after = after
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        from datetime import datetime, time, timedelta

        from django.utils import timezone

        day = value if self.after else value + timedelta(days=1)
        moment = timezone.make_aware(datetime.combine(day, time.min))
        lookup = "gte" if self.after else "lt"
        return qs.filter(**{f"{self.field_name}__{lookup}": moment})


class AdministrativeUnitFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(field_name="search_text", label=_("Search"))
    name = django_filters.CharFilter(method="filter_name", label=_("Name"))
    kind = django_filters.ChoiceFilter(choices=AdministrativeUnit.Kind.choices, label=_("Kind"))
    code = django_filters.CharFilter(label=_("Code"))
    has_boundary = YesNoFilter(
        field_name="boundary", lookup_expr="isnull", exclude=True, label=_("Has boundary")
    )

    class Meta:
        model = AdministrativeUnit
        fields = ["q", "name", "kind", "code", "has_boundary"]

    def filter_name(self, qs, name, value):
        """Exact name, with or without "Phường"/"Xã", ignoring case and accents."""
        folded = fold(value)
        return qs.filter(Q(name_fold=folded) | Q(short_name_fold=folded))


class OrganizationFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(field_name="search_text", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=Organization.Kind.choices, label=_("Kind"))
    active_on = django_filters.DateFilter(method="filter_active_on", label=_("Active on"))
    parent = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(), to_field_name="code", label=_("Parent organisation")
    )

    class Meta:
        model = Organization
        fields = ["q", "kind", "active_on", "parent"]

    def filter_active_on(self, qs, name, value):
        return qs.exclude(effective_from__gt=value).exclude(effective_to__lt=value)


# --- Map filters shared by every app with geometry ---------------------------------------------


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
    """``near=lon,lat,radius_m``: within that many metres (at most 50 km).

    Metres are measured through the geography cast; give ``geography_field`` the same type as the
    model's GiST index on that cast (a PointField for points, a GeometryField for mixed geometries)
    so the index is used.
    """

    field_class = NearField

    def __init__(self, *args, geography_field=None, **kwargs):
        self.geography_field = geography_field or PointField(geography=True, srid=4326)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        point, radius = value
        geography = Cast(self.field_name, self.geography_field)
        return qs.annotate(_geog=geography).filter(_geog__dwithin=(point, D(m=radius)))


# Fields of the lists' models without a filter, and why (core/tests/test_filter_coverage.py).
FILTER_EXEMPT = {
    "AdministrativeUnitFilter.effective_from": "validity dates (every unit is in force since 2025)",
    "AdministrativeUnitFilter.effective_to": "validity dates (every unit is in force since 2025)",
    "AdministrativeUnitFilter.short_name": "searched by name (name_fold, short_name_fold)",
    "AdministrativeUnitFilter.name_en": "searched by q (search_text: code, name, name_en)",
    "AdministrativeUnitFilter.province_code": "Hanoi only: every unit has the same",
    "AdministrativeUnitFilter.area_km2": "a measurement shown on the record",
    "AdministrativeUnitFilter.name_key": "internal: the name's matching key",
    "AdministrativeUnitFilter.short_name_key": "internal: the name's matching key",
    "AdministrativeUnitFilter.name_fold": "internal: what the name filter matches",
    "AdministrativeUnitFilter.short_name_fold": "internal: what the name filter matches",
    "OrganizationFilter.effective_from": "filtered through active_on",
    "OrganizationFilter.effective_to": "filtered through active_on",
    "OrganizationFilter.code": "searched by q (search_text: code, name, short_name, name_en)",
    "OrganizationFilter.name": "searched by q (search_text: code, name, short_name, name_en)",
    "OrganizationFilter.short_name": "searched by q (search_text: code, name, short_name, name_en)",
    "OrganizationFilter.name_en": "searched by q (search_text: code, name, short_name, name_en)",
    "OrganizationFilter.successor": "followed from the record",
}
