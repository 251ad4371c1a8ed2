"""A class report from the gradebook: what to address in the next lecture.

Per exercise: how many students, the mean and the distribution of scores, and the checks most often not
passed with their most common messages (the misconceptions). `xenlab report GRADEBOOK` writes it as an
HTML page (bars drawn as inline SVG, no JavaScript, readable offline and printable) and as a notebook
whose cells load the same summary and plot it with bqplot.
"""
from __future__ import annotations

import html
import json
import sqlite3
from collections import Counter
from pathlib import Path


def summary(gradebook, top: int = 5) -> dict:
    """{exercise: {students, max, mean, histogram [(score, count)], failing [(check, title, n, [(message, k)])]}}."""
    db = sqlite3.connect(str(gradebook))
    out = {}
    for (ex,) in db.execute("SELECT DISTINCT exercise FROM submissions ORDER BY exercise"):
        rows = db.execute("SELECT points, max_points FROM submissions WHERE exercise=?", (ex,)).fetchall()
        points = [r[0] for r in rows]
        top_max = max((r[1] for r in rows), default=0)
        hist = sorted(Counter(points).items())
        failing = []
        for check, title, n in db.execute(
                "SELECT check_name, max(title), count(*) FROM results WHERE exercise=? AND status != 'pass' "
                "GROUP BY check_name ORDER BY count(*) DESC, check_name LIMIT ?", (ex, top)):
            msgs = Counter(m for (m,) in db.execute(
                "SELECT message FROM results WHERE exercise=? AND check_name=? AND status != 'pass'", (ex, check)))
            failing.append((check, title or check, n, msgs.most_common(3)))
        out[ex] = {"students": len(points), "max": top_max,
                   "mean": round(sum(points) / len(points), 2) if points else 0.0,
                   "histogram": hist, "failing": failing}
    db.close()
    return out


def _bars_svg(hist, maximum: int, width: int = 420, height: int = 140) -> str:
    counts = dict(hist)
    scores = list(range(0, maximum + 1))
    top = max(counts.values(), default=1)
    bw = width / max(1, len(scores))
    parts = [f'<svg width="{width}" height="{height + 20}" role="img">']
    for i, s in enumerate(scores):
        h = (height - 10) * counts.get(s, 0) / top
        x = i * bw
        parts.append(f'<rect x="{x + 1:.1f}" y="{height - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                     f'fill="#4878a8"><title>{s}: {counts.get(s, 0)}</title></rect>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{height + 14}" font-size="10" text-anchor="middle">{s}</text>')
    parts.append("</svg>")
    return "".join(parts)


def to_html(data: dict, title: str = "xenlab: class report") -> str:
    e = html.escape
    body = [f"<h1>{e(title)}</h1>"]
    for ex, d in data.items():
        body.append(f"<h2>{e(ex)}</h2><p>{d['students']} students, mean {d['mean']} / {d['max']}</p>")
        body.append(_bars_svg(d["histogram"], d["max"]))
        if d["failing"]:
            body.append("<h3>Checks most often not passed</h3><ol>")
            for check, t, n, msgs in d["failing"]:
                items = "".join(f"<li>{e(m or '-')} <b>({k})</b></li>" for m, k in msgs)
                body.append(f"<li><b>{e(t)}</b> ({e(check)}): {n} students<ul>{items}</ul></li>")
            body.append("</ol>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>" + e(title) + "</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}li{margin:.3em 0}</style>"
            "</head><body>" + "".join(body) + "</body></html>\n")


def to_notebook(gradebook) -> dict:
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Class report\nScores per exercise and the checks most often not "
                                      "passed, from the gradebook."),
        nbformat.v4.new_code_cell(f"from xenlab.grading.class_report import summary, plot\n"
                                  f"data = summary({str(Path(gradebook).resolve())!r})\nplot(data)"),
        nbformat.v4.new_code_cell("for ex, d in data.items():\n"
                                  "    print(ex, f\"{d['students']} students, mean {d['mean']} / {d['max']}\")\n"
                                  "    for check, title, n, msgs in d['failing']:\n"
                                  "        print(f'  {n:3d} x {title}')\n"
                                  "        for m, k in msgs:\n"
                                  "            print(f'        ({k}) {m}')"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    return nb


def plot(data: dict):
    """One bqplot bar chart per exercise (in a notebook)."""
    import bqplot as bq
    import ipywidgets as W
    figs = []
    for ex, d in data.items():
        xs = list(range(d["max"] + 1))
        counts = dict(d["histogram"])
        sx, sy = bq.OrdinalScale(), bq.LinearScale(min=0)
        bars = bq.Bars(x=xs, y=[counts.get(s, 0) for s in xs], scales={"x": sx, "y": sy})
        figs.append(bq.Figure(marks=[bars], axes=[bq.Axis(scale=sx, label="score"),
                                                  bq.Axis(scale=sy, orientation="vertical", label="students")],
                              title=f"{ex}: mean {d['mean']} / {d['max']}",
                              layout=W.Layout(width="420px", height="260px")))
    return W.HBox(figs, layout=W.Layout(flex_flow="row wrap"))


def write(gradebook, html_path=None, notebook_path=None) -> dict:
    data = summary(gradebook)
    if html_path:
        Path(html_path).write_text(to_html(data), encoding="utf-8")
    if notebook_path:
        import nbformat
        nbformat.write(to_notebook(gradebook), str(notebook_path))
    return data


def main_json(gradebook) -> str:
    return json.dumps(summary(gradebook), ensure_ascii=False, indent=1)
