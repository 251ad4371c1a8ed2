"""xentop as a live table (chapter 13): the text xentop prints, plus a CPU(%) bar per domain.

``xentop_arrays(rows)`` is the pure part (numpy arrays from xentop's rows, no widgets);
``XentopView(machine)`` shows one frame and a button that runs the machine for ``delay_ns`` and
samples again, so CPU(%) is measured over that interval exactly as xentop does.
"""
from __future__ import annotations

import html

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View


def xentop_arrays(rows: list[dict]) -> dict:
    """Names, CPU(%), MEM(%), and a colour per domain (running/blocked/paused/other) for the bars."""
    from xenlab.viz.theme import STATE_COLOURS as colours
    names = [r["name"] for r in rows]
    state_colour = []
    for r in rows:
        st = r["state"]
        state_colour.append(next((c for letter, c in colours.items() if letter in st), "#7f7f7f"))  # other
    return {"names": names, "cpu_pct": np.array([r["cpu_pct"] for r in rows], dtype=float),
            "mem_pct": np.array([r["mem_pct"] for r in rows], dtype=float), "colors": state_colour,
            "cpu_max": max(100.0, float(max((r["cpu_pct"] for r in rows), default=0.0)))}


class XentopView(View):
    def __init__(self, machine, delay_ns: int = 1_000_000_000):
        import bqplot as bq
        import ipywidgets as W

        from xenlab.toolstack.xentop import xentop
        self.machine, self.delay_ns, self._xentop = machine, int(delay_ns), xentop
        self.errors: list = []
        self.result = xentop(machine, delay_ns=self.delay_ns)
        from xenlab.viz import theme
        sx, sy = bq.OrdinalScale(), bq.LinearScale(min=0.0, max=100.0)
        font = theme.axis_font()
        self.bars = bq.Bars(x=[], y=[], scales={"x": sx, "y": sy}, colors=[theme.OK])
        # each bar's value written above it: a domain at 0.0 % (blocked the whole interval) still shows
        self.values = bq.Label(x=[], y=[], text=[], scales={"x": sx, "y": sy}, align="middle", default_size=12,
                               colors=[theme.TEXT], y_offset=-6)
        self.figure = bq.Figure(marks=[self.bars, self.values], title=t("viz.xentop.title"), animation_duration=0,
                                axes=[bq.Axis(scale=sx, tick_style=font, label=t("viz.views.xentop.domain_axis")),
                                      bq.Axis(scale=sy, side="left", label="CPU(%)", tick_style=font, tick_format="d")],
                                fig_margin={"top": 40, "bottom": 45, "left": 70, "right": 20},
                                layout=W.Layout(**theme.fitted_figure_layout(260)))
        self.legend = W.HTML(theme.legend_html([(t(f"viz.views.xentop.state.{k}"), c)
                                                for k, c in theme.STATE_COLOURS.items()]))
        self.text = W.HTML()
        self.sample = W.HTML()
        self.button = W.Button(description=t("viz.xentop.next"), icon="refresh", layout=theme.button_layout(),
                               tooltip=t("viz.views.xentop.next_tip", s=self.delay_ns / 1e9))
        self.error_box = W.HTML()
        self.button.on_click(self._guarded(self.step))
        self.widget = W.VBox([self.text, self.figure, self.legend, theme.controls_row([self.button]), self.sample,
                              self.error_box], layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
        self.redraw()

    def step(self, *_):
        self.result = self._xentop(self.machine, delay_ns=self.delay_ns, prev=self.result.samples[-1])
        self.redraw()

    def error_text(self, exc: Exception) -> str:
        """xentop's error line: the message alone, HTML-escaped."""
        return html.escape(t("viz.xentop.error", error=exc))

    def redraw(self) -> None:
        a = xentop_arrays(self.result.rows)
        with self.bars.hold_sync():
            self.bars.x, self.bars.y, self.bars.colors = a["names"], a["cpu_pct"], a["colors"]
            self.bars.scales["y"].max = a["cpu_max"] * 1.1
        with self.values.hold_sync():
            self.values.x, self.values.y = a["names"], a["cpu_pct"]
            self.values.text = [f"{v:.1f}%" for v in a["cpu_pct"]]
        # xentop's lines are ~135 columns: slightly condensed so that they fit 960 px unbroken
        self.text.value = ("<pre style='font-size:12px;letter-spacing:-0.55px;white-space:pre;margin:0'>"
                           + html.escape(self.result.text) + "</pre>")
        self.sample.value = t("viz.views.xentop.sampled", now=self.machine.now / 1e9, s=self.delay_ns / 1e9)
