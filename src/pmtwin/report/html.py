"""A report as one self-contained HTML file: plotly.js, the chart data and the page's script inline.

The page needs no network: plotly.js comes from the installed ``plotly`` package and is embedded; chart
arrays travel as base64 float32 and are decoded in the page. Text from runs (names, labels, paths) is
escaped; the embedded JSON holds no ``<``, ``>`` or ``&`` (written as JSON escapes), so nothing in it can
end or hide its script element.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pmtwin.report.charts import Chart, Report, Row, Trace

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
header{background:#12355b;color:#fff;padding:18px 28px}header h1{margin:0 0 6px;font-size:22px}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0;font-size:13px}
header dt{opacity:.75}header dd{margin:0}
main{padding:18px 28px;max-width:1400px}
table.summary{border-collapse:collapse;background:#fff;font-size:14px;margin-bottom:18px}
table.summary th,table.summary td{border:1px solid #d5dbe3;padding:4px 10px;text-align:right}
table.summary th:first-child,table.summary td:first-child{text-align:left}
td.better{background:#dff3e4;color:#0b5d1e}td.worse{background:#fbe3e3;color:#8a1111}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(620px,1fr));gap:16px}
section.chart{background:#fff;border:1px solid #d5dbe3;border-radius:6px;padding:10px 12px}
section.chart h2{font-size:16px;margin:2px 0 6px}.plot{height:360px}
p.note{font-size:12px;color:#5b6776;margin:4px 0 0}ul.notes{font-size:13px;color:#5b6776}
a.png{font-size:12px;float:right}
"""

# The page's script in parts: ``_script`` inserts the parts of the ``points`` kind between them.
_SCRIPT_HEAD = """
(function(){
const data=JSON.parse(document.getElementById('report-data').textContent);
function arr(o){if(o===null)return null;const b=atob(o);const u=new Uint8Array(b.length);
for(let i=0;i<b.length;i++)u[i]=b.charCodeAt(i);return Array.from(new Float32Array(u.buffer));}
function gantt(t){const x=arr(t.x),y=arr(t.y),xe=arr(t.x_end),h=arr(t.height),px=[],py=[];
for(let i=0;i<x.length;i++){px.push(x[i],xe[i],xe[i],x[i],x[i],null);
py.push(y[i],y[i],y[i]+h[i],y[i]+h[i],y[i],null);}
return {type:'scatter',mode:'lines',fill:'toself',x:px,y:py,name:t.name,line:{width:0.5},hoverinfo:'name'};}
"""
_SCRIPT_TRACE = """\
function trace(c,t,k){
"""
_SCRIPT_BODY = """\
if(c.kind==='gantt')return gantt(t);
if(c.kind==='bar')return {type:'bar',x:t.labels,y:arr(t.y),name:t.name};
const s={type:'scatter',x:arr(t.x),y:arr(t.y),name:t.name,mode:'lines',line:{}};
if(c.kind==='ecdf')s.line.shape='hv';
if(c.kind==='scatter'){if(k===0){s.mode='markers';s.marker={size:4,opacity:0.35};}else{s.mode='lines+markers';}}
if(t.dash)s.line.dash='dash';
return s;}
for(const c of data.charts){
const layout={margin:{l:60,r:16,t:8,b:48},showlegend:c.traces.length>1||c.kind==='scatter',
legend:{orientation:'h',y:-0.22},xaxis:{title:{text:c.x_label},type:c.x_log?'log':'-'},
yaxis:{title:{text:c.y_label},type:c.y_log?'log':'-'}};
if(c.kind==='ecdf')layout.yaxis.range=[0,1.02];
if(c.kind==='bar')layout.xaxis.type='category';
"""
_SCRIPT_TAIL = """\
Plotly.newPlot('plot-'+c.key,c.traces.map((t,k)=>trace(c,t,k)),layout,{responsive:true,displaylogo:false});}
document.body.setAttribute('data-charts-ready',String(data.charts.length));
})();
"""
_POINTS_FUNCTION = """\
function points(t){
const y=arr(t.y),lo=t.y_low?arr(t.y_low):null,hi=t.y_high?arr(t.y_high):null;
const s={type:'scatter',mode:'lines+markers',x:t.labels.length?t.labels:arr(t.x),y:y,name:t.name,
marker:{size:6},line:{width:1.5,dash:t.dash?'dash':'solid'}};
if(lo||hi)s.error_y={type:'data',symmetric:false,visible:true,width:4,
array:y.map((v,i)=>hi?hi[i]-v:0),arrayminus:y.map((v,i)=>lo?v-lo[i]:0)};
return s;}
"""
_POINTS_TRACE = """\
if(c.kind==='points')return points(t);
"""
_POINTS_LAYOUT = """\
if(c.kind==='points'&&c.traces.some(t=>t.labels.length)){layout.xaxis.type='category';
layout.scattermode='group';layout.scattergap=0.7;}
"""


def plotly_js_path() -> Path:
    """Where the installed ``plotly`` package keeps plotly.js (found without importing the package)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("the report needs the plotly package (pip install plotly)")
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ValueError(f"{path}: plotly.js is missing from the installed plotly package")
    return path


def plotly_js() -> str:
    """plotly.js, to embed."""
    return plotly_js_path().read_text(encoding="utf-8")


def render_html(report: Report, png_names: Sequence[str] = ()) -> str:
    """The page; ``png_names`` lists the chart keys that have a PNG beside the page (linked)."""
    payload = json.dumps({"charts": [_chart_json(c) for c in report.charts]}, separators=(",", ":"))
    # "<" never reaches the HTML parser inside the data block ("</script>", "<!--" would end or hide it)
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    pngs = set(png_names)
    sections = "\n".join(_section(chart, chart.key in pngs) for chart in report.charts)
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in report.facts)
    notes = "".join(f"<li>{_e(n)}</li>" for n in report.notes)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(report.title)}</title><style>{_STYLE}</style></head><body>\n"
        f"<header><h1>{_e(report.title)}</h1><dl>{facts}</dl></header>\n<main>\n"
        f'{_table(report)}\n<div class="charts">\n{sections}\n</div>\n'
        + (f'<ul class="notes">{notes}</ul>\n' if notes else "")
        + "</main>\n"
        f"<script>{plotly_js()}</script>\n"
        f'<script id="report-data" type="application/json">{payload}</script>\n'
        f"<script>{_script(report.charts)}</script>\n</body></html>\n"
    )


def _script(charts: Sequence[Chart]) -> str:
    """The page's script. Pages with ``points`` charts get the code that draws them; other pages carry
    the script they had before that kind existed, byte for byte (older reports render unchanged)."""
    if not any(chart.kind == "points" for chart in charts):
        return _SCRIPT_HEAD + _SCRIPT_TRACE + _SCRIPT_BODY + _SCRIPT_TAIL
    return (
        _SCRIPT_HEAD + _POINTS_FUNCTION + _SCRIPT_TRACE + _POINTS_TRACE + _SCRIPT_BODY + _POINTS_LAYOUT
        + _SCRIPT_TAIL
    )  # fmt: skip


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _section(chart: Chart, has_png: bool) -> str:
    link = f'<a class="png" href="{_e(chart.key)}.png">PNG</a>' if has_png else ""
    note = f'<p class="note">{_e(chart.note)}</p>' if chart.note else ""
    return (
        f'<section class="chart" id="chart-{_e(chart.key)}">{link}<h2>{_e(chart.title)}</h2>'
        f'<div class="plot" id="plot-{_e(chart.key)}"></div>{note}</section>'
    )


def _b64(values: NDArray[np.float64] | None) -> str | None:
    if values is None:
        return None
    return base64.b64encode(np.ascontiguousarray(values, "<f4").tobytes()).decode("ascii")


def _trace_json(trace: Trace) -> dict[str, Any]:
    """The trace for the page's script; the interval appears only where a trace has one (traces without
    it encode as before)."""
    encoded: dict[str, Any] = {
        "name": trace.name,
        "x": _b64(trace.x),
        "y": _b64(trace.y),
        "x_end": _b64(trace.x_end),
        "height": _b64(trace.height),
        "labels": list(trace.labels),
        "dash": trace.dash,
    }
    for name, values in (("y_low", trace.y_low), ("y_high", trace.y_high)):
        if values is not None:
            encoded[name] = _b64(values)
    return encoded


def _chart_json(chart: Chart) -> dict[str, Any]:
    return {
        "key": chart.key,
        "kind": chart.kind,
        "x_label": chart.x_label,
        "y_label": chart.y_label,
        "x_log": chart.x_log,
        "y_log": chart.y_log,
        "traces": [_trace_json(t) for t in chart.traces],
    }


def format_value(value: float | int | str | None, digits: int = 3) -> str:
    """A figure for the table: thousands separated, floats to ``digits`` significant digits."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{int(value):,}"
    number = float(value)
    if not np.isfinite(number):
        return str(number)
    if abs(number) >= 10**digits:
        return f"{number:,.0f}"
    return f"{number:.{digits}g}"


def _delta(row: Row, value: float | int | str | None, base: float | int | str | None) -> tuple[str, str]:
    """The delta text against the baseline and its CSS class ('' when not comparable)."""
    numeric = (int, float, np.integer, np.floating)
    if not isinstance(value, numeric) or not isinstance(base, numeric) or float(base) == 0.0:
        return "", ""
    change = (float(value) - float(base)) / abs(float(base)) * 100.0
    if abs(change) < 0.05:  # shown as +0.0%: not coloured
        return f" ({change:+.1f}%)", ""
    css = ""
    if row.better is not None:
        improved = change < 0 if row.better == "lower" else change > 0
        css = "better" if improved else "worse"
    return f" ({change:+.1f}%)", css


def _table(report: Report) -> str:
    head = "".join(f"<th>{_e(name)}</th>" for name in report.runs)
    lines = [f'<table class="summary"><thead><tr><th>figure</th>{head}</tr></thead><tbody>']
    for row in report.table:
        cells = []
        for k, value in enumerate(row.values):
            text = format_value(value, row.digits)
            delta, css = _delta(row, value, row.values[0]) if k > 0 else ("", "")
            klass = f' class="{css}"' if css else ""
            cells.append(f"<td{klass}>{_e(text + delta)}</td>")
        unit = f" ({_e(row.unit)})" if row.unit else ""
        lines.append(f"<tr><td>{_e(row.label)}{unit}</td>{''.join(cells)}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)
