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


CELL_KEYS = ("free", "idle", "pending", "masked", "both")     # viz.views.evtchn.cell.*


def port_text(chn) -> str:
    """A port's state as Xen names it (ECS_*), with its binding, in the student's language."""
    from xenlab.xen import evtchn as E
    state = "ECS_" + ECS_NAMES[chn.state].upper()
    if chn.state == E.ECS_UNBOUND:
        return t("viz.views.evtchn.unbound", state=state, remote=chn.remote_domid)
    if chn.state == E.ECS_INTERDOMAIN:
        return f"{state} ↔ d{chn.remote_domid}:{chn.remote_port}"
    if chn.state == E.ECS_VIRQ:
        from xenlab.xen.public import xen as X
        names = {v: k for k, v in vars(X).items() if k.startswith("VIRQ_") and isinstance(v, int)}
        return f"{state} {names.get(chn.virq, chn.virq)} → vcpu{chn.notify_vcpu_id}"
    if chn.state == E.ECS_PIRQ:
        return f"{state} pirq {chn.pirq}"
    if chn.state == E.ECS_IPI:
        return f"{state} → vcpu{chn.notify_vcpu_id}"
    return state


class EvtchnView(View):
    """Ports of one domain as a grid (a row per 32-bit word of evtchn_pending, a column per bit), a table
    of ports in use, and a delivery replayed step by step on copies of the bits (the machine is not
    changed; the text under the grid shows the replay's bits while a replay is on)."""

    ERROR_KEY = "viz.cpu.error"

    def __init__(self, machine, domid: int = 0, nr_ports: int = 64):
        import bqplot as bq
        import ipywidgets as W
        from xenlab.viz import theme
        self.machine, self.domid, self.nr_ports = machine, domid, nr_ports
        self.errors: list[str] = []
        self.frames: list[dict] = []
        self.frame = 0
        rows = -(-nr_ports // COLS)
        self.cell_colours = [theme.FREE, "#c8d8ec", theme.OK, theme.HARDWARE, theme.DOM0]
        cs = bq.ColorScale(min=0, max=4, colors=self.cell_colours)
        row_scale, col_scale = bq.OrdinalScale(reverse=True), bq.OrdinalScale()
        self.grid = bq.GridHeatMap(color=np.zeros((rows, COLS)), row=np.arange(rows), column=np.arange(COLS),
                                   scales={"color": cs, "row": row_scale, "column": col_scale},
                                   stroke="white")
        font = theme.axis_font()
        self.figure = bq.Figure(marks=[self.grid], title=t("viz.cpu.evtchn.title", domid=domid),
                                animation_duration=0,
                                fig_margin={"top": 40, "bottom": 50, "left": 90, "right": 20},
                                axes=[bq.Axis(scale=row_scale, side="left", tick_style=font,
                                              label=t("viz.views.evtchn.row_axis")),
                                      bq.Axis(scale=col_scale, tick_style=font, label=t("viz.views.evtchn.col_axis"),
                                              tick_values=list(range(0, COLS, 4)))],
                                layout=W.Layout(**theme.fitted_figure_layout(130 + 36 * rows)))
        self.legend = W.HTML(theme.legend_html([(t(f"viz.views.evtchn.cell.{k}"), c)
                                                for k, c in zip(CELL_KEYS, self.cell_colours)]))
        self.table = W.HTML()
        self.port = W.BoundedIntText(description=t("viz.cpu.evtchn.port"), min=1, max=nr_ports - 1, value=1,
                                     layout=W.Layout(width="200px"))
        self.caption = W.HTML()
        self.error_box = W.HTML()
        refresh = W.Button(description=t("viz.cpu.evtchn.refresh"), icon="refresh", layout=theme.button_layout(),
                           tooltip=t("viz.views.evtchn.refresh_tip"))
        animate = W.Button(description=t("viz.cpu.evtchn.animate"), icon="play", layout=theme.button_layout(),
                           tooltip=t("viz.views.evtchn.animate_tip"))
        nxt = W.Button(description=t("viz.views.evtchn.next"), icon="step-forward", layout=theme.button_layout(),
                       tooltip=t("viz.views.evtchn.next_tip"))
        refresh.on_click(self._guarded(lambda *_: self.refresh()))
        animate.on_click(self._guarded(lambda *_: self.start_delivery(self.port.value)))
        nxt.on_click(self._guarded(lambda *_: self.next_frame()))
        self.port.observe(self._guarded(lambda *_: self.start_delivery(self.port.value)), names="value")
        self.widget = W.VBox([self.figure, self.legend, theme.controls_row([refresh, self.port, animate, nxt]),
                              self.caption, self.table, self.error_box],
                             layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
        self.redraw()

    def domain(self):
        return self.machine.domains[self.domid]

    def refresh(self):
        """Back to the machine's bits (ends a replay), with the time they were read."""
        self.frames, self.frame = [], 0
        self.redraw()
        self.caption.value = t("viz.views.evtchn.refreshed", now=self.machine.now / 1e6)

    def redraw(self, frame: dict | None = None):
        from xenlab.viz import theme
        d = self.domain()
        g = evtchn_grid(d, self.nr_ports)
        cells = g["cells"].copy()
        sels, upcalls = list(g["selectors"]), [u for u, _ in g["upcall"]]
        if frame is not None:                       # the replay's bits, not the machine's
            for port in range(cells.size):
                if frame["pending"] >> port & 1 and cells.flat[port] in (CELL_FREE, CELL_IDLE):
                    cells.flat[port] = CELL_PENDING
            sels[0], upcalls[0] = frame["sel"], frame["upcall"]
        with self.grid.hold_sync():
            self.grid.color = cells.astype(float)
        lines = [f"port {r['port']:4d}  {'P' if r['pending'] else '-'}{'M' if r['masked'] else '-'}  "
                 f"{port_text(d.evtchn[r['port']])}" for r in port_rows(d)]
        lines += [f"vcpu{i}: evtchn_pending_sel={s:#010x} evtchn_upcall_pending={u} evtchn_upcall_mask={mk}"
                  for i, (s, u, (_, mk)) in enumerate(zip(sels, upcalls, g["upcall"]))]
        if frame is not None:
            lines.append(t("viz.views.evtchn.replay_note"))
        self.table.value = theme.pre_html("\n".join(lines))

    def start_delivery(self, port: int):
        from xenlab.xen.evtchn import ECS_FREE
        d = self.domain()
        if port >= len(d.evtchn) or d.evtchn[port].state == ECS_FREE:
            # evtchn_send on a free port fails with -EINVAL before anything is set: nothing to deliver
            self.frames, self.frame = [], 0
            self.redraw()
            self.caption.value = t("viz.views.evtchn.free", port=port)
            return
        self.frames = frames_for_port(d, port)
        self.frame = 0
        self._show()

    def next_frame(self):
        if not self.frames:
            self.caption.value = t("viz.views.evtchn.no_replay")
            return
        if self.frame + 1 < len(self.frames):
            self.frame += 1
        else:
            self.caption.value = self._caption() + " " + t("viz.views.evtchn.last_step")
            return
        self._show()

    def _caption(self) -> str:
        f = self.frames[self.frame]
        stop = f.get("stopped")
        text = f"{self.frame + 1}/{len(self.frames)} {f['text']}"
        return text + (" – " + t("viz.cpu.evtchn.stop", why=t(f"viz.views.evtchn.stop.{stop.replace(' ', '_')}"))
                       if stop else "")

    def _show(self):
        if not self.frames:
            return
        self.redraw(self.frames[self.frame])
        self.caption.value = self._caption()
