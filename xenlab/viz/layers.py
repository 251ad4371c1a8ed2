"""The layers of a Xen machine with live hypercall traffic (chapter 2: Xen's architecture).

    hardware   (bottom)   CPU, memory, devices
    Xen                   the hypervisor, the only code in ring 0
    dom0 | domU | domU    the guests side by side; dom0 privileged, but at the same level

Each hypercall a domain makes is an arrow from its box down to Xen, coloured by Xen's answer (0 or a
positive count: allowed; a negative errno such as -EPERM: refused). `Step` reveals the recorded
hypercalls one at a time and, when none are left, runs the machine a little to produce more.

The drawing is computed by the pure function `layers_arrays(state)` (numpy arrays, no widgets), so it
is tested without a browser; `LayersView` only pushes those arrays into bqplot marks in one batch.
`LayersState.from_machine` accepts any object with `.domains` (domid -> object with `.name` and
`.is_privileged`); events are dicts with domid, op, rc, errno (what the trace's PV:hypercall_ret gives).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View

# Layout in data units: x in [0, WIDTH], y in [0, HEIGHT].
WIDTH, HEIGHT = 10.0, 7.0
HW_Y = (0.2, 1.4)
XEN_Y = (1.9, 3.1)
DOM_Y = (5.0, 6.8)
GAP = 0.25
TRAIL = 8                      # hypercalls remembered per domain (dots between the domain and Xen)
COLORS = {"hardware": "#b0b0b0", "xen": "#3c3c3c", "dom0": "#e69f00", "domU": "#0072b2",
          "ok": "#2ca02c", "refused": "#d62728", "arrow": "#222222"}


@dataclass
class LayersState:
    domains: list                                  # [{"domid", "name", "privileged"}], by domid
    events: list = field(default_factory=list)     # [{"domid", "op", "rc", "errno"}], oldest first
    cursor: int = 0                                # events[:cursor] have been shown

    @classmethod
    def from_machine(cls, machine, events=(), cursor: int = 0) -> "LayersState":
        doms = [{"domid": int(domid), "name": str(getattr(d, "name", f"dom{domid}")),
                 "privileged": bool(getattr(d, "is_privileged", domid == 0))}
                for domid, d in sorted(machine.domains.items())]
        return cls(doms, list(events), cursor)


def event_from_trace(ev) -> dict:
    """A PV:hypercall_ret trace event as the plain dict the view draws."""
    data = ev.data
    return {"domid": ev.domid, "op": data.get("op", "?"), "rc": int(data.get("rc", 0)),
            "errno": str(data.get("errno", ""))}


def _box(x0, x1, y0, y1):
    return np.array([x0, x1, x1, x0, x0]), np.array([y0, y0, y1, y1, y0])


def domain_x(state: LayersState) -> dict:
    """Centre x of each domain's box."""
    n = max(len(state.domains), 1)
    w = (WIDTH - GAP * (n + 1)) / n
    return {d["domid"]: GAP + w / 2 + i * (w + GAP) for i, d in enumerate(state.domains)}


def result_text(ev: dict) -> str:
    """0 or a count as it is; an error as Xen's negative errno with its name: -1 (EPERM)."""
    if ev["rc"] >= 0:
        return str(ev["rc"])
    name = str(ev.get("errno", "")).lstrip("-")
    return f"{ev['rc']} ({name})" if name else str(ev["rc"])


def layers_arrays(state: LayersState) -> dict:
    """Everything the figure draws, as arrays: boxes, labels, the trail of dots, the current arrow."""
    n = max(len(state.domains), 1)
    w = (WIDTH - GAP * (n + 1)) / n
    xs, ys, fills, lx, ly, text = [], [], [], [], [], []
    for x0, x1, (y0, y1), key, label in (
            (GAP, WIDTH - GAP, HW_Y, "hardware", t("viz.layers.hardware")),
            (GAP, WIDTH - GAP, XEN_Y, "xen", t("viz.layers.xen"))):
        bx, by = _box(x0, x1, y0, y1)
        xs.append(bx), ys.append(by), fills.append(COLORS[key])
        lx.append((x0 + x1) / 2), ly.append((y0 + y1) / 2), text.append(label)
    centres = domain_x(state)
    for d in state.domains:
        cx = centres[d["domid"]]
        bx, by = _box(cx - w / 2, cx + w / 2, *DOM_Y)
        xs.append(bx), ys.append(by), fills.append(COLORS["dom0" if d["privileged"] else "domU"])
        lx.append(cx), ly.append((DOM_Y[0] + DOM_Y[1]) / 2 + 0.3), text.append(f"{d['name']} (dom{d['domid']})")
        shown = [e for e in state.events[: state.cursor] if e["domid"] == d["domid"]]
        extra = t("viz.layers.privileged") if d["privileged"] else ""
        lx.append(cx), ly.append((DOM_Y[0] + DOM_Y[1]) / 2 - 0.35)
        text.append(f"{len(shown)} hc" + (f", {extra}" if extra else ""))
    # The trail: the last TRAIL hypercalls of each domain, stacked from Xen up towards the domain.
    dot_x, dot_y, dot_c = [], [], []
    span = DOM_Y[0] - XEN_Y[1]
    for d in state.domains:
        shown = [e for e in state.events[: state.cursor] if e["domid"] == d["domid"]][-TRAIL:]
        for k, e in enumerate(shown):
            dot_x.append(centres[d["domid"]] - 0.35)
            dot_y.append(XEN_Y[1] + span * (k + 0.5) / TRAIL)
            dot_c.append(COLORS["ok" if e["rc"] >= 0 else "refused"])
    # The current hypercall: an arrow from the domain's box to Xen, labelled with the answer.
    arrow_x, arrow_y, caption = np.zeros(0), np.zeros(0), ""
    current = state.events[state.cursor - 1] if 0 < state.cursor <= len(state.events) else None
    if current is not None and current["domid"] in centres:
        cx = centres[current["domid"]] + 0.2
        arrow_x = np.array([cx, cx, cx - 0.12, cx, cx + 0.12])
        arrow_y = np.array([DOM_Y[0], XEN_Y[1], XEN_Y[1] + 0.25, XEN_Y[1], XEN_Y[1] + 0.25])
        name = next(d["name"] for d in state.domains if d["domid"] == current["domid"])
        caption = t("viz.layers.event", step=state.cursor, domain=name, name=current["op"],
                    result=result_text(current))
    return {
        "box_x": np.array(xs), "box_y": np.array(ys), "box_fill": fills,
        "label_x": np.array(lx), "label_y": np.array(ly), "label_text": text,
        "dot_x": np.array(dot_x, dtype=float), "dot_y": np.array(dot_y, dtype=float), "dot_color": dot_c,
        "arrow_x": arrow_x, "arrow_y": arrow_y,
        "arrow_color": COLORS["ok" if current is None or current["rc"] >= 0 else "refused"],
        "caption": caption or (t("viz.views.layers.recorded", n=len(state.events)) if state.events
                               else t("viz.layers.no_events")),
    }


class LayersView(View):
    """The layers figure with Step / Reset buttons, fed by a machine's trace.

    view = LayersView(machine)  subscribes to the machine's hypercalls from now on;
    view.widget (or just `view` as the last line of a cell) shows it.
    """

    ERROR_KEY = "viz.layers.error"

    def __init__(self, machine=None, *, events=None, advance_ns: int = 10_000_000):
        import bqplot as bq
        import ipywidgets as W
        from xenlab.viz import theme

        self.machine = machine
        self.advance_ns = int(advance_ns)
        self.events: list = [dict(e) for e in (events or [])]
        self.cursor = 0
        self.errors: list = []
        self._unsubscribe = None
        if machine is not None and events is None:
            self._unsubscribe = machine.trace.subscribe(self._on_trace, classes=("PV",))
        sx = bq.LinearScale(min=0.0, max=WIDTH)
        sy = bq.LinearScale(min=0.0, max=HEIGHT)
        scales = {"x": sx, "y": sy}
        self.boxes = bq.Lines(x=np.zeros((1, 2)), y=np.zeros((1, 2)), scales=scales, fill="inside",
                              colors=["white"], stroke_width=1)
        self.labels = bq.Label(x=[0.0], y=[0.0], text=[""], scales=scales, align="middle",
                               default_size=13, font_weight="bold", colors=["white"])
        self.trail = bq.Scatter(x=[], y=[], scales=scales, default_size=60, colors=["black"])
        self.arrow = bq.Lines(x=[], y=[], scales=scales, stroke_width=3, colors=[COLORS["arrow"]])
        self.figure = bq.Figure(marks=[self.boxes, self.trail, self.arrow, self.labels],
                                title=t("viz.layers.title"), animation_duration=0,
                                fig_margin={"top": 40, "bottom": 10, "left": 10, "right": 10},
                                layout=W.Layout(**theme.fitted_figure_layout(380)))
        self.step_button = W.Button(description=t("viz.layers.step"), icon="step-forward",
                                    layout=theme.button_layout())
        self.reset_button = W.Button(description=t("viz.layers.reset"), icon="undo", layout=theme.button_layout())
        self.caption = W.HTML(value="")
        self.error_box = W.HTML(value="")
        self.step_button.on_click(self._guarded(self.step))
        self.reset_button.on_click(self._guarded(self.reset))
        self.widget = W.VBox([self.figure, theme.controls_row([self.step_button, self.reset_button]),
                              self.caption, self.error_box], layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
        self.redraw()

    # -- model side ------------------------------------------------------------------------------
    def _on_trace(self, ev) -> None:
        if ev.name == "hypercall_ret":
            self.events.append(event_from_trace(ev))

    def state(self) -> LayersState:
        if self.machine is not None:
            return LayersState.from_machine(self.machine, self.events, self.cursor)
        domids = sorted({e["domid"] for e in self.events})
        doms = [{"domid": i, "name": f"dom{i}" if i else "Domain-0", "privileged": i == 0} for i in domids]
        return LayersState(doms, self.events, self.cursor)

    def step(self, *_):
        """Show the next hypercall; if all are shown, run the machine a little to make more."""
        if self.cursor >= len(self.events) and self.machine is not None:
            self.machine.run_for(self.advance_ns)
        if self.cursor < len(self.events):
            self.cursor += 1
        self.redraw()

    def reset(self, *_):
        self.cursor = 0
        self.redraw()
        self.caption.value = t("viz.views.layers.reset", n=len(self.events))

    def close(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None

    def _ipython_display_(self):
        # correct on first display: domains and hypercalls made since the view was created are drawn
        self.redraw()
        super()._ipython_display_()

    # -- drawing ---------------------------------------------------------------------------------
    def redraw(self) -> None:
        a = layers_arrays(self.state())
        with self.boxes.hold_sync():
            self.boxes.x, self.boxes.y, self.boxes.fill_colors = a["box_x"], a["box_y"], a["box_fill"]
            self.boxes.colors = ["#ffffff"] * len(a["box_fill"])
        with self.labels.hold_sync():
            self.labels.x, self.labels.y, self.labels.text = a["label_x"], a["label_y"], a["label_text"]
        with self.trail.hold_sync():
            self.trail.x, self.trail.y = a["dot_x"], a["dot_y"]
            self.trail.colors = a["dot_color"] or ["black"]
        with self.arrow.hold_sync():
            self.arrow.x, self.arrow.y, self.arrow.colors = a["arrow_x"], a["arrow_y"], [a["arrow_color"]]
        self.caption.value = a["caption"]
