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
    keys = list(rows[0])
    head = "".join(f"<th>{t(f'viz.blkio.column.{k}')}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{r[k]}</td>" for k in keys) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


class BlkView(View):
    def __init__(self, machine, events=()):
        import bqplot as bq
        import ipywidgets as W
        self.machine = machine
        self.table = W.HTML()
        sx, sy = bq.LinearScale(), bq.LinearScale()
        self.bars = bq.FlexLine(x=[], y=[], scales={"x": sx, "y": sy})
        self.points = bq.Scatter(x=[], y=[], scales={"x": sx, "y": sy}, colors=["#2ca02c"])
        ax = [bq.Axis(scale=sx, label=t("viz.blkio.time_axis")),
              bq.Axis(scale=sy, orientation="vertical", label=t("viz.blkio.sector_axis"))]
        self.figure = bq.Figure(marks=[self.points], axes=ax, animation_duration=0,
                                layout=W.Layout(width="100%", height="260px"))
        self.widget = W.VBox([self.table, self.figure])
        self.update(events)

    def update(self, events=()) -> None:
        self.table.value = rows_html(vbd_rows(self.machine))
        tl = io_timeline(events)
        with self.points.hold_sync():
            self.points.x, self.points.y = tl["end_ms"], tl["sector"]
