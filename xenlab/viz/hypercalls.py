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


def _names(module, prefix: str, skip=()) -> dict[int, str]:
    return {v: k for k, v in vars(module).items()
            if k.startswith(prefix) and isinstance(v, int) and not any(x in k for x in skip)}


def _tables():
    """Number -> name tables from the model's copies of Xen's public headers (xen.h, event_channel.h ...)."""
    from xenlab.xen.public import dom0_ops, event_channel, grant_table, memory, xen
    return {
        ("mmuext_op_t", "cmd"): _names(xen, "MMUEXT_"),
        ("evtchn_op", "cmd"): _names(event_channel, "EVTCHNOP_"),
        ("dom0_op", "cmd"): _names(dom0_ops, "DOM0_", skip=("INTERFACE_VERSION", "SHADOW_CONTROL_")),
        ("sched_shutdown", "reason"): _names(xen, "SHUTDOWN_"),
        ("evtchn_bind_virq", "virq"): _names(xen, "VIRQ_"),
        # the first argument of these hypercalls is a command
        ("sched_op", 0): _names(xen, "SCHEDOP_"),
        ("grant_table_op", 0): _names(grant_table, "GNTTABOP_"),
        ("memory_op", 0): _names(memory, "XENMEM_"),
        ("console_io", 0): _names(xen, "CONSOLEIO_"),
        ("vm_assist", 0): _names(xen, "VMASST_CMD_"),
        ("vm_assist", 1): _names(xen, "VMASST_TYPE_"),
    }


_TABLES: dict | None = None
DOMAIN_FIELDS = ("dom", "remote_dom", "domid", "domain", "foreigndom", "rdom", "ldom")
SELECTOR_FIELDS = ("cs", "ss", "ds", "es", "sel", "selector")
# hypercalls whose plain arguments include segment selectors: (op, position)
SELECTOR_ARGS = {("set_callbacks", 0), ("set_callbacks", 2), ("stack_switch", 0)}


def _named(table_key, value):
    global _TABLES
    if _TABLES is None:
        _TABLES = _tables()
    table = _TABLES.get(table_key)
    if table is not None and isinstance(value, int) and value in table:
        return table[value]
    return None


def _scalar(value, field: str | None = None) -> str:
    from xenlab.xen.public.xen import DOMID_SELF
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, bytes):
        return "{0}" if not any(value) else value[:8].hex() + ("…" if len(value) > 8 else "")
    if isinstance(value, int):
        if field in DOMAIN_FIELDS or field == "domid_arg":
            if value == DOMID_SELF:
                return "DOMID_SELF"
        if field in SELECTOR_FIELDS:
            return f"{value:#06x}"
        return hex(value) if value > 0xFFFF else str(value)
    return repr(value) if isinstance(value, str) else str(value)


def decode(value, depth: int = 0, op: str | None = None, field=None, items: int = 3) -> str:
    """A trace payload value (plain data) as C-like text with Xen's names for commands:
    evtchn_op(cmd=EVTCHNOP_send, u=evtchn_send(port=3)); NULL for a null pointer, DOMID_SELF, selectors
    in hex; a long array shows its first ``items`` entries and how many there are."""
    if isinstance(value, tuple) and value and isinstance(value[0], str) and all(
            isinstance(p, tuple) and len(p) == 2 for p in value[1:]):
        struct = value[0]
        parts = []
        for k, v in value[1:]:
            name = _named((struct, k), v)
            parts.append(f"{k}={name if name else decode(v, depth + 1, field=k)}")
        return f"{struct}({', '.join(parts)})"
    if isinstance(value, tuple):
        if depth == 0:                       # the hypercall's arguments
            out = []
            for n, v in enumerate(value):
                name = _named((op, n), v) if op else None
                field = "cs" if (op, n) in SELECTOR_ARGS else "domid_arg" if n == len(value) - 1 else None
                out.append(name if name else decode(v, depth + 1, field=field))
            return ", ".join(out)
        shown = [decode(v, depth + 1) for v in value[:items]]
        more = f", … ({len(value)})" if len(value) > items else ""
        return "[" + ", ".join(shown) + more + "]"
    if isinstance(value, int) and not isinstance(value, bool) and value > 0xFFFF and field is None:
        return hex(value)
    return _scalar(value, field)


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
            args = decode(call["args"], op=ev["op"]) if call is not None else ""
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


def ring_step_seqs(events, domid: int | None = None) -> list[int]:
    """The trace sequence number of each of ``ring_steps``'s steps (same filter, same order)."""
    seqs = []
    for ev in events:
        if domid is not None and ev.domid != domid:
            continue
        if (ev.cls == "PV" and ev.name == "hypercall") or (ev.cls == "HW" and ev.name == "ring") or \
                (ev.cls == "HVM" and ev.name in ("vmexit", "native")):
            seqs.append(ev.seq)
    return seqs


STEP_LABELS = [  # (prefix of ring_steps' label, catalogue key); the rest of the label is a name
    ("hypercall ", "hypercall"), ("VM exit ", "vmexit"), ("native ", "native"), ("emulated ", "emulated"),
    ("crash (trap_route)", "crash_route"), ("crash", "crash"), ("exception", "exception"),
    ("event upcall", "upcall"), ("int80 direct trap gate", "int80"),
    ("direct trap gate (trap_route)", "direct_route"), ("iret", "iret"),
]


def step_label(label: str) -> str:
    """A ring step's label in the student's language (Xen's names kept)."""
    for prefix, key in STEP_LABELS:
        if label.startswith(prefix):
            return t(f"viz.views.tracer.step.{key}", name=label[len(prefix):].strip())
    return label


def rows_html(rows, limit: int = 25, current_seq: int | None = None) -> str:
    """The hypercalls up to the current step (the last ``limit`` of them; the current one marked)."""
    from xenlab.viz.theme import FONT_PX, HIGHLIGHT, MAX_WIDTH_PX, OK, REFUSED
    head = t("viz.cpu.tracer.columns").split("|")
    if current_seq is not None:
        upto = [r for r in rows if r["seq"] <= current_seq + 1]
        rows = upto or rows[:1]
    cell = "padding:1px 6px;vertical-align:top"
    out = [f"<div style='max-width:{MAX_WIDTH_PX}px'><table style='font-family:monospace;font-size:{FONT_PX}px;"
           "border-collapse:collapse;table-layout:fixed;width:100%'>"
           "<colgroup><col style='width:80px'><col style='width:60px'><col style='width:40px'>"
           "<col style='width:150px'><col><col style='width:110px'></colgroup><tr>"
           + "".join(f"<th style='text-align:left;{cell}'>{h}</th>" for h in head) + "</tr>"]
    shown = rows[-limit:]
    for n, r in enumerate(shown):
        colour = OK if r["rc"] >= 0 else REFUSED
        mark = f"background:{HIGHLIGHT}33;" if current_seq is not None and n == len(shown) - 1 else ""
        out.append(f"<tr style='{mark}'><td style='{cell}'>{r['time_ms']:.3f}</td><td style='{cell}'>{r['domid']}</td>"
                   f"<td style='{cell}'>{r['vcpu']}</td><td style='{cell};overflow-wrap:anywhere'>{r['name']}</td>"
                   f"<td style='{cell};white-space:normal;overflow-wrap:anywhere'>{r['args']}</td>"
                   f"<td style='{cell};color:{colour}'>{result_text(r)}</td></tr>")
    out.append("</table></div>")
    return "".join(out)


class HypercallTracer(View):
    """Live tracer: ``view = HypercallTracer(machine)`` records from now on; buttons run and replay.

    The table shows the hypercalls up to the current step of the ring walk (back and forward move both);
    on first display the walk is at its last step."""

    ERROR_KEY = "viz.cpu.error"

    def __init__(self, machine, *, events=None, run_ns: int = 10_000_000, limit: int = 12):
        import bqplot as bq
        import ipywidgets as W
        from xenlab.viz import theme
        self.machine, self.run_ns, self.limit = machine, int(run_ns), limit
        self.events = list(events or [])
        self.errors: list[str] = []
        self.cursor = None                   # None: at the last step (follows the recording)
        self._unsub = machine.trace.subscribe(self.events.append, classes=CLASSES) if events is None else None
        self.domain = W.Dropdown(description=t("viz.cpu.tracer.domain"), options=self._domain_options(),
                                 layout=W.Layout(width="260px"))
        self.filter = W.Text(description=t("viz.cpu.tracer.filter"), value="", continuous_update=False,
                             placeholder="fpu, -E, mmuext …", layout=W.Layout(width="260px"))
        self.table = W.HTML()
        self.status = W.HTML()
        font = theme.axis_font()
        ys, xs = bq.OrdinalScale(), bq.LinearScale(min=0, max=1)
        self.count_scale = xs
        self.bars = bq.Bars(x=[], y=[], scales={"x": ys, "y": xs}, colors=[theme.DOMU_COLOURS[0]],
                            orientation="horizontal")
        self.bar_fig = bq.Figure(marks=[self.bars], title=t("viz.cpu.tracer.title"), animation_duration=0,
                                 fig_margin={"top": 40, "bottom": 45, "left": 170, "right": 20},
                                 axes=[bq.Axis(scale=ys, side="left", tick_style=font),
                                       bq.Axis(scale=xs, label=t("viz.views.tracer.calls_axis"), tick_format="d",
                                               tick_style=font)],
                                 layout=W.Layout(**theme.fitted_figure_layout(300)))
        self.rx = bq.LinearScale(min=0, max=1)
        ry = bq.LinearScale(min=VMX_ROOT - 0.5, max=3.5)
        self.rings = bq.Lines(x=[], y=[], scales={"x": self.rx, "y": ry}, marker="circle", colors=[theme.DOM0])
        self.ring_fig = bq.Figure(marks=[self.rings], title=t("viz.cpu.tracer.rings"), animation_duration=0,
                                  fig_margin={"top": 40, "bottom": 45, "left": 70, "right": 20},
                                  axes=[bq.Axis(scale=ry, side="left", label=t("viz.cpu.tracer.ring_axis"),
                                                tick_values=[VMX_ROOT, 0, 1, 2, 3], tick_format="d", tick_style=font),
                                        bq.Axis(scale=self.rx, label=t("viz.views.tracer.step_axis"), tick_format="d",
                                                tick_style=font)],
                                  layout=W.Layout(**theme.fitted_figure_layout(220)))
        self.caption = W.HTML()
        self.error_box = W.HTML()
        run = W.Button(description=t("viz.cpu.tracer.run"), icon="play", layout=theme.button_layout())
        back = W.Button(description=t("viz.cpu.tracer.back"), icon="step-backward", layout=theme.button_layout())
        fwd = W.Button(description=t("viz.cpu.tracer.forward"), icon="step-forward", layout=theme.button_layout())
        run.on_click(self._guarded(self.run))
        back.on_click(self._guarded(lambda *_: self.step(-1)))
        fwd.on_click(self._guarded(lambda *_: self.step(+1)))
        self.domain.observe(self._guarded(lambda *_: self._refilter()), names="value")
        self.filter.observe(self._guarded(lambda *_: self.redraw()), names="value")
        self.widget = W.VBox([theme.controls_row([self.domain, self.filter, run]), self.status, self.bar_fig,
                              self.ring_fig, theme.controls_row([back, fwd]), self.caption, self.table,
                              self.error_box], layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
        self.redraw()

    def _domain_options(self):
        return [(t("viz.cpu.tracer.all"), None)] + [(f"{d.name} ({i})", i) for i, d in sorted(self.machine.domains.items())]

    def _refilter(self):
        self.cursor = None
        self.redraw()

    def run(self, *_):
        before, t0 = len(self.events), self.machine.now
        self.machine.run_for(self.run_ns)
        options = self._domain_options()
        if list(self.domain.options) != options:
            self.domain.options = options
        self.cursor = None
        new = len(self.events) - before
        key = "viz.views.tracer.ran" if new else "viz.views.tracer.ran_quiet"
        self.last_run = t(key, ms=self.run_ns / 1e6, start=t0 / 1e6, now=self.machine.now / 1e6, n=new)
        self.redraw()

    def step(self, delta: int):
        n = len(ring_steps(self.events, self.domain.value))
        cur = n if self.cursor is None else self.cursor
        self.cursor = min(max(cur + delta, 0), n)
        self.redraw()

    def redraw(self):
        from xenlab.viz import theme
        rows = tracer_rows(self.events, self.domain.value, self.filter.value)
        steps = ring_steps(self.events, self.domain.value)
        seqs = ring_step_seqs(self.events, self.domain.value)
        cursor = len(steps) if self.cursor is None else self.cursor
        current = seqs[cursor - 1] if cursor else None
        names, counts = hypercall_counts(rows)
        with self.bars.hold_sync():
            self.count_scale.max = float(max([1] + list(counts)) * 1.1)
            self.bars.x, self.bars.y = names, counts.astype(float)
        # nothing to count (a filter that matches nothing): no empty chart, the table says why
        self.bar_fig.layout.display = "" if names else "none"
        # the walk: the last 40 steps up to the cursor, so that each stays readable
        first = max(cursor - 40, 0)
        a = ring_arrays(steps[first:cursor])
        with self.rings.hold_sync():
            self.rx.min, self.rx.max = float(first), float(max(cursor, first + 1))
            self.rings.x, self.rings.y = a["x"] + first, a["y"]
        label = step_label(a["label"]) if a["label"] else "–"
        self.caption.value = (f"<div style='font-size:{theme.FONT_PX}px'>"
                              + t("viz.cpu.tracer.step", i=cursor, n=len(steps), text=label) + "</div>")
        if rows:
            self.table.value = rows_html(rows, self.limit, current if self.cursor is not None else None)
        else:
            self.table.value = t("viz.views.tracer.no_match") if self.events else t("viz.cpu.tracer.empty")
        status = t("viz.views.tracer.status", now=self.machine.now / 1e6, n=len(rows))
        extra = getattr(self, "last_run", "")
        self.status.value = f"<div style='font-size:{theme.FONT_PX}px'>{status} {extra}</div>"
    def close(self):
        if self._unsub:
            self._unsub()
            self._unsub = None
