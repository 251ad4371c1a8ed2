"""The block I/O view (chapter 10): each virtual disk's counters and the life of its recent I/Os.

Pure functions: ``vbd_rows(machine)`` gives one row per virtual disk (xentop's VBD_RD, VBD_WR, VBD_OO
and sectors); ``io_timeline(events)`` turns recorded trace events into bars (submit -> done) per I/O.
``BlkView`` shows both with ipywidgets/bqplot; its words come from ``viz.blkio.*`` in the io catalogue.
"""
from __future__ import annotations

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View


def vbd_rows(machine) -> list[dict]:
    rows = []
    for (domid, devid), b in sorted(machine.xend.devices.blkback.blkifs.items()):
        d = machine.domains.get(domid)
        s = b.stats
        rows.append({"domain": d.name if d else domid, "vbd": devid, "image": b.image, "mode": "r" if b.readonly else "w",
                     "sectors": b.sectors, "rd_req": s.rd_req, "wr_req": s.wr_req, "oo_req": s.oo_req,
                     "rd_sect": s.rd_sect, "wr_sect": s.wr_sect, "errors": s.err_req,
                     "events_sent": s.notify_sent, "events_held": s.notify_held, "broken": b.broken})
    return rows


def io_timeline(events) -> dict:
    """Arrays for a Gantt-like chart of finished I/Os: start and end (ms), sector, op, status."""
    done = [e for e in events if e.cls == "IO" and e.name == "blk_done"]
    end = np.array([e.time for e in done], dtype=float) / 1e6
    start = end - np.array([e["latency_ns"] for e in done], dtype=float) / 1e6
    return {"start_ms": start, "end_ms": end, "sector": np.array([e["sector"] for e in done], dtype=int),
            "op": [e["op"] for e in done], "status": np.array([e["status"] for e in done], dtype=int)}


def rows_html(rows: list[dict]) -> str:
    """``vbd_rows`` as an HTML table, its column heads in the current language."""
    if not rows:
        return f"<i>{t('viz.blkio.empty')}</i>"
    from xenlab.viz.theme import FONT_PX, MAX_WIDTH_PX
    keys = list(rows[0])

    def cell(v):                      # a flag reads as yes/no in the student's language, never "False"
        return t("viz.views.yes") if v is True else t("viz.views.no") if v is False else v
    head = "".join(f"<th>{t(f'viz.blkio.column.{k}')}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{cell(r[k])}</td>" for k in keys) + "</tr>" for r in rows)
    return (f"<div style='max-width:{MAX_WIDTH_PX}px;font-size:{FONT_PX}px'>"
            f"<table style='border-collapse:collapse'><tr>{head}</tr>{body}</table></div>")


class BlkView(View):
    """The virtual disks' counters and each finished I/O as a point (time, sector): green if it
    succeeded (BLKIF_RSP_OKAY), orange-red if it failed (BLKIF_RSP_ERROR), with a legend."""

    def __init__(self, machine, events=()):
        import bqplot as bq
        import ipywidgets as W
        from xenlab.viz import theme
        self.machine = machine
        self.table = W.HTML()
        self.sx, self.sy = bq.LinearScale(min=0, max=1), bq.LinearScale(min=0, max=1)
        self.points = bq.Scatter(x=[], y=[], scales={"x": self.sx, "y": self.sy}, colors=[theme.OK],
                                 default_size=40)
        font = theme.axis_font()
        ax = [bq.Axis(scale=self.sx, label=t("viz.blkio.time_axis"), tick_style=font),
              bq.Axis(scale=self.sy, side="left", label=t("viz.blkio.sector_axis"), tick_style=font,
                      label_offset="55px", tick_format="d")]
        self.figure = bq.Figure(marks=[self.points], axes=ax, animation_duration=0,
                                fig_margin={"top": 20, "bottom": 45, "left": 80, "right": 20},
                                layout=W.Layout(**theme.fitted_figure_layout(260)))
        self.legend = W.HTML()
        self.widget = W.VBox([self.table, self.figure, self.legend],
                             layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
        self.update(events)

    def update(self, events=()) -> None:
        from xenlab.viz import theme
        self.table.value = rows_html(vbd_rows(self.machine))
        tl = io_timeline(events)
        ok = tl["status"] >= 0
        colours = [theme.OK if good else theme.REFUSED for good in ok]
        x, y = tl["end_ms"], tl["sector"].astype(float)
        with self.points.hold_sync():
            if x.size:
                pad_x, pad_y = max(np.ptp(x) * 0.05, 0.05), max(np.ptp(y) * 0.05, 1.0)
                self.sx.min, self.sx.max = float(x.min() - pad_x), float(x.max() + pad_x)
                self.sy.min, self.sy.max = float(y.min() - pad_y), float(y.max() + pad_y)
            self.points.x, self.points.y = x, y
            self.points.colors = colours or [theme.OK]
        self.legend.value = theme.legend_html([(t("viz.views.blk.ok", n=int(ok.sum())), theme.OK),
                                               (t("viz.views.blk.failed", n=int((~ok).sum())), theme.REFUSED)])
