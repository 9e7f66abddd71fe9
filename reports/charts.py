"""Small charts drawn on the server as inline SVG: a line chart for a trend (the dashboard's twelve
months) and a horizontal bar chart for a breakdown (a report's figures by operator, commune …).

No JavaScript chart library and nothing from a CDN: the page carries the drawing. Coordinates are
written with a dot whatever the language; the numbers people read are localised (``measure``).
"""

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

# Decimal places per indicator unit (core.indicators.UNITS).
DECIMALS = {"count": 0, "km": 2, "percent": 1, "days": 1, "hours": 1}
BLUE = "#0d6efd"
GREY = "#adb5bd"
TEXT = "#495057"
MAX_BARS = 20


def measure(value, unit="count"):
    """``value`` as people read it in the current language (1.234 / 1,234; 12,5 / 12.5); — if
    there is none."""
    if value is None or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    decimals = DECIMALS.get(unit, 1)
    if decimals == 0:
        return number_format(round(number), 0, use_l10n=True, force_grouping=True)
    return number_format(round(number, decimals), decimals, use_l10n=True, force_grouping=True)


def _coord(number):
    return f"{number:.1f}"


def line_chart(points, unit="count", title="", width=240, height=56):
    """A trend as an SVG line that scales with its box: ``points`` is a list of (label, value); a
    None value leaves a gap. Each point carries its label and value in a tooltip and in data
    attributes (the page writes the first and last labels under it, in text that stays legible)."""
    points = list(points or [])
    if not points:
        return ""
    values = [float(v) for _label, v in points if v is not None]
    left, right, top, bottom = 4.0, width - 4.0, 5.0, height - 5.0
    low = min([0.0, *values])
    high = max([low, *values])
    if high == low:
        high = low + 1.0
    step = (right - left) / max(len(points) - 1, 1)

    def y(value):
        return bottom - (float(value) - low) / (high - low) * (bottom - top)

    runs, current, dots = [], [], []
    for i, (label, value) in enumerate(points):
        x = left + i * step if len(points) > 1 else (left + right) / 2
        if value is None:
            if current:
                runs.append(current)
            current = []
            continue
        current.append(f"{_coord(x)},{_coord(y(value))}")
        dots.append(
            format_html(
                '<circle cx="{}" cy="{}" r="{}" fill="{}" data-label="{}" data-value="{}">'
                "<title>{}: {}</title></circle>",
                _coord(x),
                _coord(y(value)),
                "3" if i == len(points) - 1 else "2",
                BLUE,
                label,
                f"{float(value):g}",
                label,
                measure(value, unit),
            )
        )
    if current:
        runs.append(current)
    lines = format_html_join(
        "",
        '<polyline fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round" '
        'vector-effect="non-scaling-stroke" points="{}"/>',
        ((BLUE, " ".join(run)) for run in runs),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" '
        'style="max-width: {max_w}px; display: block" role="img" aria-label="{title}" '
        'class="chart chart-line" data-testid="line-chart" data-points="{n}"><title>{title}</title>'
        '<line x1="{l}" x2="{r}" y1="{b}" y2="{b}" stroke="{grey}" stroke-width="1"/>'
        "{lines}{dots}</svg>",
        w=width,
        h=height,
        title=title,
        n=len(points),
        l=_coord(left),
        r=_coord(right),
        b=_coord(y(max(low, 0.0))),
        grey=GREY,
        lines=lines,
        dots=mark_safe("".join(dots)),
        max_w=width * 2,
    )


def bar_chart(points, unit="count", title="", width=560, colour=BLUE):
    """A breakdown as horizontal SVG bars in the order given, scaled to the largest value:
    ``points`` is a list of (label, value); at most MAX_BARS bars (the chart says how many more
    there are)."""
    points = [(label, value) for label, value in (points or [])]
    if not points:
        return ""
    shown, hidden = points[:MAX_BARS], len(points) - MAX_BARS
    row, label_w, value_w = 20, 160.0, 70.0
    height = row * len(shown) + (row if hidden > 0 else 0) + 6
    plot_left, plot_right = label_w + 6, width - value_w
    top = max([0.0, *[float(v) for _label, v in shown if v is not None]]) or 1.0
    bars = []
    for i, (label, value) in enumerate(shown):
        y = 3 + i * row
        length = 0.0 if value is None else max(0.0, float(value)) / top * (plot_right - plot_left)
        text = str(label)
        short = text if len(text) <= 26 else text[:25] + "…"
        bars.append(
            format_html(
                '<g data-label="{label}" data-value="{value}"><title>{label}: {shown}</title>'
                '<text x="{lx}" y="{ty}" font-size="11" fill="{text}" text-anchor="end">{short}'
                "</text>"
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{colour}" rx="2"/>'
                '<text x="{vx}" y="{ty}" font-size="11" fill="{text}">{shown}</text></g>',
                label=text,
                value="" if value is None else f"{float(value):g}",
                shown=measure(value, unit),
                lx=_coord(label_w),
                ty=_coord(y + 13),
                text=TEXT,
                short=short,
                x=_coord(plot_left),
                y=_coord(y + 2),
                w=_coord(length),
                h=_coord(row - 6),
                colour=colour,
                vx=_coord(plot_left + length + 4),
            )
        )
    more = ""
    if hidden > 0:
        more = format_html(
            '<text x="{}" y="{}" font-size="10" fill="{}">+ {}</text>',
            _coord(plot_left),
            _coord(3 + len(shown) * row + 13),
            TEXT,
            hidden,
        )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" '
        'style="max-width: {w}px" role="img" aria-label="{title}" class="chart chart-bar" '
        'data-testid="bar-chart" data-bars="{n}"><title>{title}</title>'
        '<line x1="{pl}" x2="{pl}" y1="0" y2="{h}" stroke="{grey}" stroke-width="1"/>'
        "{bars}{more}</svg>",
        w=width,
        h=height,
        title=title,
        n=len(shown),
        pl=_coord(plot_left),
        grey=GREY,
        bars=mark_safe("".join(bars)),
        more=more,
    )


def compare(value, other, lower_is_better=False):
    """How ``value`` compares with ``other``: {"delta", "pct", "direction" ("up", "down", "same"),
    "good" (True, False or None when unchanged or unknown)}; None if either is missing."""
    if value is None or other is None:
        return None
    delta = float(value) - float(other)
    pct = round(100.0 * delta / abs(float(other)), 1) if float(other) else None
    direction = "up" if delta > 0 else "down" if delta < 0 else "same"
    good = None if direction == "same" else (direction == "up") != lower_is_better
    return {"delta": delta, "pct": pct, "direction": direction, "good": good}
