"""Model fields whose values stay within sense: one range per field, held twice and alike.

A ranged field carries its ``min_value``/``max_value`` as validators (so model ``full_clean``, ModelForms
and DRF ModelSerializers refuse an out-of-range value with a field message) and as the column's CHECK
constraint (so a value written past the validators, by ``queryset.update()``, raw SQL or a bulk path,
is refused by PostgreSQL too). The two come from the same two numbers, so they cannot drift apart.

    poles_removed = CountField(_("poles removed"), default=0, max_value=10_000)

The named fields give the usual range of each kind of measure; any of them takes ``min_value`` and
``max_value`` to narrow it. ``core.tests.test_value_ranges`` fails when a numeric field of a project
model has no range, so a new field cannot come without one.
"""

import hashlib
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

# Dates a person types or a system sends: anything outside is a typo or a placeholder (9999-12-31).
MIN_YEAR = 1900
MAX_YEAR = 2100


class RangeMixin:
    default_min = 0
    default_max = None

    def __init__(self, *args, min_value=None, max_value=None, **kwargs):
        self.min_value = self.default_min if min_value is None else min_value
        self.max_value = self.default_max if max_value is None else max_value
        if self.min_value is None or self.max_value is None:
            raise TypeError(f"{type(self).__name__} needs min_value and max_value")
        super().__init__(*args, **kwargs)

    @cached_property
    def validators(self):
        # The range replaces the backend's integer range; a Min/Max given by hand is kept only when
        # it says the same bound (to keep its message).
        def same(v):
            if type(v) is MinValueValidator:
                return v.limit_value == self.min_value
            if type(v) is MaxValueValidator:
                return v.limit_value == self.max_value
            return True

        kept = [v for v in super().validators if same(v)]
        if not any(type(v) is MinValueValidator for v in kept):
            kept.append(MinValueValidator(self.min_value))
        if not any(type(v) is MaxValueValidator for v in kept):
            kept.append(MaxValueValidator(self.max_value))
        return kept

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        from pghistory.models import Event

        # A history row copies what the record held then: a later, narrower range must not refuse
        # it (the record's own table is checked). Abstract models: their concrete copies add it.
        if cls._meta.abstract or issubclass(cls, Event):
            return
        constraint = range_constraint(cls, self)
        if all(c.name != constraint.name for c in cls._meta.constraints):
            # A new list: Meta.constraints may be the same list object as a parent's Meta.
            cls._meta.constraints = [*cls._meta.constraints, constraint]
            # Migrations read a model's options from original_attrs (what Meta declared).
            cls._meta.original_attrs["constraints"] = cls._meta.constraints

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.min_value != self.default_min:
            kwargs["min_value"] = self.min_value
        if self.max_value != self.default_max:
            kwargs["max_value"] = self.max_value
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        return super().formfield(
            **{"min_value": self.min_value, "max_value": self.max_value, **kwargs}
        )


class RangedIntegerField(RangeMixin, models.IntegerField):
    """An integer with an explicit range (both bounds required)."""

    default_min = None


class CountField(RangeMixin, models.PositiveIntegerField):
    """A count of things (rows, poles, reports, subscriptions): 0 to a million unless narrowed."""

    default_max = 1_000_000


class SmallCountField(RangeMixin, models.PositiveSmallIntegerField):
    """A small count (attempts, bores, days, hours): 0 to 1,000 unless narrowed."""

    default_max = 1_000


class SizeField(RangeMixin, models.PositiveIntegerField):
    """A file size in bytes: up to 2 GB (uploads are limited far below)."""

    default_max = 2_000_000_000


class PercentField(RangeMixin, models.PositiveSmallIntegerField):
    default_max = 100


class YearField(RangeMixin, models.PositiveSmallIntegerField):
    default_min = MIN_YEAR
    default_max = MAX_YEAR


class MetresField(RangeMixin, models.FloatField):
    """A length in metres: up to 1,000 km (no single work in a city comes near it)."""

    default_max = 1_000_000


class RangedDecimalField(RangeMixin, models.DecimalField):
    """A decimal with an explicit range (both bounds required)."""

    default_min = None


class HeightField(RangeMixin, models.DecimalField):
    """A height in metres, to the centimetre: 0–300 m unless narrowed."""

    default_min = Decimal("0")
    default_max = Decimal("300")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 6)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


def range_constraint_name(model, field):
    name = f"{model._meta.db_table}_{field.name}_range"
    if len(name) > 63:  # PostgreSQL's identifier limit
        digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
        name = f"{name[:54]}_{digest}"
    return name


def range_constraint(model, field):
    """The CHECK constraint of a ranged field: the same two bounds as its validators."""
    return models.CheckConstraint(
        condition=models.Q(
            **{f"{field.name}__gte": field.min_value, f"{field.name}__lte": field.max_value}
        ),
        name=range_constraint_name(model, field),
    )


def date_range_validators():
    """Validators for a date a person or a system submits: within 1900–2100."""
    from datetime import date

    return [
        MinValueValidator(date(MIN_YEAR, 1, 1), _("A date before 1900 is not plausible.")),
        MaxValueValidator(date(MAX_YEAR, 12, 31), _("A date after 2100 is not plausible.")),
    ]


def field_errors(model, **values):
    """``{field: [messages]}`` for the values outside their model field's range (or other field
    validators): a service that takes plain arguments checks them with the fields' own rules."""
    errors = {}
    for name, value in values.items():
        if value is None:
            continue
        try:
            model._meta.get_field(name).run_validators(value)
        except ValidationError as error:
            errors[name] = list(error.messages)
    return errors
