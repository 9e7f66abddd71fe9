"""A file's rows checked with a form's fields, fast: the same values and the same messages as the
form, at a fraction of its cost (a Form per row, or even each field's ``clean``, is most of an
import's time).

``RowChecker(form_class)`` builds the form once. For each field of the common kinds (text, float,
decimal, choice, ISO date) a direct reading is tried first: the text stripped, ``float()``,
``Decimal()``, a set of the choices, ``date.fromisoformat``, with the field's own validators run on
the value. Anything that reading does not take plainly (an empty required cell, a value out of
range, a NUL, a localised number, a year outside core.boundary's …) goes to the field's ``clean``, which gives the value or the
form's message: a value is never read differently from the form, only sooner.

``checker(values)`` → (cleaned data, [(field, message), …]); the form's ``clean_<field>`` hooks run
as in a form (they see the fields cleaned before theirs in ``self.cleaned_data``).
"""

import datetime
import math
from decimal import Decimal, InvalidOperation

from django import forms
from django.core import validators as django_validators
from django.core.exceptions import ValidationError

from core.boundary import nfc, year_range_error
from core.fields import MAX_YEAR, MIN_YEAR

_TEXT_VALIDATORS = (
    django_validators.MaxLengthValidator,
    django_validators.MinLengthValidator,
    django_validators.ProhibitNullCharactersValidator,
)


class _Slow(Exception):
    """The direct reading does not take the value: the field's clean decides."""


def _bounds(validators):
    """(low, high, others) of a number field's validators: its plain Min/MaxValueValidators as
    bounds compared directly, the rest to call."""
    low = high = None
    others = []
    for validator in validators:
        limit = getattr(validator, "limit_value", None)
        if type(validator) is django_validators.MinValueValidator and not callable(limit):
            low = limit if low is None else max(low, limit)
        elif type(validator) is django_validators.MaxValueValidator and not callable(limit):
            high = limit if high is None else min(high, limit)
        else:
            others.append(validator)
    return low, high, tuple(others)


def _checked(validators):
    """The validators as one check: the value, or _Slow where one refuses it."""
    low, high, others = _bounds(validators)

    def check(value):
        if (low is not None and value < low) or (high is not None and value > high):
            raise _Slow
        try:
            for validator in others:
                validator(value)
        except ValidationError as exc:
            raise _Slow from exc
        return value

    return check


def _text(field):
    if any(not isinstance(v, _TEXT_VALIDATORS) for v in field.validators) or not field.strip:
        return None
    limit, required, empty = field.max_length, field.required, field.empty_value

    def read(value):
        value = value.strip()
        if not value:
            if required:
                raise _Slow
            return empty
        if "\x00" in value or (limit is not None and len(value) > limit):
            raise _Slow
        return value if value.isascii() else nfc(value)  # as core.boundary has the field do

    return read


def _float(field):
    required, check = field.required, _checked(field.validators)

    def read(value):  # as the form: only "" is empty (" " is no number), float() strips
        if not value:
            if required:
                raise _Slow
            return None
        try:
            number = float(value)
        except ValueError as exc:
            raise _Slow from exc
        if not math.isfinite(number):
            raise _Slow
        return check(number)

    return read


def _decimal(field):
    required, check = field.required, _checked(field.validators)

    def read(value):  # as the form: only "" is empty, Decimal() strips
        if not value:
            if required:
                raise _Slow
            return None
        try:
            number = Decimal(value)
        except InvalidOperation as exc:
            raise _Slow from exc
        if not number.is_finite():
            raise _Slow
        return check(number)

    return read


def _choice(field):
    valid = set()
    for key, label in field.choices:
        if isinstance(label, (list, tuple)):  # a group of choices
            valid.update(str(k) for k, _label in label)
        else:
            valid.add(str(key))
    required, check = field.required, _checked(field.validators)

    def read(value):  # not stripped: a choice is the value as given, as in the form
        if not value and not required:
            return ""
        if value not in valid:
            raise _Slow
        return check(value)

    return read


def _iso_date(field):
    if list(field.input_formats) != ["%Y-%m-%d"]:
        return None
    required, check = field.required, _checked(field.validators)
    years = getattr(field, "year_range", (MIN_YEAR, MAX_YEAR))

    def read(value):
        if not value:  # " " is not empty to the form: it is refused as no date
            if required:
                raise _Slow
            return None
        value = value.strip()
        if len(value) != 10 or value[4] != "-" or value[7] != "-":
            raise _Slow
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise _Slow from exc
        if year_range_error(day, years):  # core.boundary's bounds, as the field has them
            raise _Slow
        return check(day)

    return read


_READERS = {
    forms.CharField: _text,
    forms.FloatField: _float,
    forms.DecimalField: _decimal,
    forms.ChoiceField: _choice,
    forms.DateField: _iso_date,
}


class RowChecker:
    def __init__(self, form_class):
        self.form = form_class()
        self.steps = []
        for name, field in self.form.fields.items():
            make = _READERS.get(type(field))
            fast = make(field) if make else None
            hook = getattr(self.form, f"clean_{name}", None)
            self.steps.append((name, field, fast, hook))

    def __call__(self, values):
        data, errors = {}, []
        form = self.form
        for name, field, fast, hook in self.steps:
            raw = values.get(name, "")
            try:
                if fast is None or not isinstance(raw, str):
                    data[name] = field.clean(raw)
                else:
                    try:
                        data[name] = fast(raw)
                    except _Slow:
                        data[name] = field.clean(raw)
                if hook is not None:
                    form.cleaned_data = data
                    data[name] = hook()
            except ValidationError as exc:
                errors += [(name, str(m)) for m in exc.messages]
        return data, errors
