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
    def __init__(self):
        import bqplot as bq
        import ipywidgets as W
        a = perf_arrays()
        sx, sy = bq.OrdinalScale(), bq.LinearScale(min=0.0, max=1.1)
        self.bars = bq.Bars(x=a["x"], y=a["y"], scales={"x": sx, "y": sy}, type="grouped",
                            colors=a["colors"], labels=a["configs"], display_legend=True)
        self.figure = bq.Figure(marks=[self.bars], title=t("viz.perf.title"),
                                axes=[bq.Axis(scale=sx), bq.Axis(scale=sy, orientation="vertical")],
                                animation_duration=0, layout=W.Layout(width="100%", height="360px"))
        self.widget = self.figure
