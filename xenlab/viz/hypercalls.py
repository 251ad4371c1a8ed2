"""The hypercall tracer (chapter 5): a live, filterable stream, counts per hypercall, replay, rings.

The model side is pure: ``tracer_rows(events, ...)`` turns trace events (PV:hypercall/hypercall_ret,
HW:*, HVM:*) into table rows with decoded arguments and the errno name; ``hypercall_counts`` gives
the bar chart; ``ring_steps`` turns the events into a walk through the privilege rings
(3 -> 1 -> 0 and back; an HVM guest's exits are drawn from guest ring 0 to Xen's ring "-1", i.e.
VMX root mode). ``HypercallTracer`` is the thin widget over them.
"""
from __future__ import annotations

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View

VMX_ROOT = -1          # where the ring view draws Xen when it takes a VM exit
CLASSES = ("PV", "HW", "HVM")


def decode(value, depth: int = 0) -> str:
    """A trace payload value (plain data) as C-like text: evtchn_send(port=3), [trap_info(...), ...]."""
    if isinstance(value, tuple) and value and isinstance(value[0], str) and all(
            isinstance(p, tuple) and len(p) == 2 for p in value[1:]):
        inner = ", ".join(f"{k}={decode(v, depth + 1)}" for k, v in value[1:])
        return f"{value[0]}({inner})"
    if isinstance(value, tuple):
        items = [decode(v, depth + 1) for v in value[:4]]
        more = ", ..." if len(value) > 4 else ""
        return ("[" if depth else "") + ", ".join(items) + more + ("]" if depth else "")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0xFFFF:
        return hex(value)
    return repr(value) if isinstance(value, str) else str(value)


def tracer_rows(events, domid: int | None = None, text: str = "") -> list[dict]:
    """One row per completed hypercall (call matched with its return), filtered by domain and text."""
    rows, open_calls = [], {}
    for ev in events:
        if ev.cls != "PV":
            continue
        key = (ev.domid, ev.vcpu)
        if ev.name == "hypercall":
            open_calls.setdefault(key, []).append(ev)
        elif ev.name == "hypercall_ret":
            call = open_calls.get(key, [None]).pop() if open_calls.get(key) else None
            args = decode(call["args"]) if call is not None else ""
            row = {"seq": ev.seq, "time_ms": ev.time / 1e6, "domid": ev.domid, "vcpu": ev.vcpu,
                   "name": ev["op"], "nr": ev["nr"], "args": args, "rc": ev["rc"], "errno": ev["errno"]}
            if domid is not None and row["domid"] != domid:
                continue
            if text and text.lower() not in f"{row['name']} {row['args']} {row['errno']}".lower():
                continue
            rows.append(row)
    return rows


def result_text(row: dict) -> str:
    return str(row["rc"]) if row["rc"] >= 0 else f"{row['rc']} ({row['errno'].lstrip('-')})"


def hypercall_counts(rows) -> tuple[list[str], np.ndarray]:
    """Names (most called first, ties by name) and counts, for the bar chart."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["name"]] = counts.get(r["name"], 0) + 1
    names = sorted(counts, key=lambda n: (-counts[n], n))
    return names, np.array([counts[n] for n in names], dtype=int)


def ring_steps(events, domid: int | None = None) -> list[tuple[str, tuple[int, ...]]]:
    """Each control transfer as (label, rings visited): hypercalls (1, 0, 1), traps (3, 0, 1) ..."""
    steps = []
    for ev in events:
        if domid is not None and ev.domid != domid:
            continue
        if ev.cls == "PV" and ev.name == "hypercall":
            steps.append((f"hypercall {ev['op']}", (1, 0, 1)))
        elif ev.cls == "HW" and ev.name == "ring":
            steps.append((ev["why"], tuple(ev["path"])))
        elif ev.cls == "HVM" and ev.name == "vmexit":
            steps.append((f"VM exit {ev['reason_name']}", (0, VMX_ROOT, 0)))
        elif ev.cls == "HVM" and ev.name == "native":
            steps.append((f"native {ev.data.get('insn', ev.data.get('op'))}", (0,)))
    return steps


def ring_arrays(steps, cursor: int | None = None) -> dict:
    """x (time step) and y (ring) of the walk up to ``cursor`` steps, for a line plot."""
    shown = steps if cursor is None else steps[:cursor]
    xs, ys, x = [], [], 0.0
    for _, path in shown:
        for k, ring in enumerate(path):
            xs.append(x + k / max(len(path), 1))
            ys.append(ring)
        x += 1.0
    return {"x": np.array(xs, dtype=float), "y": np.array(ys, dtype=float),
            "label": shown[-1][0] if shown else ""}


def rows_html(rows, limit: int = 25) -> str:
    head = t("viz.cpu.tracer.columns").split("|")
    out = ["<table style='font-family:monospace;font-size:12px'><tr>" +
           "".join(f"<th style='text-align:left'>{h}</th>" for h in head) + "</tr>"]
    for r in rows[-limit:]:
        colour = "#2ca02c" if r["rc"] >= 0 else "#d62728"
        out.append(f"<tr><td>{r['time_ms']:.3f}</td><td>{r['domid']}</td><td>{r['vcpu']}</td><td>{r['name']}</td>"
                   f"<td>{r['args'][:80]}</td><td style='color:{colour}'>{result_text(r)}</td></tr>")
    out.append("</table>")
    return "".join(out)


class HypercallTracer(View):
    """Live tracer: ``view = HypercallTracer(machine)`` records from now on; buttons run and replay."""

    ERROR_KEY = "viz.cpu.error"

    def __init__(self, machine, *, events=None, run_ns: int = 10_000_000, limit: int = 25):
        import bqplot as bq
        import ipywidgets as W
        self.machine, self.run_ns, self.limit = machine, int(run_ns), limit
        self.events = list(events or [])
        self.errors: list[str] = []
        self.cursor = 0
        self._unsub = machine.trace.subscribe(self.events.append, classes=CLASSES) if events is None else None
        self.domain = W.Dropdown(description=t("viz.cpu.tracer.domain"), options=self._domain_options())
        self.filter = W.Text(description=t("viz.cpu.tracer.filter"), value="")
        self.table = W.HTML()
        xs, ys = bq.OrdinalScale(), bq.LinearScale(min=0)
        self.bars = bq.Bars(x=[], y=[], scales={"x": xs, "y": ys}, colors=["#3c78c8"])
        self.bar_fig = bq.Figure(marks=[self.bars], title=t("viz.cpu.tracer.title"), animation_duration=0,
                                 axes=[bq.Axis(scale=xs, tick_rotate=-30), bq.Axis(scale=ys, side="left")],
                                 layout=W.Layout(width="100%", height="260px"))
        rx, ry = bq.LinearScale(), bq.LinearScale(min=VMX_ROOT - 0.5, max=3.5)
        self.rings = bq.Lines(x=[], y=[], scales={"x": rx, "y": ry}, marker="circle", colors=["#e08a2c"])
        self.ring_fig = bq.Figure(marks=[self.rings], title=t("viz.cpu.tracer.rings"), animation_duration=0,
                                  axes=[bq.Axis(scale=ry, side="left", label=t("viz.cpu.tracer.ring_axis"),
                                                tick_values=[VMX_ROOT, 0, 1, 2, 3])],
                                  layout=W.Layout(width="100%", height="220px"))
        self.caption = W.Label()
        self.error_box = W.HTML()
        run = W.Button(description=t("viz.cpu.tracer.run"))
        back = W.Button(description=t("viz.cpu.tracer.back"), icon="step-backward")
        fwd = W.Button(description=t("viz.cpu.tracer.forward"), icon="step-forward")
        run.on_click(self._guarded(self.run))
        back.on_click(self._guarded(lambda *_: self.step(-1)))
        fwd.on_click(self._guarded(lambda *_: self.step(+1)))
        self.domain.observe(self._guarded(lambda *_: self.redraw()), names="value")
        self.filter.observe(self._guarded(lambda *_: self.redraw()), names="value")
        self.widget = W.VBox([W.HBox([self.domain, self.filter, run]), self.table, self.bar_fig,
                              self.ring_fig, W.HBox([back, fwd, self.caption]), self.error_box])
        self.redraw()

    def _domain_options(self):
        return [(t("viz.cpu.tracer.all"), None)] + [(f"{d.name} ({i})", i) for i, d in sorted(self.machine.domains.items())]

    def run(self, *_):
        self.machine.run_for(self.run_ns)
        self.domain.options = self._domain_options()
        self.cursor = len(ring_steps(self.events, self.domain.value))
        self.redraw()

    def step(self, delta: int):
        n = len(ring_steps(self.events, self.domain.value))
        self.cursor = min(max(self.cursor + delta, 0), n)
        self.redraw()

    def redraw(self):
        rows = tracer_rows(self.events, self.domain.value, self.filter.value)
        self.table.value = rows_html(rows, self.limit) if rows else t("viz.cpu.tracer.empty")
        names, counts = hypercall_counts(rows)
        with self.bars.hold_sync():
            self.bars.x, self.bars.y = names, counts
        steps = ring_steps(self.events, self.domain.value)
        a = ring_arrays(steps, self.cursor)
        with self.rings.hold_sync():
            self.rings.x, self.rings.y = a["x"], a["y"]
        self.caption.value = t("viz.cpu.tracer.step", i=self.cursor, n=len(steps), text=a["label"])

    def close(self):
        if self._unsub:
            self._unsub()
            self._unsub = None
