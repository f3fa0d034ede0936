"""Statistics tables for coordinators: any date range and set of lines, as CSV or Excel.

Small counts can be hidden so that a published table cannot single anyone out:
- a count of 1..threshold-1 is shown as "<threshold" (primary suppression);
- where counts add up to another (services.RELATIONS: the wait buckets, roles, who ended and
  durations add up to the answered chats; answered + abandoned, and first contacts + follow-ups,
  to the chats started), a lone hidden cell could be worked out by subtraction, so a second
  cell of that relation is hidden too, as "x", until no relation has a lone hidden cell;
- every total (the Total column and the closing "total" period) adds up only the cells that are
  shown. A hidden cell adds nothing to any total, so no total minus the shown cells gives it back.
Totals are then a lower bound when something is hidden; the table says so. docs/statistics.md
explains what this does not protect against (differences between two exports).
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from chats.models import ServiceLine

from . import services
from .models import DailyCount, Topic

PERIODS = ("all", "month", "week", "day")
SMALL, SECONDARY = "small", "secondary"


@dataclass
class Cell:
    value: int
    hidden: str = ""  # "", SMALL or SECONDARY

    def shown(self) -> int:
        return 0 if self.hidden else self.value


@dataclass
class Row:
    period: str
    metric: str
    key: str
    label: str
    cells: list[Cell]
    total: int = 0


@dataclass
class Table:
    first: date
    last: date
    lines: list[ServiceLine]
    period: str
    suppress_below: int
    rows: list[Row] = field(default_factory=list)

    @property
    def hidden_any(self) -> bool:
        return any(cell.hidden for row in self.rows for cell in row.cells)

    def header(self) -> list[str]:
        names = [line.name for line in self.lines]
        return [_("Period"), _("Metric"), _("Key"), _("Description"), *names, _("Total")]

    def cell_text(self, cell: Cell) -> str | int:
        if cell.hidden == SMALL:
            return f"<{self.suppress_below}"
        if cell.hidden == SECONDARY:
            return "x"
        return cell.value

    def values(self, row: Row) -> list:
        """One row as written to a file: text for hidden cells, integers for the rest."""
        return [
            row.period,
            row.metric,
            row.key,
            row.label,
            *(self.cell_text(c) for c in row.cells),
            row.total,
        ]

    def notes(self) -> list[str]:
        notes = [
            _("Counts per service line from %(first)s to %(last)s.")
            % {"first": self.first.isoformat(), "last": self.last.isoformat()}
        ]
        if self.suppress_below > 1:
            notes.append(
                _(
                    "<%(n)s: a count from 1 to %(m)s, hidden. x: hidden so that a hidden small "
                    "count cannot be worked out from the others. Totals add up only the counts "
                    "shown."
                )
                % {"n": self.suppress_below, "m": self.suppress_below - 1}
            )
        return notes


def period_of(day: date, period: str, first: date, last: date) -> str:
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day:%Y-%m}"
    return f"{first.isoformat()}..{last.isoformat()}"


def build_table(
    lines, first: date, last: date, period: str = "all", suppress_below: int = 0
) -> Table:
    """Sum the counters of `lines` between `first` and `last` (inclusive) into a table."""
    lines = sorted(lines, key=lambda line: (line.order, line.slug))
    table = Table(first, last, lines, period, suppress_below)
    column = {line.pk: i for i, line in enumerate(lines)}
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * len(lines))
    counts = DailyCount.objects.filter(line__in=lines, day__gte=first, day__lte=last)
    for day, line_id, metric, key, count in counts.values_list(
        "day", "line_id", "metric", "key", "count"
    ):
        sums[(period_of(day, period, first, last), metric, key)][column[line_id]] += count

    topic_names = dict(Topic.objects.filter(line__in=lines).values_list("slug", "name"))
    for p, metric, key in sorted(
        sums, key=lambda pmk: (pmk[0], services.metric_order(pmk[1]), services.key_order(*pmk[1:]))
    ):
        cells = [Cell(value) for value in sums[(p, metric, key)]]
        table.rows.append(Row(p, metric, key, _label(metric, key, topic_names), cells))
    periods = {row.period for row in table.rows}

    if suppress_below > 1:
        _suppress(table, suppress_below)
    for row in table.rows:
        row.total = sum(cell.shown() for cell in row.cells)
    if len(periods) > 1:
        table.rows.extend(_totals_over_periods(table, topic_names))
    return table


def _label(metric: str, key: str, topic_names: dict) -> str:
    label = str(services.METRICS.get(metric, metric))
    if metric in ("topic", "letter_topic"):
        return f"{label}: {topic_names.get(key, key)}"
    if key:
        return f"{label}: {services.KEY_LABELS.get(metric, {}).get(key, key)}"
    return label


def _suppress(table: Table, below: int) -> None:
    for row in table.rows:
        for cell in row.cells:
            if 0 < cell.value < below:
                cell.hidden = SMALL
    # A relation (a total and the cells that add up to it) with one hidden cell gives it back
    # by subtraction: hide a second one, and again until no relation has a lone hidden cell.
    by_metric = defaultdict(list)
    for row in table.rows:
        by_metric[(row.period, row.metric)].append(row)
    periods = {row.period for row in table.rows}
    relations = []
    for period in periods:
        for total, parts in services.RELATIONS:
            totals = by_metric[(period, total)]
            counted = [row for part in parts for row in by_metric[(period, part)]]
            for i in range(len(table.lines)):
                # A line that does not count the parts at all (no age asked) has no relation.
                if any(row.cells[i].value for row in counted):
                    relations.append([row.cells[i] for row in totals + counted])
    # A cell in fewer relations is the cheaper one to hide: it drags fewer others with it.
    weight = defaultdict(int)
    for cells in relations:
        for cell in cells:
            weight[id(cell)] += 1
    changed = True
    while changed:
        changed = False
        for cells in relations:
            if sum(1 for cell in cells if cell.hidden) != 1:
                continue
            shown = [cell for cell in cells if not cell.hidden and cell.value > 0]
            if shown:
                min(shown, key=lambda cell: (weight[id(cell)], cell.value)).hidden = SECONDARY
                changed = True


def _totals_over_periods(table: Table, topic_names: dict) -> list[Row]:
    width = len(table.lines)
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * width)
    for row in table.rows:
        for i, cell in enumerate(row.cells):
            sums[(row.metric, row.key)][i] += cell.shown()
    rows = []
    for (metric, key), values in sorted(
        sums.items(),
        key=lambda item: (services.metric_order(item[0][0]), services.key_order(*item[0])),
    ):
        rows.append(
            Row(
                _("total"),
                metric,
                key,
                _label(metric, key, topic_names),
                [Cell(v) for v in values],
                sum(values),
            )
        )
    return rows


# --- Files -------------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Text a spreadsheet will not run as a formula (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


# Finnish (and Swedish) Excel splits a CSV at semicolons, its list separator in those locales,
# and reads a decimal comma: this is the file it opens without an import step.
EXCEL_FI = "excel-fi"


def _excel_fi(value):
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return value


def rows_to_csv(header: list, rows: list[list], dialect: str = "") -> bytes:
    """A UTF-8 CSV with a BOM: commas (the documented default), or for Finnish Excel
    (`dialect=EXCEL_FI`) semicolons and decimal commas."""
    buffer = io.StringIO()
    excel_fi = dialect == EXCEL_FI
    writer = csv.writer(buffer, delimiter=";" if excel_fi else ",")
    writer.writerow([safe_text(v) for v in header])
    for row in rows:
        writer.writerow([safe_text(_excel_fi(v) if excel_fi else v) for v in row])
    # The BOM lets Excel open the UTF-8 file with ä and ö intact.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def rows_to_xlsx(sheets: list[tuple[str, list, list[list]]]) -> bytes:
    """An .xlsx workbook: one sheet per (title, header, rows), every string stored as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    # Write-only: a year of daily rows for every line (23,000 rows) is written in seconds.
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        for c in range(1, max((len(v) for v in [header, *rows]), default=0) + 1):
            widest = max((len(str(v[c - 1])) for v in [header, *rows] if len(v) >= c), default=8)
            sheet.column_dimensions[get_column_letter(c)].width = min(max(widest + 2, 8), 60)
        if header:
            sheet.freeze_panes = "A2"
        if header:
            sheet.append([_text_cell(sheet, value, bold) for value in header])
        for values in rows:
            sheet.append(
                [
                    _text_cell(sheet, value)
                    if isinstance(value, str) and value[:1] == "="
                    else value
                    for value in values
                ]
            )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet, value, font=None):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would take a string starting with "=" for a formula
    if font:
        cell.font = font
    return cell


def table_csv(table: Table, dialect: str = "") -> bytes:
    return rows_to_csv(table.header(), [table.values(row) for row in table.rows], dialect)


def table_xlsx(table: Table) -> bytes:
    about = [[note] for note in table.notes()]
    about.append([_("Lines") + ": " + ", ".join(line.slug for line in table.lines)])
    return rows_to_xlsx(
        [
            (_("Statistics"), table.header(), [table.values(row) for row in table.rows]),
            (_("About"), [], about),
        ]
    )


def filename(table: Table, extension: str) -> str:
    return f"verkkoapu-{table.first.isoformat()}-{table.last.isoformat()}.{extension}"
