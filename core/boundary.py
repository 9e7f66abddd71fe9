"""What every value goes through where it enters the portal, whatever form, filter or serializer
reads it (HTML forms, django-filter's FilterSets, imports' row forms, DRF serializers, model or
plain): installed once by ``CoreConfig.ready()``, so that no app has to remember it.

- Text is NFC-normalised: "Cầu Giấy" typed on a keyboard that sends decomposed letters (NFD: "a" +
  combining marks) is stored as the same characters as the one typed elsewhere, so look-ups, unique
  codes and sorting see one value.
- Dates and timestamps are within 1900–2100 (core.fields.MIN_YEAR/MAX_YEAR): 9999-12-31 is a
  placeholder, not a date, and later date arithmetic on it overflows. A field that needs other
  bounds says so with a ``year_range`` attribute (``(min, max)``, or ``None`` for no check).
  Model DateFields (and DateTimeFields) carry the same check as a default validator, so a
  service's ``full_clean`` refuses such a value too.

(JSON booleans are refused as numbers by core.api.fields.refuse_booleans_as_numbers.)
"""

import datetime
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.fields import MAX_YEAR, MIN_YEAR

DATE_RANGE_MESSAGE = _("Enter a date between %(min)s and %(max)s.")


def nfc(value):
    """``value`` in Unicode normal form C when it is text (anything else as it is)."""
    if isinstance(value, str) and not unicodedata.is_normalized("NFC", value):
        return unicodedata.normalize("NFC", value)
    return value


def year_range_error(value, year_range=(MIN_YEAR, MAX_YEAR)):
    """The message when the date or timestamp ``value`` falls outside ``year_range``, else None."""
    if year_range is None or not isinstance(value, datetime.date):
        return None
    low, high = year_range
    if low <= value.year <= high:
        return None
    return DATE_RANGE_MESSAGE % {"min": low, "max": high}


def validate_plausible_date(value):
    """Default validator of model DateFields and DateTimeFields: within 1900–2100."""
    message = year_range_error(value)
    if message:
        raise ValidationError(message, code="date_range")


def _wrap(cls, name, after, marker):
    original = getattr(cls, name)
    if getattr(original, marker, False):
        return

    def wrapped(self, *args, _original=original, **kwargs):
        return after(self, _original(self, *args, **kwargs))

    setattr(wrapped, marker, True)
    wrapped.__wrapped__ = original
    setattr(cls, name, wrapped)


def _check_form_date(field, value):
    message = year_range_error(value, getattr(field, "year_range", (MIN_YEAR, MAX_YEAR)))
    if message:
        raise ValidationError(message, code="date_range")
    return value


def _check_serializer_date(field, value):
    message = year_range_error(value, getattr(field, "year_range", (MIN_YEAR, MAX_YEAR)))
    if message:
        raise serializers.ValidationError(message, code="date_range")
    return value


def install():
    """Patch the form, serializer and model field classes once (idempotent)."""
    # Text: NFC after the field's own parsing (strip, empty value …).
    _wrap(forms.CharField, "to_python", lambda field, value: nfc(value), "_nfc")
    _wrap(serializers.CharField, "to_internal_value", lambda field, value: nfc(value), "_nfc")
    # Dates and timestamps.
    for cls in (forms.DateField, forms.DateTimeField):
        _wrap(cls, "to_python", _check_form_date, "_year_range")
    for cls in (serializers.DateField, serializers.DateTimeField):
        _wrap(cls, "to_internal_value", _check_serializer_date, "_year_range")
    if validate_plausible_date not in models.DateField.default_validators:
        # DateTimeField inherits it; not part of deconstruct(), so no migration.
        models.DateField.default_validators = [
            *models.DateField.default_validators,
            validate_plausible_date,
        ]
