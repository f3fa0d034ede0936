"""Data and geometry for the coordinators' chart page: server-rendered SVG, no script, no style.

The page draws with SVG attributes (x, y, width, height) computed here, so it works under a
Content-Security-Policy without 'unsafe-inline' and needs no JavaScript.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Sum

from .models import DailyCount, Topic

WIDTH, HEIGHT, AXIS, TOP = 720, 220, 20, 16  # the weekly chart, room for the labels below/above
ROW, LABEL = 22, 260  # the topic chart: height of a row, width kept for the names


@dataclass
class Bar:
    label: str
    value: int
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0

    @property
    def text_x(self) -> float:
        """The middle of a column, for its labels."""
        return round(self.x + self.width / 2, 1)

    @property
    def above(self) -> float:
        return round(self.y - 4, 1)

    @property
    def baseline(self) -> float:
        """The text line through a horizontal bar."""
        return round(self.y + self.height - 4, 1)

    @property
    def after(self) -> float:
        return round(self.x + self.width + 6, 1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def chats_per_week(lines, first: date, last: date) -> list[Bar]:
    """Chats started per ISO week (Monday to Sunday) over the range, empty weeks included."""
    weeks: dict[date, int] = {}
    monday = week_start(first)
    while monday <= last:
        weeks[monday] = 0
        monday += timedelta(days=7)
    rows = DailyCount.objects.filter(
        line__in=lines, metric="chats_started", day__gte=first, day__lte=last
    ).values_list("day", "count")
    for day, count in rows:
        weeks[week_start(day)] += count
    bars = []
    for monday, value in weeks.items():
        year, week, _ = monday.isocalendar()
        bars.append(Bar(f"{week}/{year}", value))
    _lay_out_columns(bars)
    return bars


def _lay_out_columns(bars: list[Bar]) -> None:
    if not bars:
        return
    top = max(bar.value for bar in bars) or 1
    slot = WIDTH / len(bars)
    for i, bar in enumerate(bars):
        bar.width = round(slot * 0.7, 1)
        bar.x = round(i * slot + slot * 0.15, 1)
        bar.height = round((HEIGHT - AXIS - TOP) * bar.value / top, 1)
        bar.y = round(HEIGHT - AXIS - bar.height, 1)


@dataclass
class TopicChart:
    line_name: str
    bars: list[Bar]
    height: int


def topics(lines, first: date, last: date) -> list[TopicChart]:
    """Per line: how often each topic was tagged in the range, most frequent first."""
    sums = (
        DailyCount.objects.filter(line__in=lines, metric="topic", day__gte=first, day__lte=last)
        .values("line_id", "key")
        .annotate(total=Sum("count"))
    )
    counted = defaultdict(dict)
    for row in sums:
        counted[row["line_id"]][row["key"]] = row["total"]
    charts = []
    for line in lines:
        names = dict(Topic.objects.filter(line=line).values_list("slug", "name"))
        values = counted.get(line.pk, {})
        if not values and not names:
            continue
        slugs = sorted(set(names) | set(values), key=lambda s: (-values.get(s, 0), names.get(s, s)))
        bars = [Bar(names.get(slug, slug), values.get(slug, 0)) for slug in slugs]
        top = max((bar.value for bar in bars), default=0) or 1
        for i, bar in enumerate(bars):
            bar.x, bar.y = LABEL, i * ROW + 3
            bar.height = ROW - 6
            bar.width = round((WIDTH - LABEL - 50) * bar.value / top, 1)
        charts.append(TopicChart(line.name, bars, len(bars) * ROW))
    return charts
