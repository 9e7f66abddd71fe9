"""The home dashboard's panels, found by core's home page (core.views.HomeView looks for a
``dashboard`` module with ``panels(request)`` in every app, the way it finds ``indicators``).

- Headline figures: the indicators in settings.DASHBOARD_INDICATORS (or DEFAULT_INDICATORS, plus
  any tagged "headline"), each with its value this month and a twelve-month trend (the value as of
  each month's end, over that month) drawn as inline SVG. The series are kept in the cache for ten
  minutes, so the page stays fast.
- Overdue items across apps: every indicator tagged "overdue", with its count and link.
- Report deadlines (report officials): runs not yet submitted and each definition's next periods,
  with the days left; reports received (the recipient agency's staff).

Officials see the city's figures. An operator's staff see their own organisation's version: each
indicator broken down by "operator" (or "party") and only their organisation's row; indicators
without such a breakdown are left out. Nothing here writes.
"""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core import indicators
from core.permissions import is_operator_user
from core.scoping import sees_everything
from reports import charts, periods, selectors
from reports.models import ReportDefinition, ReportRun
from reports.services import is_report_official

log = logging.getLogger(__name__)

DEFAULT_INDICATORS = (
    "stations.count",
    "sharing.shared_site_pct",
    "cables.km_overhead_removed",
    "spam_reports.reports_received",
    "spam_reports.handled_within_sla_pct",
)
TREND_MONTHS = 12
CACHE_SECONDS = 600
DUE_SOON_DAYS = 3
DEADLINE_ROWS = 12
ORG_DIMENSIONS = ("operator", "party")


# --- Deadlines (shared with the reports pages) ------------------------------------------------------


def deadline_state(run, today):
    """ "late", "due_soon" or "on_time": a submitted run by the day it was submitted, another by
    the days left before its deadline."""
    if run.status == ReportRun.Status.SUBMITTED and run.submitted_at:
        submitted = timezone.localdate(run.submitted_at)
        return "late" if submitted > run.deadline else "on_time"
    return _state((run.deadline - today).days)


def _state(days_left):
    if days_left < 0:
        return "late"
    if days_left <= DUE_SOON_DAYS:
        return "due_soon"
    return "on_time"


def deadline_filter(state, today):
    """The runs in ``state`` (see deadline_state), as a query condition."""
    submitted = Q(status=ReportRun.Status.SUBMITTED)
    soon = today + timedelta(days=DUE_SOON_DAYS)
    if state == "late":
        return (~submitted & Q(deadline__lt=today)) | (
            submitted & Q(submitted_at__date__gt=F("deadline"))
        )
    if state == "due_soon":
        return ~submitted & Q(deadline__gte=today, deadline__lte=soon)
    if state == "on_time":
        return (~submitted & Q(deadline__gt=soon)) | (
            submitted & Q(submitted_at__date__lte=F("deadline"))
        )
    return Q()


# --- Figures ------------------------------------------------------------------------------------------


def headline_keys():
    keys = list(getattr(settings, "DASHBOARD_INDICATORS", None) or DEFAULT_INDICATORS)
    keys += [i.key for i in indicators.tagged("headline") if i.key not in keys]
    return [key for key in keys if indicators.exists(key)]


def org_dimension(indicator):
    return next((d for d in ORG_DIMENSIONS if d in indicator.dimensions), None)


def months(today, count=TREND_MONTHS):
    """The last ``count`` months up to today's: (first day, as-of day), the current month's as-of
    day being today."""
    result = []
    year, month = today.year, today.month
    for _i in range(count):
        first = date(year, month, 1)
        last = periods.period("month", year, month).cutoff
        result.append((first, min(last, today)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(result))


def _number(value):
    if value is None:
        return None
    return value if isinstance(value, int) else float(value)


def measure(indicator, as_of, start=None, organization=None):
    """The indicator's figure: the city's, or with ``organization`` (a code) that organisation's
    row of its operator/party breakdown (nothing found: 0 for counts and km, else None)."""
    with transaction.atomic():  # a failing indicator leaves the page's transaction usable
        if organization is None:
            return _number(indicator.value(as_of=as_of, start=start))
        rows = indicator.value(as_of=as_of, start=start, by=org_dimension(indicator))
    for row in rows:
        if str(row["key"]) == organization:
            return _number(row["value"])
    return 0 if indicator.unit in ("count", "km") else None


def _cache_get(key):
    try:
        return cache.get(key)
    except Exception:  # the cache is a speed-up: without Redis the page computes
        log.warning("dashboard cache unavailable", exc_info=True)
        return None


def _cache_set(key, value):
    try:
        cache.set(key, value, CACHE_SECONDS)
    except Exception:
        log.warning("dashboard cache unavailable", exc_info=True)


def series(indicator, today, organization=None):
    """[(month "mm/yyyy", value)] for the last TREND_MONTHS months, cached CACHE_SECONDS; None if
    the indicator fails."""
    key = ":".join(
        (
            "reports:dashboard:v1",
            connection.settings_dict["NAME"],  # two databases on one Redis never share figures
            indicator.key,
            organization or "*",
            today.isoformat(),
        )
    )
    cached = _cache_get(key)
    if cached is not None:
        return cached
    try:
        points = [
            (first.strftime("%m/%Y"), measure(indicator, as_of, first, organization))
            for first, as_of in months(today)
        ]
    except Exception:
        log.warning("dashboard indicator %s failed", indicator.key, exc_info=True)
        return None
    _cache_set(key, points)
    return points


def headline(today, organization=None):
    figures = []
    for key in headline_keys():
        indicator = indicators.get(key)
        if organization is not None and org_dimension(indicator) is None:
            continue
        points = series(indicator, today, organization)
        value = points[-1][1] if points else None
        previous = points[-2][1] if points and len(points) > 1 else None
        figures.append(
            {
                "key": key,
                "label": indicator.label,
                "description": indicator.description,
                "unit": indicator.unit,
                "unit_label": indicator.unit_label,
                "value": value,
                "previous": previous,
                "change": charts.compare(value, previous, "overdue" in indicator.tags),
                "points": points or [],
                "failed": points is None,
            }
        )
    return figures


def overdue(today, organization=None):
    items = []
    for indicator in indicators.tagged("overdue"):
        if organization is not None and org_dimension(indicator) is None:
            continue
        try:
            count = measure(indicator, today, None, organization)
        except Exception:
            log.warning("dashboard indicator %s failed", indicator.key, exc_info=True)
            count, failed = None, True
        else:
            failed = False
        items.append(
            {
                "key": indicator.key,
                "label": indicator.label,
                "count": count,
                "link": indicator.link,
                "failed": failed,
            }
        )
    return items


# --- Report deadlines -----------------------------------------------------------------------------------


def _deadline_row(report, period_label, cutoff, deadline, today, status="", url=""):
    days_left = (deadline - today).days
    return {
        "report": report,
        "period": period_label,
        "cutoff": cutoff,
        "deadline": deadline,
        "days_left": days_left,
        "days_late": -days_left,
        "state": _state(days_left),
        "status": status,
        "url": url,
    }


def upcoming_deadlines(today):
    """Runs not yet submitted, each active definition's latest closed period that has no run yet,
    and its next period (data not yet cut off), soonest deadline first."""
    definitions = list(ReportDefinition.objects.filter(active=True).select_related("recipient"))
    latest = {d.pk: periods.latest_closed(d.period_type, today, d.cutoff_day) for d in definitions}
    pending = list(
        ReportRun.objects.exclude(status=ReportRun.Status.SUBMITTED)
        .select_related("definition")
        .order_by("deadline", "id")[:DEADLINE_ROWS]
    )
    rows = [
        _deadline_row(
            run.definition,
            run.period_label,
            run.cutoff,
            run.deadline,
            today,
            status=run.get_status_display(),
            url=reverse("reports:run-detail", args=[run.public_id]),
        )
        for run in pending
    ]
    condition = Q(pk__in=[])
    for d in definitions:
        condition |= Q(definition_id=d.pk, period_key=latest[d.pk].key)
    existing = set(ReportRun.objects.filter(condition).values_list("definition_id", "period_key"))
    run_now = reverse("reports:run-create")
    for d in definitions:
        per = latest[d.pk]
        if (d.pk, per.key) not in existing:
            rows.append(
                _deadline_row(
                    d,
                    per.label,
                    per.cutoff,
                    per.cutoff + timedelta(days=d.deadline_days),
                    today,
                    url=f"{run_now}?definition={d.pk}&period={per.key}",
                )
            )
        upcoming = per.shifted(1, d.cutoff_day)
        rows.append(
            {
                **_deadline_row(
                    d,
                    upcoming.label,
                    upcoming.cutoff,
                    upcoming.cutoff + timedelta(days=d.deadline_days),
                    today,
                ),
                "next": True,
            }
        )
    rows.sort(key=lambda r: (r["deadline"], str(r["report"])))
    return rows[:DEADLINE_ROWS]


def received(user):
    return list(
        selectors.runs(user)
        .filter(status=ReportRun.Status.SUBMITTED)
        .order_by("-submitted_at", "-id")[:5]
    )


# --- The panels -------------------------------------------------------------------------------------------


def panels(request):
    """The home page's panels for ``request.user`` (each a dict with the template to include)."""
    user = request.user
    today = timezone.localdate()
    result = []
    organization = None
    if sees_everything(user):
        scope = "city"
    elif is_operator_user(user):
        scope, organization = "organization", user.organization
    else:
        scope = None
    if scope:
        code = organization.code if organization else None
        result.append(
            {
                "template": "reports/_dashboard_figures.html",
                "organization": organization,
                "as_of": today,
                "headline": headline(today, code),
                "overdue": overdue(today, code),
            }
        )
    if is_report_official(user):
        result.append(
            {
                "template": "reports/_dashboard_deadlines.html",
                "deadlines": upcoming_deadlines(today),
                "today": today,
            }
        )
    elif selectors.recipient_of(user):
        result.append({"template": "reports/_dashboard_received.html", "runs": received(user)})
    return result
