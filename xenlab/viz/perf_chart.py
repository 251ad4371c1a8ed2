"""Figure 3 of SOSP'03 as a grouped bar chart: L, X, V, U relative to native Linux (chapter 12).

``perf_arrays()`` is the pure part: one row of bar heights per configuration, in the paper's order;
``PerfChart()`` draws it with bqplot (grouped bars, one colour per configuration).
"""
from __future__ import annotations

import numpy as np

from xenlab.i18n import t
from xenlab.perf import fig3, relative
from xenlab.viz.base import View

COLORS = {"L": "#3c3c3c", "X": "#d62728", "V": "#1f77b4", "U": "#2ca02c"}


def perf_arrays(use_bar_heights: bool = False) -> dict:
    """x: benchmark names; y: array (4 configs x 6 benchmarks); labels: the absolute values printed on bars."""
    fig = fig3()
    if use_bar_heights:
        y = np.array(fig["bar_heights"], dtype=float).T
    else:
        rel = relative(fig)
        y = np.array([rel[b] for b in fig["benchmarks"]], dtype=float).T
    labels = np.array(fig["absolute"]).T
    return {"x": list(fig["benchmarks"]), "configs": list(fig["configs"]), "y": y, "labels": labels,
            "colors": [COLORS[c] for c in fig["configs"]]}


class PerfChart(View):
    """The grouped bars, an axis saying what 1.0 means, and a legend that spells out L, X, V and U."""

    def __init__(self):
        import bqplot as bq
        import ipywidgets as W
        from xenlab.viz import theme
        a = perf_arrays()
        sx, sy = bq.OrdinalScale(), bq.LinearScale(min=0.0, max=1.1)
        font = theme.axis_font()
        self.bars = bq.Bars(x=a["x"], y=a["y"], scales={"x": sx, "y": sy}, type="grouped",
                            colors=[theme.PLATFORM[c] for c in a["configs"]])
        self.figure = bq.Figure(marks=[self.bars], title=t("viz.perf.title"),
                                axes=[bq.Axis(scale=sx, tick_style=font),
                                      bq.Axis(scale=sy, side="left", tick_format=".1f", tick_style=font,
                                              label=t("viz.views.perf.y_axis"))],
                                fig_margin={"top": 40, "bottom": 45, "left": 70, "right": 20},
                                animation_duration=0, layout=W.Layout(**theme.fitted_figure_layout(360)))
        self.legend = W.HTML(theme.legend_html([(t(f"viz.views.perf.{c}"), theme.PLATFORM[c]) for c in a["configs"]]))
        self.widget = W.VBox([self.figure, self.legend], layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
