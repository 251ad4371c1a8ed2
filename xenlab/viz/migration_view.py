"""The timeline of a live migration (chapter 14), drawn like NSDI'05's Figure 9.

``migration_arrays(report)`` is the pure part: per iteration its start and end (s), the MB it sent,
the transfer rate and the rate the guest dirtied memory at, and the downtime; ``MigrationView``
draws one bar per iteration (width = its duration, height = its rate), the final stop-and-copy in red.
"""
from __future__ import annotations

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View


def migration_arrays(report) -> dict:
    its = report.iterations
    t0 = report.started_at
    start = np.array([(i.start_ns - t0) / 1e9 for i in its])
    end = np.array([(i.end_ns - t0) / 1e9 for i in its])
    sent_mb = np.array([i.sent * 4096 / 1e6 for i in its])
    dur = np.maximum(end - start, 1e-9)
    dirty_mbit = np.array([i.dirtied * 4096 * 8 / 1e6 for i in its]) / dur
    return {"iteration": np.array([i.iteration for i in its]), "start_s": start, "end_s": end,
            "sent_pages": np.array([i.sent for i in its]), "sent_mb": sent_mb,
            "rate_mbit": np.array([i.rate_mbit for i in its], dtype=float),
            "dirty_mbit": dirty_mbit, "last": np.array([i.last for i in its]),
            "downtime_ms": report.downtime_ns / 1e6, "total_s": report.total_ns / 1e9}


def bar_outlines(a: dict) -> tuple[np.ndarray, np.ndarray]:
    """One closed rectangle per iteration: x from start to end, y from 0 to the rate."""
    xs = np.stack([a["start_s"], a["end_s"], a["end_s"], a["start_s"], a["start_s"]], axis=1)
    ys = np.stack([np.zeros_like(a["rate_mbit"]), np.zeros_like(a["rate_mbit"]), a["rate_mbit"],
                   a["rate_mbit"], np.zeros_like(a["rate_mbit"])], axis=1)
    return xs, ys


class MigrationView(View):
    """One bar per pre-copy iteration (width its duration, height its rate), the stop-and-copy in the
    colour of a refusal-free "last" step; a bar's MB are written above it when the bar is wide enough
    for the text (a legend and the table-like caption say the rest)."""

    PLOT_PX = 860            # the plot area's width at the output area's width, for the label test

    def __init__(self, report):
        import bqplot as bq
        import ipywidgets as W
        from xenlab.viz import theme
        a = migration_arrays(report)
        xs, ys = bar_outlines(a)
        total = max(float(a["end_s"].max()) if a["end_s"].size else 1.0, 1e-6)
        top = max(float(a["rate_mbit"].max()) if a["rate_mbit"].size else 1.0, 1e-6)
        sx, sy = bq.LinearScale(min=0.0, max=total * 1.02), bq.LinearScale(min=0.0, max=top * 1.2)
        colors = [theme.REFUSED if last else theme.DOMU_COLOURS[0] for last in a["last"]]
        self.bars = bq.Lines(x=xs, y=ys, scales={"x": sx, "y": sy}, fill="inside", colors=colors,
                             fill_colors=colors, fill_opacities=[0.6] * len(colors))
        wide = (a["end_s"] - a["start_s"]) / total * self.PLOT_PX > 60
        labels_x = ((a["start_s"] + a["end_s"]) / 2)[wide]
        self.labels = bq.Label(x=labels_x, y=(a["rate_mbit"] + top * 0.05)[wide], scales={"x": sx, "y": sy},
                               text=[f"{mb:.1f} MB" for mb in a["sent_mb"][wide]], align="middle",
                               default_size=12, colors=[theme.TEXT])
        font = theme.axis_font()
        marks = [self.bars] + ([self.labels] if wide.any() else [])
        self.figure = bq.Figure(marks=marks, title=t("viz.migration.title") + " – " +
                                t("viz.migration.downtime", ms=a["downtime_ms"]), animation_duration=0,
                                axes=[bq.Axis(scale=sx, label=t("viz.migration.x"), tick_style=font),
                                      bq.Axis(scale=sy, side="left", label=t("viz.migration.y"), tick_style=font,
                                              tick_format="d")],
                                fig_margin={"top": 40, "bottom": 45, "left": 80, "right": 30},
                                layout=W.Layout(**theme.fitted_figure_layout(340)))
        n = len(a["last"])
        self.legend = W.HTML(theme.legend_html([
            (t("viz.views.migration.precopy", n=max(n - 1, 0)), theme.DOMU_COLOURS[0]),
            (t("viz.views.migration.stop_copy", mb=float(a["sent_mb"][-1]) if n else 0.0), theme.REFUSED)]))
        self.widget = W.VBox([self.figure, self.legend], layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
