"""Chapter 12: the cost model's Figure 3 next to the paper's, with sliders on the mechanisms' prices.

``prediction_arrays(units)`` is the pure part: for each benchmark the paper's and the model's bars of
X, V and U, the error of each, and the operation behind most of each platform's extra time.
``PredictionChart`` draws them with bqplot (grouped bars: the paper's bar in the platform's colour, the
model's beside it, lighter), a table of every bar's error (misses marked), and sliders that change one
mechanism's price; moving one recomputes the prediction from the frozen mixes (no model run).

A student's answer plugs in: ``PredictionChart(units={"u_ptrace": 24.2})`` starts from that price,
``student_score=("OSDB-OLTP", "V", 0.3)`` draws a marker where the student predicted a bar.
"""
from __future__ import annotations

import time

import numpy as np

from xenlab.i18n import t
from xenlab.perf import costs as C
from xenlab.perf import predict as P
from xenlab.perf.paper import relative
from xenlab.perf.workloads import BENCHMARKS
from xenlab.viz import theme
from xenlab.viz.base import View

SLIDERS = ("x_hyp", "x_split", "v_world", "v_cr3", "v_hidden", "u_ptrace", "u_newmm")
SERIES = ("X", "V", "U")


def _lighter(hex_colour: str, amount: float = 0.5) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    r, g, b = (round(c + (255 - c) * amount) for c in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def prediction_arrays(units: dict | None = None) -> dict:
    """x: benchmarks; y: 6 x 6 (paper X, model X, paper V, model V, paper U, model U); errors 3 x 6."""
    base = C.calibrate()
    units = dict(base, **(units or {}))
    pred = P.predict(units)
    pub = relative()
    y, labels, colours = [], [], []
    err = np.zeros((3, len(BENCHMARKS)))
    for k, p in enumerate(SERIES):
        i = C.PLATFORMS.index(p)
        y.append([pub[b][i] for b in BENCHMARKS])
        y.append([pred[b][i] for b in BENCHMARKS])
        labels += [t("perf.model.paper", p=p), t("perf.model.model", p=p)]
        colours += [theme.PLATFORM[p], _lighter(theme.PLATFORM[p])]
        err[k] = [pred[b][i] - pub[b][i] for b in BENCHMARKS]
    dominant = [[P.dominant(b, p, units)[0] for b in BENCHMARKS] for p in SERIES]
    return {"x": list(BENCHMARKS), "y": np.array(y), "labels": labels, "colors": colours, "error": err,
            "dominant": dominant, "units": units}


def error_table_html(a: dict, threshold: float = 0.10) -> str:
    head = "".join(f"<th style='padding:2px 8px'>{t('perf.model.col.' + c)}</th>"
                   for c in ("benchmark", "platform", "paper", "model", "error", "dominant"))
    rows = []
    for k, p in enumerate(SERIES):
        for j, b in enumerate(a["x"]):
            e = a["error"][k, j]
            miss = abs(e) > threshold
            style = f"color:{theme.REFUSED};font-weight:bold" if miss else ""
            note = f" ({t('perf.model.miss')})" if miss else ""
            rows.append(f"<tr><td>{b}</td><td>{p}</td><td>{a['y'][2 * k, j]:.2f}</td><td>{a['y'][2 * k + 1, j]:.2f}</td>"
                        f"<td style='{style}'>{e:+.2f}{note}</td><td>{t('perf.op.' + a['dominant'][k][j])}</td></tr>")
    return (f"<table style='font-size:{theme.FONT_PX}px;border-collapse:collapse;max-width:{theme.MAX_WIDTH_PX}px'>"
            f"<tr>{head}</tr>{''.join(rows)}</table>")


class PredictionChart(View):
    ERROR_KEY = "perf.model.error"

    def __init__(self, units: dict | None = None, student_score: tuple | None = None):
        import bqplot as bq
        import ipywidgets as W
        self.errors: list[str] = []
        self.error_box = W.HTML("")
        self.overrides = dict(units or {})
        a = prediction_arrays(self.overrides)
        sx, sy = bq.OrdinalScale(), bq.LinearScale(min=0.0, max=1.15)
        self.bars = bq.Bars(x=a["x"], y=a["y"], scales={"x": sx, "y": sy}, type="grouped", colors=a["colors"],
                            labels=a["labels"], display_legend=False, padding=0.15)
        marks = [self.bars]
        self.student = None
        if student_score is not None:
            bench, _, value = student_score
            self.student = bq.Scatter(x=[bench], y=[value], scales={"x": sx, "y": sy}, marker="diamond",
                                      colors=[theme.HIGHLIGHT], default_size=120, display_legend=False,
                                      labels=[t("perf.model.student", p=student_score[1])])
            marks.append(self.student)
        ax = bq.Axis(scale=sx, tick_style={"font-size": f"{theme.FONT_PX}px"})
        ay = bq.Axis(scale=sy, orientation="vertical", label=t("perf.model.y"), tick_format=".1f",
                     tick_style={"font-size": f"{theme.FONT_PX}px"})
        self.figure = bq.Figure(marks=marks, axes=[ax, ay], title=t("perf.model.title"), animation_duration=0,
                                fig_margin=theme.figure_margins(),
                                title_style={"font-size": f"{theme.TITLE_FONT_PX}px"},
                                layout=W.Layout(**theme.figure_layout(380)))
        self.sliders = {}
        for name in SLIDERS:
            v = a["units"][name]
            s = W.FloatLogSlider(value=max(v, 1e-3), base=10, min=np.log10(max(v, 1e-3)) - 1.5,
                                 max=np.log10(max(v, 1e-3)) + 1.5, step=0.01, readout_format=".3g",
                                 description=t("perf.model.slider", name=t("perf.mech." + name)),
                                 style={"description_width": "330px"}, layout=W.Layout(width="640px"),
                                 continuous_update=True)
            s.observe(self._guarded(self._moved), names="value")
            self.sliders[name] = s
        self.reset = W.Button(description=t("perf.model.reset"), layout=theme.button_layout())
        self.reset.on_click(self._guarded(self._reset))
        self.summary = W.HTML("")
        self.table = W.HTML("")
        self.last_ms = 0.0
        self._draw(a, 0.0)
        # The legend below the plot (inside it, it would cover the bars), one slider a line (their names are long).
        items = list(zip(a["labels"], a["colors"]))
        if self.student is not None:
            items.append((self.student.labels[0], theme.HIGHLIGHT))
        self.legend = W.HTML(theme.legend_html(items))
        self.widget = W.VBox([self.figure, self.legend, W.VBox(list(self.sliders.values())), self.reset,
                              self.summary, self.error_box, self.table],
                             layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))

    def current_units(self) -> dict:
        return dict(self.overrides, **{n: s.value for n, s in self.sliders.items()})

    def recompute(self, units: dict | None = None) -> dict:
        t0 = time.perf_counter()
        a = prediction_arrays(units if units is not None else self.current_units())
        self._draw(a, (time.perf_counter() - t0) * 1e3)
        return a

    def _moved(self, change):
        self.recompute()

    def _reset(self, _button):
        base = dict(C.calibrate(), **self.overrides)
        with self.bars.hold_sync():
            for n, s in self.sliders.items():
                s.value = base[n]
        self.recompute()

    def _draw(self, a: dict, ms: float):
        self.last_ms = ms
        self.arrays = a
        self.bars.y = a["y"]
        ok = int((np.abs(a["error"]) <= 0.10).sum())
        self.summary.value = (f"<div style='font-size:{theme.FONT_PX}px'>"
                              f"{t('perf.model.summary', ok=ok, n=a['error'].size, ms=ms)}</div>")
        self.table.value = error_table_html(a)


def student_inputs(price_fn, score_fn, table3: dict, bench: str = "OSDB-OLTP", platform: str = "U"):
    """Exercise 12: the student's ptrace price (UML null call) and score (``bench`` on ``platform``).

    Returns (price or None, score or None, the model's score with the student's price, why-not text)."""
    notes = []
    price = score = None
    try:
        price = float(price_fn(table3["L-UP"]["null call"], table3["UML"]["null call"], 1))
    except NotImplementedError:
        notes.append(t("perf.ex12.not_written", fn="mechanism_price"))
    units = dict(C.calibrate())
    if price is not None and price > 0:
        units["u_ptrace"] = price
    table = C.op_costs(units)
    from xenlab.perf.workloads import frozen
    parts = P.unit_times(frozen()[bench], table)
    mix = dict(frozen()[bench]["mix"])
    mix["irq"] = parts["L"]["irq"] / table["L"]["irq"]
    mix = {op: n for op, n in mix.items() if op in table["L"]}
    try:
        score = float(score_fn(dict(mix), dict(table["L"]), dict(table[platform]), parts["L"]["compute"]))
    except NotImplementedError:
        notes.append(t("perf.ex12.not_written", fn="relative_score"))
    model = P.predict(units)[bench][C.PLATFORMS.index(platform)]
    return price, score, model, "; ".join(notes)


def student_chart(price_fn, score_fn, table3: dict, bench: str = "OSDB-OLTP", platform: str = "U"):
    """(text, PredictionChart) with the student's price and score plugged in (stubs are reported)."""
    price, score, model, notes = student_inputs(price_fn, score_fn, table3, bench, platform)
    lines = [f"u_ptrace: {price:.4g} us" if price is not None else "u_ptrace: -",
             t("perf.ex12.line", bench=bench, p=platform, score=score, model=model,
               paper=relative()[bench][C.PLATFORMS.index(platform)]) if score is not None else f"{bench} {platform}: -"]
    if notes:
        lines.append(notes)
    units = {"u_ptrace": price} if price is not None and price > 0 else None
    chart = None
    try:
        chart = PredictionChart(units=units, student_score=(bench, platform, score) if score is not None else None)
    except ImportError:                 # no bqplot: the text alone
        pass
    return "\n".join(lines), chart
