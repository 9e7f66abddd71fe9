"""FilterSets: the same class filters the HTML list and the API list."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import AdministrativeUnit, Organization
from core.text import fold


class FoldedSearchFilter(django_filters.CharFilter):
    """Free-text search that ignores case and Vietnamese accents, on a stored ``search_text``."""

    def filter(self, qs, value):
        if not value:
            return qs
        for word in fold(value).split():
            qs = qs.filter(**{f"{self.field_name}__contains": word})
        return qs


class AdministrativeUnitFilter(django_filters.FilterSet):
    q = FoldedSearchFilter(field_name="search_text", label=_("Search"))
    name = django_filters.CharFilter(method="filter_name", label=_("Name"))
    kind = django_filters.ChoiceFilter(choices=AdministrativeUnit.Kind.choices, label=_("Kind"))
    code = django_filters.CharFilter(label=_("Code"))
    has_boundary = django_filters.BooleanFilter(
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

    class Meta:
        model = Organization
        fields = ["q", "kind", "active_on"]

    def filter_active_on(self, qs, name, value):
        return qs.exclude(effective_from__gt=value).exclude(effective_to__lt=value)
