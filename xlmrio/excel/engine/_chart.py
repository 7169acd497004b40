"""Charts for the openpyxl engine: xlwings' chart calls mapped to openpyxl chart objects.

A chart made here keeps its recipe (type, source block, plot direction, title, name, position)
on the openpyxl object as ``_xlmrio``; any change rebuilds the openpyxl chart from the recipe,
and ``Book.save`` rebuilds all of them so references follow renamed sheets.
"""
from __future__ import annotations

import datetime as dt
import numbers

from openpyxl.chart import AreaChart, BarChart, LineChart, PieChart, ScatterChart, Series
from openpyxl.chart.data_source import AxDataSource, NumDataSource, NumFmt, NumRef, StrRef
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.spreadsheet_drawing import AbsoluteAnchor, AnchorMarker, OneCellAnchor, TwoCellAnchor
from openpyxl.drawing.xdr import XDRPositiveSize2D

from ._range import Range, read_block
from ._util import EMU_PER_POINT, a1, column_left_points, locate_point, quote_sheet, row_top_points

#: xlwings chart type -> (openpyxl class, options). The types xlmrio needs plus close relatives.
CHART_KINDS = {
    "column_clustered": (BarChart, {"type": "col", "grouping": "clustered"}),
    "column_stacked": (BarChart, {"type": "col", "grouping": "stacked", "overlap": 100}),
    "column_stacked_100": (BarChart, {"type": "col", "grouping": "percentStacked", "overlap": 100}),
    "bar_clustered": (BarChart, {"type": "bar", "grouping": "clustered"}),
    "bar_stacked": (BarChart, {"type": "bar", "grouping": "stacked", "overlap": 100}),
    "bar_stacked_100": (BarChart, {"type": "bar", "grouping": "percentStacked", "overlap": 100}),
    "line": (LineChart, {"grouping": "standard"}),
    "line_markers": (LineChart, {"grouping": "standard"}),
    "line_stacked": (LineChart, {"grouping": "stacked"}),
    "xy_scatter": (ScatterChart, {}),
    "xy_scatter_lines": (ScatterChart, {}),
    "xy_scatter_lines_no_markers": (ScatterChart, {}),
    "xy_scatter_smooth": (ScatterChart, {}),
    "xy_scatter_smooth_no_markers": (ScatterChart, {}),
    "area": (AreaChart, {"grouping": "standard"}),
    "area_stacked": (AreaChart, {"grouping": "stacked"}),
    "pie": (PieChart, {}),
}


def _is_number(v) -> bool:
    return isinstance(v, (numbers.Real, dt.datetime, dt.date)) and not isinstance(v, bool)


def _ref(rng_sheet_title: str, r1, c1, r2, c2) -> str:
    return f"{quote_sheet(rng_sheet_title)}!{a1(r1, c1, r2, c2)}"


def _layout(src: Range, kind: str, plot_by: str | None):
    """Excel's reading of a simple block: header row, category column, plot direction."""
    r1, c1, r2, c2 = src.bounds
    vals = read_block(src.sheet, r1, c1, r2, c2)
    nr, nc = len(vals), len(vals[0])
    tl = vals[0][0]
    if tl is None:
        header, catcol = nr > 1, nc > 1
    else:
        header = nr > 1 and not _is_number(tl) and all(not _is_number(v) for v in vals[0][1:])
        catcol = nc > 1 and not _is_number(tl) and all(not _is_number(row[0]) for row in vals[1:])
    if kind.startswith("xy_scatter") and nc > 1:
        catcol = True  # first column holds the x values
    ndr, ndc = nr - header, nc - catcol
    if plot_by is None:
        plot_by = "columns" if ndr >= ndc else "rows"
    cats_text = catcol and any(isinstance(row[0], str) for row in vals[header:])
    head_text = header and any(isinstance(v, str) for v in vals[0][catcol:])
    return header, catcol, plot_by, cats_text, head_text


def build_chart(spec: dict):
    """A fresh openpyxl chart from a recipe."""
    kind = spec["type"]
    cls, opts = CHART_KINDS[kind]
    chart = cls()
    for k, v in opts.items():
        setattr(chart, k, v)
    src: Range | None = spec.get("source")
    if src is not None:
        _add_series(chart, kind, src, spec.get("plot_by"), spec.get("x_values"))
        _add_error_bars(chart, spec.get("error_bars") or {})
    if spec.get("title") is not None:
        chart.title = spec["title"]
    if spec.get("look"):
        _apply_look(chart, kind, spec["look"])
    ws = spec["sheet"].ws
    c, xoff, r, yoff = locate_point(ws, spec["left"], spec["top"])
    chart.anchor = OneCellAnchor(
        _from=AnchorMarker(col=c - 1, colOff=int(xoff * EMU_PER_POINT), row=r - 1, rowOff=int(yoff * EMU_PER_POINT)),
        ext=XDRPositiveSize2D(cx=int(spec["width"] * EMU_PER_POINT), cy=int(spec["height"] * EMU_PER_POINT)))
    chart.width = spec["width"] * 2.54 / 72
    chart.height = spec["height"] * 2.54 / 72
    chart._xlmrio = spec
    return chart


def _add_error_bars(chart, bars: dict) -> None:
    """Custom y error bars: ``bars`` maps a 1-based series index to (minus, plus) ranges holding the
    lengths below and above each point (same units as the values, non-negative)."""
    for k, (minus, plus) in sorted(bars.items()):
        if not 1 <= k <= len(chart.series):
            continue
        refs = [NumDataSource(numRef=NumRef(f=_ref(r.sheet.name, *r.bounds))) for r in (minus, plus)]
        chart.series[k - 1].errBars = ErrorBars(errDir=None if isinstance(chart, BarChart) else "y",
                                                errBarType="both", errValType="cust", noEndCap=False,
                                                minus=refs[0], plus=refs[1])


_PALETTE = ("4472C4", "ED7D31", "A5A5A5", "FFC000", "5B9BD5", "70AD47")


def _apply_look(chart, kind: str, look: dict) -> None:
    """Reader-facing details of a chart recipe's ``look``: axis titles, tick-label number formats,
    series colours, point labels (series names) and legend.

    Keys: ``x_title``, ``y_title``, ``value_format`` (value axis), ``x_format`` (scatter x axis),
    ``palette`` (hex RGB list, cycled), ``label_points`` (bool), ``legend`` (bool).
    """
    scatter = kind.startswith("xy_scatter")
    if look.get("x_title"):
        chart.x_axis.title = look["x_title"]
    if look.get("y_title"):
        chart.y_axis.title = look["y_title"]
    if look.get("value_format"):
        chart.y_axis.numFmt = NumFmt(formatCode=look["value_format"], sourceLinked=False)
    if scatter and look.get("x_format"):
        chart.x_axis.numFmt = NumFmt(formatCode=look["x_format"], sourceLinked=False)
    if scatter:
        chart.x_axis.tickLblPos = "low"   # x tick labels below the plot, not across negative values
        chart.y_axis.tickLblPos = "low"
    if isinstance(chart, BarChart):
        chart.x_axis.tickLblSkip = 1      # every category label, not every second one
        chart.x_axis.tickLblPos = "low"   # labels at the low end, clear of negative bars
        chart.gapWidth = 60
    palette = look.get("palette") or ()
    for k, s in enumerate(chart.series):
        if palette:
            color = palette[k % len(palette)]
            if scatter:
                s.marker.graphicalProperties = GraphicalProperties(solidFill=color)
                s.marker.graphicalProperties.line.solidFill = color
            elif isinstance(chart, (BarChart, AreaChart, PieChart)):
                s.graphicalProperties = GraphicalProperties(solidFill=color)
            else:
                s.graphicalProperties.line.solidFill = color
        if look.get("label_points"):
            s.dLbls = DataLabelList(showSerName=True, showVal=False, showCatName=False, showLegendKey=False,
                                    showPercent=False, dLblPos="r")
    if look.get("legend", True) is False:
        chart.legend = None
    elif chart.legend is not None:
        chart.legend.position = "b"


def _add_series(chart, kind: str, src: Range, plot_by: str | None, x_values: Range | None) -> None:
    r1, c1, r2, c2 = src.bounds
    title = src.sheet.name
    header, catcol, plot_by, cats_text, head_text = _layout(src, kind, plot_by)
    dr1, dc1 = r1 + header, c1 + catcol
    if dr1 > r2 or dc1 > c2:
        return
    scatter = kind.startswith("xy_scatter")
    if plot_by == "columns":
        lines = [(dr1, c, r2, c) for c in range(dc1, c2 + 1)]
        labels = [(r1, c) for c in range(dc1, c2 + 1)] if header else None
        cats = (dr1, c1, r2, c1) if catcol else None
    else:
        lines = [(r, dc1, r, c2) for r in range(dr1, r2 + 1)]
        labels = [(r, c1) for r in range(dr1, r2 + 1)] if catcol else None
        cats = (r1, dc1, r1, c2) if header else None
        cats_text = head_text
    if x_values is not None:
        cats = x_values.bounds
        title_x = x_values.sheet.name
        cats_text = any(isinstance(v, str) for row in read_block(x_values.sheet, *cats) for v in row)
    else:
        title_x = title
    for k, line in enumerate(lines):
        values = _ref(title, *line)
        if scatter:
            xref = _ref(title_x, *cats) if cats else None
            s = Series(values, xvalues=xref)
            if kind in ("xy_scatter",):
                s.marker.symbol = "circle"
                s.marker.size = 7
                s.marker.graphicalProperties = GraphicalProperties(solidFill=_PALETTE[k % len(_PALETTE)])
                s.graphicalProperties.line.noFill = True
            elif kind.endswith("no_markers"):
                s.marker.symbol = "none"
            else:
                s.marker.symbol = "circle"
            if "smooth" in kind:
                s.smooth = True
        else:
            s = Series(values)
            if cats:
                ref = _ref(title_x, *cats)
                s.cat = AxDataSource(strRef=StrRef(f=ref)) if cats_text else AxDataSource(numRef=NumRef(f=ref))
            if kind == "line":
                s.marker.symbol = "none"
                s.smooth = False
            elif kind.startswith("line"):
                s.marker.symbol = "circle"
                s.smooth = False
        if labels:
            s.tx = SeriesLabel(strRef=StrRef(f=_ref(title, *labels[k], *labels[k])))
        chart.series.append(s)
    if scatter:
        chart.style = 13
        chart.scatterStyle = "lineMarker"  # required by the schema; LibreOffice draws nothing without it
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def _title_text(title) -> str | None:
    if title is None:
        return None
    if isinstance(title, str):
        return title
    try:
        runs = []
        for p in title.tx.rich.p:
            runs.append("".join(r.t for r in (p.r or [])))
        return "\n".join(runs)
    except AttributeError:
        return None


def _geometry_of(obj, ws) -> tuple[float, float, float, float]:
    anchor = obj.anchor
    width, height = obj.width * 72 / 2.54, obj.height * 72 / 2.54
    if isinstance(anchor, AbsoluteAnchor):
        return (anchor.pos.x / EMU_PER_POINT, anchor.pos.y / EMU_PER_POINT,
                anchor.ext.width / EMU_PER_POINT, anchor.ext.height / EMU_PER_POINT)
    if isinstance(anchor, (OneCellAnchor, TwoCellAnchor)):
        f = anchor._from
        left = column_left_points(ws, f.col + 1) + f.colOff / EMU_PER_POINT
        top = row_top_points(ws, f.row + 1) + f.rowOff / EMU_PER_POINT
        if isinstance(anchor, OneCellAnchor):
            width, height = anchor.ext.width / EMU_PER_POINT, anchor.ext.height / EMU_PER_POINT
        else:
            t = anchor.to
            width = column_left_points(ws, t.col + 1) + t.colOff / EMU_PER_POINT - left
            height = row_top_points(ws, t.row + 1) + t.rowOff / EMU_PER_POINT - top
        return left, top, width, height
    return 0.0, 0.0, width, height


def _kind_of(obj) -> str:
    if isinstance(obj, BarChart):
        stem = "bar" if obj.type == "bar" else "column"
        suffix = {"stacked": "_stacked", "percentStacked": "_stacked_100"}.get(obj.grouping, "_clustered")
        return stem + suffix
    if isinstance(obj, LineChart):
        return "line_stacked" if obj.grouping == "stacked" else "line"
    if isinstance(obj, ScatterChart):
        return "xy_scatter"
    if isinstance(obj, AreaChart):
        return "area_stacked" if obj.grouping == "stacked" else "area"
    if isinstance(obj, PieChart):
        return "pie"
    return type(obj).__name__


class Chart:
    """An embedded chart; ``api`` is the openpyxl chart object."""

    def __init__(self, sheet, obj):
        self.sheet = sheet
        if getattr(obj, "_xlmrio", None) is None:
            left, top, width, height = _geometry_of(obj, sheet.ws)
            idx = sheet.ws._charts.index(obj) + 1
            obj._xlmrio = {"sheet": sheet, "type": _kind_of(obj), "source": None, "plot_by": None,
                           "title": _title_text(obj.title), "name": f"Chart {idx}", "left": left,
                           "top": top, "width": width, "height": height, "x_values": None,
                           "loaded": True}
        self._spec = obj._xlmrio

    @property
    def spec(self) -> dict:
        return self._spec

    @property
    def obj(self):
        """The current openpyxl chart object (rebuilt objects share the recipe dict)."""
        for o in self.sheet.ws._charts:
            if getattr(o, "_xlmrio", None) is self._spec:
                return o
        raise LookupError(f"chart {self._spec['name']!r} no longer exists")

    def _rebuild(self) -> None:
        spec = self.spec
        if spec.get("loaded") and spec.get("source") is None:
            # A chart read from a file whose source we do not know: patch it in place.
            obj = self.obj
            obj.title = spec["title"]
            c, xoff, r, yoff = locate_point(self.sheet.ws, spec["left"], spec["top"])
            obj.anchor = OneCellAnchor(
                _from=AnchorMarker(col=c - 1, colOff=int(xoff * EMU_PER_POINT), row=r - 1,
                                   rowOff=int(yoff * EMU_PER_POINT)),
                ext=XDRPositiveSize2D(cx=int(spec["width"] * EMU_PER_POINT), cy=int(spec["height"] * EMU_PER_POINT)))
            return
        charts = self.sheet.ws._charts
        old = self.obj
        pos = next(i for i, o in enumerate(charts) if o is old)
        spec["sheet"] = self.sheet
        charts[pos] = build_chart(spec)

    @property
    def api(self):
        return self.obj

    @property
    def parent(self):
        return self.sheet

    @property
    def name(self) -> str:
        return self.spec["name"]

    @name.setter
    def name(self, value: str) -> None:
        self.spec["name"] = str(value)

    @property
    def chart_type(self) -> str:
        return self.spec["type"]

    @chart_type.setter
    def chart_type(self, value: str) -> None:
        if value not in CHART_KINDS:
            raise ValueError(f"chart type {value!r} is not supported by the openpyxl engine; "
                             f"use one of {sorted(CHART_KINDS)}")
        if self.spec.get("loaded") and self.spec.get("source") is None:
            raise NotImplementedError("changing the type of a chart read from a file needs "
                                      "set_source_data() first (its source is unknown)")
        self.spec["type"] = value
        self._rebuild()

    @property
    def title(self) -> str | None:
        return self.spec["title"]

    @title.setter
    def title(self, value: str | None) -> None:
        self.spec["title"] = value
        self._rebuild()

    def set_source_data(self, source: Range, plot_by=None) -> None:
        self.spec["source"] = source
        self.spec["plot_by"] = plot_by
        self.spec["loaded"] = False
        if self.spec["type"] not in CHART_KINDS:
            self.spec["type"] = "column_clustered"
        self._rebuild()

    def set_error_bars(self, series: int, minus: Range, plus: Range) -> None:
        """Custom error bars on the ``series``-th series (1-based, as Excel's SeriesCollection):
        ``minus``/``plus`` are one-column or one-row ranges of lengths below/above each point."""
        if self.spec.get("loaded") and self.spec.get("source") is None:
            raise NotImplementedError("error bars on a chart read from a file need set_source_data() first")
        self.spec.setdefault("error_bars", {})[int(series)] = (minus, plus)
        self._rebuild()

    def set_x_axis_values(self, source: Range) -> None:
        self.spec["x_values"] = source
        self._rebuild()

    @property
    def plot_by(self) -> str | None:
        src = self.spec.get("source")
        if src is None:
            return self.spec.get("plot_by")
        return _layout(src, self.spec["type"], self.spec.get("plot_by"))[2]

    @plot_by.setter
    def plot_by(self, value) -> None:
        self.spec["plot_by"] = value
        self._rebuild()

    @property
    def style(self) -> int | None:
        return self.spec.get("style")

    @style.setter
    def style(self, value) -> None:
        self.spec["style"] = value

    def _geom(self, key, value=None):
        if value is None:
            return self.spec[key]
        self.spec[key] = float(value)
        self._rebuild()

    left = property(lambda self: self._geom("left"), lambda self, v: self._geom("left", v))
    top = property(lambda self: self._geom("top"), lambda self, v: self._geom("top", v))
    width = property(lambda self: self._geom("width"), lambda self, v: self._geom("width", v))
    height = property(lambda self: self._geom("height"), lambda self, v: self._geom("height", v))

    def delete(self) -> None:
        charts = self.sheet.ws._charts
        old = self.obj
        charts[:] = [o for o in charts if o is not old]

    def to_png(self, path=None):
        raise NotImplementedError("Chart.to_png is not supported by the openpyxl engine")

    to_pdf = to_png

    @property
    def legend(self):
        raise NotImplementedError("Chart.legend is not supported by the openpyxl engine")

    @property
    def series(self):
        raise NotImplementedError("Chart.series is not supported by the openpyxl engine")

    @property
    def category_axis(self):
        raise NotImplementedError("chart axes are not supported by the openpyxl engine")

    value_axis = secondary_category_axis = secondary_value_axis = category_axis


class Charts:
    """The embedded charts of a worksheet (``ws._charts``)."""

    def __init__(self, sheet):
        self.sheet = sheet

    @property
    def api(self):
        return self.sheet.ws._charts

    @property
    def parent(self):
        return self.sheet

    def _wrapped(self) -> list[Chart]:
        return [Chart(self.sheet, obj) for obj in list(self.sheet.ws._charts)]

    def __call__(self, key):
        charts = self._wrapped()
        if isinstance(key, numbers.Number):
            if not 1 <= key <= len(charts):
                raise IndexError(key)
            return charts[int(key) - 1]
        for ch in charts:
            if ch.name.casefold() == str(key).casefold():
                return ch
        raise KeyError(key)

    def __len__(self) -> int:
        return len(self.sheet.ws._charts)

    def __iter__(self):
        return iter(self._wrapped())

    def __contains__(self, key) -> bool:
        return any(ch.name.casefold() == str(key).casefold() for ch in self._wrapped())

    def add(self, left=0, top=0, width=355, height=211, chart_type=None, source=None, plot_by=None,
            name=None, anchor=None, style=227):
        if anchor is not None:
            left, top = anchor.left, anchor.top
        kind = chart_type or "column_clustered"
        if kind not in CHART_KINDS:
            raise ValueError(f"chart type {kind!r} is not supported by the openpyxl engine; "
                             f"use one of {sorted(CHART_KINDS)}")
        ws = self.sheet.ws
        existing = {ch.name.casefold() for ch in self._wrapped()}
        n = len(ws._charts) + 1
        while name is None and f"chart {n}" in existing:
            n += 1
        spec = {"sheet": self.sheet, "type": kind, "source": source, "plot_by": plot_by, "title": None,
                "name": name or f"Chart {n}", "left": float(left), "top": float(top),
                "width": float(width), "height": float(height), "x_values": None, "style": style,
                "loaded": False}
        obj = build_chart(spec)
        ws._charts.append(obj)
        return Chart(self.sheet, obj)


def rebuild_all(book) -> None:
    """Rebuild every recipe chart of a book (called before saving, so references are current)."""
    from ._core import Sheet

    for ws in book.wb.worksheets:
        for i, obj in enumerate(list(ws._charts)):
            spec = getattr(obj, "_xlmrio", None)
            if spec is not None and not (spec.get("loaded") and spec.get("source") is None):
                spec["sheet"] = Sheet(book, ws)
                ws._charts[i] = build_chart(spec)
