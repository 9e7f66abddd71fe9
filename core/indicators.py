"""The indicator registry: named, documented measures that other apps compute and others read by key.

Each domain app declares its measures in its own ``indicators.py`` with ``@indicator(...)``; core
imports every app's module at start-up (CoreConfig.ready), so agreements and reports find them here
by key without importing the domain apps (see ../shared/ARCHITECTURE.md).

Overdue counts are measures of the day: their ``as_of`` is today whatever is asked.

A measure is one function computed in the database (an SQL aggregation, never a Python loop over
rows). It takes a ``Window``: ``as_of`` (the cut-off date, inclusive) and ``start`` (the first day of
the period, for flows such as "applications received"; None means since the beginning), and an
optional ``by`` (one of its ``dimensions``). Without ``by`` it returns one number; with ``by`` it
returns rows ``{"key": …, "label": …, "value": …}``.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

UNITS = {
    "count": _("count"),
    "km": _("km"),
    "percent": _("%"),
    "days": _("working days"),
    "hours": _("hours"),
}


@dataclass(frozen=True)
class Window:
    as_of: date
    start: date | None = None

    @property
    def end_at(self):
        """The last moment of the cut-off day (Hanoi time)."""
        following = datetime.combine(self.as_of + timedelta(days=1), time.min)
        return timezone.make_aware(following) - timedelta(microseconds=1)

    @property
    def start_at(self):
        """The first moment of the period (None: since the beginning)."""
        if self.start is None:
            return None
        return timezone.make_aware(datetime.combine(self.start, time.min))


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    description: str
    compute: object = field(repr=False)
    dimensions: tuple = ()
    app: str = ""
    tags: tuple = ()
    link: str = ""

    def value(self, as_of=None, start=None, by=None):
        """The measure on ``as_of`` (today by default) over the period from ``start``."""
        if by is not None and by not in self.dimensions:
            raise ValueError(f"{self.key} cannot be broken down by {by}")
        window = Window(as_of=as_of or timezone.localdate(), start=start)
        result = self.compute(window, by) if self.dimensions else self.compute(window)
        if by is None and result is not None and not isinstance(result, int | float | Decimal):
            raise TypeError(f"{self.key} returned {type(result).__name__}, not a number")
        return result

    @property
    def unit_label(self):
        return UNITS.get(self.unit, self.unit)


REGISTRY: dict[str, Indicator] = {}


def indicator(key, label, unit, description="", dimensions=(), tags=(), link=""):
    """Register the decorated function ``compute(window[, by])`` as the indicator ``key``.

    ``tags``: "overdue" marks a count of late items the dashboard lists across apps, with ``link``
    (a page listing them); "headline" puts it among the dashboard's headline figures."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit}")

    def register(compute):
        if key in REGISTRY and REGISTRY[key].compute is not compute:
            raise ValueError(f"indicator {key} is registered twice")
        REGISTRY[key] = Indicator(
            key=key,
            label=label,
            unit=unit,
            description=description,
            compute=compute,
            dimensions=tuple(dimensions),
            app=compute.__module__.split(".")[0],
            tags=tuple(tags),
            link=link,
        )
        return compute

    return register


def get(key):
    """The indicator ``key``; KeyError if no app declares it."""
    return REGISTRY[key]


def exists(key):
    return key in REGISTRY


def all_indicators():
    return sorted(REGISTRY.values(), key=lambda i: (i.app, i.key))


def tagged(tag):
    return [i for i in all_indicators() if tag in i.tags]


def choices():
    return [(i.key, f"{i.label} ({i.unit_label})") for i in all_indicators()]


def percent(part, whole):
    """part / whole as a percentage with one decimal (None when there is nothing to measure)."""
    if not whole:
        return None
    return round(100.0 * float(part) / float(whole), 1)


def share_sql(condition):
    """SQL of the percentage of the grouped rows meeting ``condition`` (NULL when there are none)."""
    return f"round(100.0 * count(*) FILTER (WHERE {condition}) / NULLIF(count(*), 0), 1)::float8"


def rows(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def grouped(sql_from, where, params, by, dimensions, value="count(*)"):
    """One number ``value`` over ``FROM sql_from WHERE …``; or, with ``by`` (a dimension, or
    "a,b" for a cross-tab), rows {key, label, value}. ``dimensions`` maps a dimension to
    (key SQL, label SQL, JOIN clause)."""
    if not by:
        return rows(f"SELECT {value} FROM {sql_from} {where}", params)[0][0]
    keys, labels, joins = [], [], []
    for part in by.split(","):
        key, label, join = dimensions[part]
        keys.append(key)
        labels.append(label)
        if join not in joins:
            joins.append(join)
    key_sql = " || ' / ' || ".join(f"coalesce({k}::text, '')" for k in keys)
    label_sql = " || ' / ' || ".join(f"coalesce({k}::text, '')" for k in labels)
    found = rows(
        f"""SELECT {key_sql}, {label_sql}, {value} FROM {sql_from} {" ".join(joins)} {where}
            GROUP BY 1, 2 ORDER BY 1""",
        params,
    )
    return [{"key": k, "label": label or k, "value": v} for k, label, v in found]
