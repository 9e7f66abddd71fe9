"""Template helpers of the reports pages and the dashboard: figures in the reader's language and
inline SVG charts (reports.charts)."""

from django import template

from reports import charts

register = template.Library()


@register.filter
def measure(value, unit="count"):
    """{{ value|measure:unit }}: 1.234 / 12,5 in Vietnamese, 1,234 / 12.5 in English, — if none."""
    return charts.measure(value, unit)


@register.simple_tag
def line_chart(points, unit="count", title=""):
    return charts.line_chart(points, unit=unit, title=title)


@register.simple_tag
def bar_chart(points, unit="count", title=""):
    return charts.bar_chart(points, unit=unit, title=title)
