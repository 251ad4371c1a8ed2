"""The event-channel view (chapter 6): each port's state, the pending/mask bits as a grid, a delivery.

Pure functions: ``evtchn_grid(d, nr_ports)`` reads the bits from the real shared_info frame;
``port_rows(d)`` lists the ports in use; ``delivery_frames(...)`` replays Xen's four set-pending
steps on copies of the bitmaps, one frame per step, so a student watches where a delivery stops
(already pending, masked, selector already set) or reaches the upcall. ``EvtchnView`` draws them.
"""
from __future__ import annotations

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View
from xenlab.xen.event import port_is_masked, port_is_pending, vcpu_info_read
from xenlab.xen.evtchn import ECS_FREE, ECS_NAMES

COLS = 32                  # one row per 32-bit word of evtchn_pending: the 2-level layout
CELL_FREE, CELL_IDLE, CELL_PENDING, CELL_MASKED, CELL_BOTH = 0, 1, 2, 3, 4


def evtchn_grid(d, nr_ports: int = 128) -> dict:
    """Cells (rows = words, cols = bits): 0 free, 1 in use, 2 pending, 3 masked, 4 pending and masked."""
    rows = -(-nr_ports // COLS)
    cells = np.zeros((rows, COLS), dtype=int)
    pending = np.zeros((rows, COLS), dtype=bool)
    masked = np.zeros((rows, COLS), dtype=bool)
    for port in range(rows * COLS):
        r, c = divmod(port, COLS)
        p, m = port_is_pending(d, port), port_is_masked(d, port)
        pending[r, c], masked[r, c] = p, m
        used = d.evtchn[port].state != ECS_FREE
        cells[r, c] = CELL_BOTH if p and m else CELL_PENDING if p else CELL_MASKED if m else (
            CELL_IDLE if used else CELL_FREE)
    sel = [vcpu_info_read(v, "evtchn_pending_sel") for v in d.vcpus]
    upcall = [(vcpu_info_read(v, "evtchn_upcall_pending"), vcpu_info_read(v, "evtchn_upcall_mask")) for v in d.vcpus]
    return {"cells": cells, "pending": pending, "masked": masked, "selectors": sel, "upcall": upcall}


def port_rows(d) -> list[dict]:
    out = []
    for port, chn in enumerate(d.evtchn):
        if chn.state != ECS_FREE:
            out.append({"port": port, "state": ECS_NAMES[chn.state], "what": chn.describe(),
                        "vcpu": chn.notify_vcpu_id, "pending": port_is_pending(d, port),
                        "masked": port_is_masked(d, port)})
    return out


def delivery_frames(pending: int, mask: int, sel: int, upcall_pending: int, port: int,
                    bits_per_long: int = 32) -> list[dict]:
    """evtchn_set_pending step by step on plain integers (pending/mask as big bitmaps).

    Each frame has the bitmaps after the step, the step's caption and ``stopped`` (why it ended).
    """
    frames = []
    bit = 1 << port
    was = bool(pending & bit)
    pending |= bit
    frames.append({"pending": pending, "sel": sel, "upcall": upcall_pending,
                   "text": t("viz.cpu.evtchn.step1", port=port, was=int(was))})
    if was:
        frames[-1]["stopped"] = "already pending"
        return frames
    masked = bool(mask & bit)
    frames.append({"pending": pending, "sel": sel, "upcall": upcall_pending,
                   "text": t("viz.cpu.evtchn.step2", masked=int(masked))})
    if masked:
        frames[-1]["stopped"] = "masked"
        return frames
    word = port // bits_per_long
    was = bool(sel & (1 << word))
    sel |= 1 << word
    frames.append({"pending": pending, "sel": sel, "upcall": upcall_pending,
                   "text": t("viz.cpu.evtchn.step3", word=word, was=int(was))})
    if was:
        frames[-1]["stopped"] = "selector already set"
        return frames
    frames.append({"pending": pending, "sel": sel, "upcall": 1,
                   "text": t("viz.cpu.evtchn.step4", was=upcall_pending)})
    frames[-1]["stopped"] = "upcall already pending" if upcall_pending else "upcall"
    return frames


def frames_for_port(d, port: int, vcpu: int = 0) -> list[dict]:
    """delivery_frames from the domain's current bits (nothing in the machine changes)."""
    g = evtchn_grid(d, max(port + 1, COLS))
    pend = sum(1 << (r * COLS + c) for r, c in zip(*np.nonzero(g["pending"])))
    mask = sum(1 << (r * COLS + c) for r, c in zip(*np.nonzero(g["masked"])))
    up, _ = g["upcall"][vcpu]
    return delivery_frames(pend, mask, g["selectors"][vcpu], up, port)


class EvtchnView(View):
    """Ports of one domain as a grid, a table of ports in use, and an animated delivery."""

    ERROR_KEY = "viz.cpu.error"

    def __init__(self, machine, domid: int = 0, nr_ports: int = 64):
        import bqplot as bq
        import ipywidgets as W
        self.machine, self.domid, self.nr_ports = machine, domid, nr_ports
        self.errors: list[str] = []
        self.frames: list[dict] = []
        self.frame = 0
        rows = -(-nr_ports // COLS)
        cs = bq.ColorScale(min=0, max=4, colors=["#f4f4f4", "#c8d8ec", "#2ca02c", "#b0b0b0", "#e08a2c"])
        self.grid = bq.GridHeatMap(color=np.zeros((rows, COLS)), scales={"color": cs,
                                   "row": bq.OrdinalScale(reverse=False), "column": bq.OrdinalScale()})
        self.figure = bq.Figure(marks=[self.grid], title=t("viz.cpu.evtchn.title", domid=domid),
                                animation_duration=0, layout=W.Layout(width="100%", height="200px"))
        self.table = W.HTML()
        self.port = W.BoundedIntText(description=t("viz.cpu.evtchn.port"), min=1, max=nr_ports - 1, value=1)
        self.caption = W.Label()
        self.error_box = W.HTML()
        refresh = W.Button(description=t("viz.cpu.evtchn.refresh"))
        animate = W.Button(description=t("viz.cpu.evtchn.animate"), icon="play")
        nxt = W.Button(icon="step-forward")
        refresh.on_click(self._guarded(lambda *_: self.redraw()))
        animate.on_click(self._guarded(lambda *_: self.start_delivery(self.port.value)))
        nxt.on_click(self._guarded(lambda *_: self.next_frame()))
        self.widget = W.VBox([self.figure, W.HBox([refresh, self.port, animate, nxt]), self.caption,
                              self.table, self.error_box])
        self.redraw()

    def domain(self):
        return self.machine.domains[self.domid]

    def redraw(self):
        d = self.domain()
        g = evtchn_grid(d, self.nr_ports)
        with self.grid.hold_sync():
            self.grid.color = g["cells"].astype(float)
        rows = port_rows(d)
        self.table.value = "<pre>" + "\n".join(
            f"port {r['port']:4d} {'P' if r['pending'] else '-'}{'M' if r['masked'] else '-'} {r['what']}"
            for r in rows) + "\n" + "  ".join(f"vcpu{i}: sel={s:#010x} upcall_pending={u} mask={mk}"
                                            for i, (s, (u, mk)) in enumerate(zip(g["selectors"], g["upcall"]))) + "</pre>"

    def start_delivery(self, port: int):
        self.frames = frames_for_port(self.domain(), port)
        self.frame = 0
        self._show()

    def next_frame(self):
        if self.frame + 1 < len(self.frames):
            self.frame += 1
        self._show()

    def _show(self):
        if not self.frames:
            return
        f = self.frames[self.frame]
        cells = evtchn_grid(self.domain(), self.nr_ports)["cells"].copy()
        for port in range(cells.size):
            if f["pending"] >> port & 1 and cells.flat[port] in (CELL_FREE, CELL_IDLE):
                cells.flat[port] = CELL_PENDING
        with self.grid.hold_sync():
            self.grid.color = cells.astype(float)
        stop = f.get("stopped")
        self.caption.value = f["text"] + (" - " + t("viz.cpu.evtchn.stop", why=stop) if stop else "")
