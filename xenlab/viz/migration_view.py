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
    def __init__(self, report):
        import bqplot as bq
        import ipywidgets as W
        a = migration_arrays(report)
        xs, ys = bar_outlines(a)
        sx, sy = bq.LinearScale(min=0.0), bq.LinearScale(min=0.0)
        colors = ["#d62728" if last else "#1f77b4" for last in a["last"]]
        self.bars = bq.Lines(x=xs, y=ys, scales={"x": sx, "y": sy}, fill="inside", colors=colors,
                             fill_colors=colors, fill_opacities=[0.6] * len(colors))
        labels_x = (a["start_s"] + a["end_s"]) / 2
        self.labels = bq.Label(x=labels_x, y=a["rate_mbit"] + 10, scales={"x": sx, "y": sy},
                               text=[f"{mb:.1f} MB" for mb in a["sent_mb"]], align="middle", default_size=10)
        self.figure = bq.Figure(marks=[self.bars, self.labels], title=t("viz.migration.title") + " - " +
                                t("viz.migration.downtime", ms=a["downtime_ms"]), animation_duration=0,
                                axes=[bq.Axis(scale=sx, label=t("viz.migration.x")),
                                      bq.Axis(scale=sy, orientation="vertical", label=t("viz.migration.y"))],
                                layout=W.Layout(width="100%", height="340px"))
        self.widget = self.figure
