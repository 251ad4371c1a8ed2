"""The scheduler lab (chapter 7): the same domains under any scheduler, tuned live with sliders.

Pure functions turn a simulation into arrays (tested without a browser):
- ``simulate(sched, specs, ...)`` runs a fresh machine and returns a ``measure.Report``;
- ``gantt_arrays(report, t0, t1)``: per domain, x/y arrays of the stretches it ran on each pCPU
  (NaN-separated segments for one bqplot Lines mark per domain);
- ``share_arrays(report)``: achieved against promised share per domain;
- ``latency_hist(report, bins)``: wake-up latency histogram per domain;
- ``decision_rows(report, start, count)``: the scheduling decisions with the values that made them
  (evt for BVT, deadline for Atropos/SEDF, priority and credit for Credit).
``SchedLab`` is the widget: choose a scheduler (any registered one, a student's too), move a slider,
and it re-simulates (about 0.1 s for a second of three domains) and redraws in one batch.
Each domain has a workload menu (cpu, interactive, periodic, io; ``WORKLOADS``). The promised share
is ``sched.promise``: capped at each domain's demand, the rest by the scheduler's rule, or, for a
scheduler whose rule is unknown, labelled "entitlement if CPU-bound".
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View

MS = 1_000_000

# Per scheduler: (parameter, minimum, maximum, default, unit) for the sliders. "_ms" values are ms.
PARAM_SPECS = {
    "credit": [("weight", 1, 1024, 256, ""), ("cap", 0, 100, 0, "%")],
    "bvt": [("mcu_adv", 1, 100, 10, ""), ("warpback", 0, 1, 0, ""), ("warpvalue", 0, 100000, 0, ""),
            ("warpl", 0, 2000, 2000, "ms"), ("warpu", 0, 2000, 1000, "ms")],
    "atropos": [("period_ms", 1, 200, 100, "ms"), ("slice_ms", 0, 200, 10, "ms"), ("xtratime", 0, 1, 1, "")],
    "sedf": [("period_ms", 1, 200, 100, "ms"), ("slice_ms", 0, 200, 0, "ms"), ("extratime", 0, 1, 1, ""),
             ("weight", 0, 10, 0, "")],
    "rrobin": [],
    "credit2": [("weight", 1, 1024, 256, ""), ("cap", 0, 100, 0, "%")],
    "rtds": [("period_ms", 1, 200, 10, "ms"), ("budget_ms", 1, 200, 4, "ms"), ("extratime", 0, 1, 1, "")],
}
WORKLOADS = ("cpu", "interactive", "periodic", "io")      # the lab's workload choices (LabDomain.program)
DECISION_KEYS = {"credit": ("pri", "credit"), "bvt": ("evt", "avt", "svt", "warp"),
                 "atropos": ("deadline", "remain", "state"), "sedf": ("deadline", "slice_left", "queue", "score"),
                 "credit2": ("credit", "weight", "reset"), "rtds": ("deadline", "budget_left", "priority_level")}


@dataclass
class LabDomain:
    """One domain of the lab: a name, a workload and its parameters per scheduler (slider values)."""
    name: str
    workload: str = "cpu"              # one of WORKLOADS: cpu | interactive | periodic | io
    burst_ms: int = 2                  # interactive: burst; periodic: execution time
    gap_ms: int = 15                   # interactive: think time; periodic: period
    params: dict = field(default_factory=dict)       # sched -> {param: slider value}

    def program(self):
        from xenlab.guest.workload import cpu_bound, interactive, io_bound, periodic
        if self.workload == "interactive":
            return interactive(self.burst_ms * MS, self.gap_ms * MS)
        if self.workload == "periodic":
            return periodic(self.gap_ms * MS, self.burst_ms * MS)
        if self.workload == "io":
            # io_bound's defaults (0.2 ms of work, then a 64-sector read). The lab's domains have no
            # disk (blkfront and blkback would make each run several times slower), so a sleep as long
            # as the model's disk takes stands for the device: io_bound(dev=None).
            return io_bound(dev=None)
        return cpu_bound()

    def values(self, sched: str) -> dict:
        key = lab_key(sched)
        base = {p: d for p, _, _, d, _ in PARAM_SPECS.get(key, [])}
        return {**base, **self.params.get(key, {}), **self.params.get(sched, {})}


def lab_key(sched: str) -> str:
    """The scheduler whose sliders and parameters ``sched`` takes: itself, or the built-in it is a
    variant of (``Scheduler.variant_of``, e.g. a student's BVT from xen/sched/plugged.py)."""
    from xenlab.xen.sched import SCHEDULERS
    return getattr(SCHEDULERS.get(sched), "variant_of", "") or sched


def default_domains() -> list[LabDomain]:
    return [LabDomain("cpu", "cpu"), LabDomain("web", "interactive", 2, 15),
            LabDomain("video", "periodic", 5, 20,
                      {"atropos": {"period_ms": 20, "slice_ms": 6, "xtratime": 0},
                       "sedf": {"period_ms": 20, "slice_ms": 6, "extratime": 0},
                       "rtds": {"period_ms": 20, "budget_ms": 6, "extratime": 0}})]


def sched_params(sched: str, values: dict) -> dict:
    """Slider values -> the scheduler's adjust() parameters (ms -> ns, Atropos's latency = period)."""
    if sched in ("credit", "credit2"):
        return {}
    if sched == "rtds":                       # RTDS speaks microseconds
        return {"period": int(values["period_ms"] * 1000),
                "budget": int(min(values["budget_ms"], values["period_ms"]) * 1000),
                "extratime": int(values["extratime"])}
    if sched in ("atropos", "sedf"):
        out = {"period": int(values["period_ms"] * MS), "slice": int(min(values["slice_ms"], values["period_ms"]) * MS)}
        if sched == "atropos":
            out.update(latency=out["period"], xtratime=int(values["xtratime"]))
        else:
            out.update(extratime=int(values["extratime"]), weight=int(values["weight"]))
            if out["weight"]:
                out.update(period=0, slice=0)
        return out
    return {k: int(v) for k, v in values.items()}


def domain_configs(sched: str, specs) -> list:
    from xenlab.toolstack.domain_config import DomainConfig
    out = []
    for s in specs:
        v, key = s.values(sched), lab_key(sched)
        kw = {"weight": int(v["weight"]), "cap": int(v["cap"])} if key in ("credit", "credit2") else {}
        out.append(DomainConfig(name=s.name, memory=16, workload=s.program(),
                                sched_params=sched_params(key, v), **kw))
    return out


def simulate(sched: str, specs, duration_ns: int = 1000 * MS, cpus: int = 1, seed: int = 0):
    from xenlab.sched_lab import run_experiment
    _, report = run_experiment(sched, domain_configs(sched, specs), duration_ns, cpus=cpus, seed=seed)
    return report


# -- arrays for the plots --------------------------------------------------------------------------------
def gantt_arrays(report, t0: int | None = None, t1: int | None = None) -> dict:
    """domid -> {"name", "x" (ms), "y" (pCPU)}: NaN-separated segments of each stretch it ran."""
    t0 = report.intervals[0].start if t0 is None and report.intervals else (t0 or 0)
    t1 = max((i.end for i in report.intervals), default=0) if t1 is None else t1
    names = {v: k for k, v in report.domids.items()}
    out = {}
    for domid in report.domids.values():
        xs, ys = [], []
        for i in report.intervals:
            if i.domid != domid or i.end <= t0 or i.start >= t1:
                continue
            xs += [max(i.start, t0) / MS, min(i.end, t1) / MS, np.nan]
            ys += [i.pcpu, i.pcpu, np.nan]
        out[domid] = {"name": names[domid], "x": np.array(xs, dtype=float), "y": np.array(ys, dtype=float)}
    return out


def share_arrays(report) -> dict:
    names = list(report.domids)
    ids = [report.domids[n] for n in names]
    return {"names": names, "achieved": np.array([report.achieved.get(i, 0.0) for i in ids]),
            "promised": np.array([report.promised.get(i, 0.0) for i in ids])}


def latency_hist(report, bins_ms=(0, 0.5, 1, 2, 5, 10, 20, 50, 100)) -> dict:
    """domid -> counts of wake-up latencies per bin (ms); the last bin takes everything above."""
    edges = np.array(list(bins_ms) + [np.inf], dtype=float)
    out = {"edges_ms": edges}
    for name, domid in report.domids.items():
        lat = np.array(report.latencies.get(domid, []), dtype=float) / MS
        out[domid] = {"name": name, "counts": np.histogram(lat, bins=edges)[0]}
    return out


def decision_rows(report, start: int = 0, count: int = 10) -> list[dict]:
    """The scheduling decisions from number ``start`` on: time, pCPU, who, why, the deciding values."""
    names = {v: k for k, v in report.domids.items()}
    keys = DECISION_KEYS.get(lab_key(report.sched))
    rows = []
    for n, (time, pcpu, domid, vcpu, reason, decision, switched) in enumerate(report.decisions[start:start + count],
                                                                                start):
        values = decision or {}
        shown = {k: values[k] for k in (keys or values) if k in values and values[k] is not None}
        who = "idle" if domid is None else names.get(domid, f"d{domid}")
        rows.append({"n": n, "time_ms": time / MS, "pcpu": pcpu, "domain": who, "switch": switched,
                     "reason": reason, "values": shown})
    return rows


# The model's schedulers say why they picked a vCPU in English free text (the trace's "reason", as
# Xen's own trace would); the lab shows it in the student's language. A reason no pattern knows (a
# student's scheduler) is shown as it is.
REASONS = [
    (r"^(?P<pri>BOOST|UNDER|OVER|IDLE), head of cpu(?P<cpu>\d+)'s run queue$", "credit_head"),
    (r"^(?P<pri>BOOST|UNDER|OVER|IDLE), stolen from cpu(?P<cpu>\d+)$", "credit_stolen"),
    (r"^nothing runnable here or to steal$", "credit_nothing"),
    (r"^lowest evt \((?P<evt>-?\d+) < (?P<other>\S+)'s (?P<other_evt>-?\d+)\)$", "bvt_lowest"),
    (r"^only runnable domain$", "bvt_only"),
    (r"^run queue empty$", "queue_empty"),
    (r"^earliest deadline on RUNQ$", "atropos_runq"),
    (r"^recently unblocked \(WAITQ\)$", "atropos_waitq"),
    (r"^slack time, round robin over xtratime domains$", "atropos_slack"),
    (r"^nothing with guaranteed time$", "atropos_none"),
    (r"^nothing (runnable|to run)$", "nothing"),
    (r"^earliest deadline \(EDF\)$", "sedf_edf"),
    (r"^extra time \((?P<queue>penalty|utilisation) queue\)$", "sedf_extra"),
    (r"^idle until the next period starts$", "sedf_idle"),
    (r"^head of run queue \((?P<n>\d+) waiting\)$", "rr_head"),
    (r"^most credit on the run queue(?P<reset>; credit <= 0: reset)?$", "credit2_most"),
    (r"^current still has the most credit(?P<reset>; credit <= 0: reset)?$", "credit2_current"),
    (r"^ratelimit: ran < (?P<us>\d+)us$", "credit2_ratelimit"),
    (r"^nothing with credit and budget to run$", "credit2_none"),
    (r"^earliest deadline \(global EDF\)$", "rtds_edf"),
    (r"^current still has the earliest deadline$", "rtds_current"),
    (r"^extratime \(priority level (?P<level>\d+)\)$", "rtds_extra"),
    (r"^no vcpu with budget to run$", "rtds_none"),
    (r"^running when recording began$", "recording"),
    (r"^your (?P<fn>\w+)$", "yours"),
]


def reason_text(reason: str) -> str:
    """A scheduler's reason in the student's language (viz.views.sched.reason.*)."""
    import re
    for pattern, key in REASONS:
        m = re.match(pattern, reason or "")
        if m:
            kw = {k: v for k, v in m.groupdict().items() if v is not None}
            if key == "sedf_extra":
                kw["queue"] = t(f"viz.views.sched.queue.{kw['queue']}")
            if "reset" in m.groupdict():
                kw["reset"] = t("viz.views.sched.reason.reset") if m.group("reset") else ""
            return t(f"viz.views.sched.reason.{key}", **kw)
    return reason


def decision_text(rows) -> str:
    lines = []
    for r in rows:
        vals = " ".join(f"{k}={v / MS:.3f}ms" if k in ("deadline", "remain", "slice_left") and isinstance(v, int)
                        else f"{k}={v}" for k, v in r["values"].items())
        arrow = "->" if r["switch"] else "=="
        lines.append(f"#{r['n']:<4} {r['time_ms']:9.3f} ms cpu{r['pcpu']} {arrow} {r['domain']:<8} "
                     f"{vals:<40} {reason_text(r['reason'])}")
    return "\n".join(lines)


def report_html(report) -> str:
    """The report's table (demand, promised, achieved, switches, latencies, misses) with translated heads."""
    from xenlab.viz.theme import FONT_PX, MAX_WIDTH_PX
    heads = [t(f"viz.views.sched.col.{k}") for k in
             ("domain", "demand", "promised", "achieved", "switches", "p50", "max", "misses")]
    rows = []
    for name, domid in report.domids.items():
        lat = sorted(report.latencies.get(domid, []))
        jobs, miss = report.misses.get(domid, (0, 0))
        want = report.demand.get(domid)
        rows.append([name, f"{want:.3f}" if want is not None else "–", f"{report.promised.get(domid, 0):.3f}",
                     f"{report.achieved.get(domid, 0):.3f}", str(report.switches.get(domid, 0)),
                     f"{lat[len(lat) // 2] / MS:.2f}" if lat else "–", f"{lat[-1] / MS:.2f}" if lat else "–",
                     f"{miss}/{jobs}" if jobs else "–"])
    cell = "padding:2px 10px;text-align:right;white-space:nowrap"
    head = "".join(f"<th style='{cell}'>{h}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td style='{cell}'>{v}</td>" for v in r) + "</tr>" for r in rows)
    note = f"<div>{t('viz.views.sched.cpu_bound_note')}</div>" if report.promised_kind == "cpu-bound" else ""
    return (f"<div style='max-width:{MAX_WIDTH_PX}px;font-size:{FONT_PX}px'><table style='border-collapse:collapse'>"
            f"<tr>{head}</tr>{body}</table>{note}</div>")


# -- the widget ----------------------------------------------------------------------------------------------
def lab_domains() -> list[LabDomain]:
    """The lab's default scenario: two CPU-bound domains that compete for the whole CPU (so a Credit
    weight or a BVT mcu_adv visibly moves their shares), an interactive one and a periodic one."""
    return [LabDomain("cpu", "cpu"), LabDomain("batch", "cpu")] + default_domains()[1:]


class SchedLab(View):
    ERROR_KEY = "viz.schedlab.error"

    def __init__(self, scheds=("credit", "bvt", "atropos", "sedf", "rrobin", "credit2", "rtds"), specs=None,
                 cpus: int = 1, duration_ns: int = 1000 * MS, window_ns: int = 200 * MS, seed: int = 0):
        import bqplot as bq
        import ipywidgets as W
        from xenlab.viz import theme
        self.specs = specs or lab_domains()
        self.cpus, self.duration_ns, self.window_ns, self.seed = cpus, duration_ns, window_ns, seed
        self.errors: list[str] = []
        self.report = None
        self.cursor = 0
        self.colours = theme.domain_colours(range(1, len(self.specs) + 1))
        self.sched = W.Dropdown(options=list(scheds), value=scheds[0], description=t("viz.schedlab.sched"),
                                style=theme.slider_style(), layout=W.Layout(width="320px"))
        self.sliders_box = W.VBox()
        # Gantt chart: one thick line per domain and pCPU stretch; the x axis is the window shown.
        self.gx = bq.LinearScale(min=0, max=window_ns / MS)
        gy = bq.LinearScale(min=-0.5, max=cpus - 0.5)
        self.gantt = [bq.Lines(x=[], y=[], scales={"x": self.gx, "y": gy}, stroke_width=18, colors=[c])
                      for c in self.colours]
        margins = theme.figure_margins()
        self.gantt_fig = bq.Figure(marks=self.gantt, title=t("viz.schedlab.gantt", ms=window_ns // MS),
                                   animation_duration=0, fig_margin=margins,
                                   axes=[bq.Axis(scale=self.gx, tick_style=theme.axis_font(), label=t("viz.schedlab.time_ms")),
                                         bq.Axis(scale=gy, tick_style=theme.axis_font(), side="left", label="pCPU",
                                                 tick_values=list(range(cpus)), tick_format="d")],
                                   layout=W.Layout(**theme.fitted_figure_layout(110 + 40 * cpus)))
        self.legend = W.HTML(theme.legend_html([(s.name, c) for s, c in zip(self.specs, self.colours)]))
        # Shares: achieved and promised per domain.
        bx, by = bq.OrdinalScale(), bq.LinearScale(min=0, max=1)
        self.bars = bq.Bars(x=[], y=[], scales={"x": bx, "y": by}, type="grouped",
                            colors=[theme.XEN, theme.HARDWARE])
        self.share_fig = bq.Figure(marks=[self.bars], title=t("viz.schedlab.shares"), animation_duration=0,
                                   fig_margin=margins,
                                   axes=[bq.Axis(scale=bx, tick_style=theme.axis_font(), label=t("viz.views.sched.domain_axis")),
                                         bq.Axis(scale=by, tick_style=theme.axis_font(), side="left", tick_format=".1f",
                                                 label=t("viz.views.sched.share_axis"))],
                                   layout=W.Layout(width="470px", height="260px"))
        self.share_legend = W.HTML()
        # Wake-up latency histogram: bars per latency bin, one colour per domain.
        # bqplot 0.13 draws Bars of height 0 when a LinearScale has no explicit max: redraw sets it
        hx, self.hy = bq.OrdinalScale(), bq.LinearScale(min=0, max=1)
        hy = self.hy
        self.hist = bq.Bars(x=[], y=[], scales={"x": hx, "y": hy}, type="grouped", colors=self.colours)
        self.hist_fig = bq.Figure(marks=[self.hist], title=t("viz.schedlab.latency"), animation_duration=0,
                                  fig_margin=margins,
                                  axes=[bq.Axis(scale=hx, tick_style=theme.axis_font(), label=t("viz.views.sched.latency_axis")),
                                        bq.Axis(scale=hy, tick_style=theme.axis_font(), side="left", tick_format="d",
                                                label=t("viz.views.sched.wakeups_axis"))],
                                  layout=W.Layout(width="470px", height="260px"))
        self.hist_note = W.HTML()
        self.table = W.HTML()
        self.steps = W.HTML()
        self.error_box = W.HTML()
        step = W.Button(description=t("viz.schedlab.step"), icon="step-forward", layout=theme.button_layout(),
                        tooltip=t("viz.views.sched.step_tip"))
        step.on_click(self._guarded(self.step))
        self.sched.observe(self._guarded(lambda *_: self._rebuild_sliders()), names="value")
        self.widget = W.VBox([self.sched, self.sliders_box, self.gantt_fig, self.legend,
                              theme.controls_row([W.VBox([self.share_fig, self.share_legend]),
                                                  W.VBox([self.hist_fig, self.hist_note])]),
                              self.table, theme.controls_row([step]), self.steps, self.error_box],
                             layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
        self._rebuild_sliders()

    # -- controls ----------------------------------------------------------------------------------------------
    def _rebuild_sliders(self) -> None:
        import ipywidgets as W
        from xenlab.viz import theme
        sched = self.sched.value
        self.sliders = {}
        self.workloads = {}
        rows = []
        for spec, colour in zip(self.specs, self.colours):
            row = [W.HTML(f"<b style='color:{colour};font-size:{theme.TITLE_FONT_PX}px'>{spec.name}</b>",
                          layout=W.Layout(width="70px"))]
            work = W.Dropdown(options=[(t(f"viz.schedlab.workload.{w}"), w) for w in WORKLOADS], value=spec.workload,
                              layout=W.Layout(width="260px"))
            work.observe(self._guarded(lambda change, name=spec.name: self.set_workload(name, change["new"])),
                         names="value")
            self.workloads[spec.name] = work
            row.append(work)
            for name, lo, hi, default, unit in PARAM_SPECS.get(lab_key(sched), []):
                value = spec.values(sched)[name]
                label = f"{name} ({unit})" if unit and not name.endswith("_" + unit) else name
                s = W.IntSlider(value=int(min(max(value, lo), hi)), min=lo, max=hi, description=label,
                                continuous_update=False, style={"description_width": "100px"},
                                layout=W.Layout(width="320px", min_width="320px"))
                s.observe(self._guarded(self._on_slider), names="value")
                self.sliders[(spec.name, name)] = s
                row.append(s)
            rows.append(theme.controls_row(row))
        self.sliders_box.children = rows
        self.resimulate()

    def set_param(self, domain: str, name: str, value) -> None:
        """What a slider does, callable from code (and from tests)."""
        spec = next(s for s in self.specs if s.name == domain)
        spec.params.setdefault(self.sched.value, {})[name] = value
        if (domain, name) in self.sliders and self.sliders[(domain, name)].value != value:
            self.sliders[(domain, name)].value = value       # observer re-simulates
        else:
            self.resimulate()

    def set_workload(self, domain: str, workload: str) -> None:
        """What a domain's workload menu does: cpu, interactive, periodic or io (WORKLOADS)."""
        if workload not in WORKLOADS:
            raise ValueError(f"workload {workload!r}: one of {', '.join(WORKLOADS)}")
        spec = next(s for s in self.specs if s.name == domain)
        if spec.workload == workload:
            return
        spec.workload = workload
        menu = self.workloads.get(domain)
        if menu is not None and menu.value != workload:
            menu.value = workload                    # its observer lands back here and returns above
        self.resimulate()

    def _on_slider(self, change) -> None:
        for (domain, name), s in self.sliders.items():
            if s is change["owner"]:
                spec = next(x for x in self.specs if x.name == domain)
                spec.params.setdefault(self.sched.value, {})[name] = change["new"]
        self.resimulate()

    # -- simulation and drawing -----------------------------------------------------------------------------
    def resimulate(self) -> None:
        self.report = simulate(self.sched.value, self.specs, self.duration_ns, self.cpus, self.seed)
        self.cursor = 0
        self.redraw()

    def redraw(self) -> None:
        from xenlab.viz import theme
        r = self.report
        t0 = r.intervals[0].start if r.intervals else 0
        g = gantt_arrays(r, t0, t0 + self.window_ns)
        with self.gx.hold_sync():
            self.gx.min, self.gx.max = t0 / MS, (t0 + self.window_ns) / MS
        for mark, (domid, arr) in zip(self.gantt, g.items()):
            # no trailing NaN: bqplot places the (hidden) curve label at the last point
            x, y = arr["x"][:-1], arr["y"][:-1]
            with mark.hold_sync():
                mark.x, mark.y = (x, y) if len(x) else (np.zeros(0), np.zeros(0))
        sh = share_arrays(r)
        promised = "viz.schedlab.promised" if r.promised_kind == "demand" else "viz.schedlab.promised_cpu_bound"
        with self.bars.hold_sync():
            self.bars.x = sh["names"]
            self.bars.y = np.vstack([sh["achieved"], sh["promised"]]).astype(float)
        self.share_legend.value = theme.legend_html([(t("viz.schedlab.achieved"), theme.XEN),
                                                     (t(promised), theme.HARDWARE)])
        h = latency_hist(r)
        edges = h["edges_ms"]
        labels = [f"<{e:g}" if np.isfinite(e) else f">{edges[-2]:g}" for e in edges[1:]]
        counts = [h[d]["counts"] for d in r.domids.values()]
        # bqplot needs float data: int64 counts arrive as nothing at all (the histogram stayed empty)
        top = max([1.0] + [float(c.max()) for c in counts])
        self.hy.max = float(np.ceil(top * 1.1))
        with self.hist.hold_sync():
            self.hist.x = labels
            self.hist.y = np.vstack(counts).astype(float) if counts else np.zeros((1, len(labels)))
        total = int(sum(c.sum() for c in counts))
        self.hist_note.value = theme.legend_html([(s.name, c) for s, c in zip(self.specs, self.colours)]) + (
            f"<div style='font-size:{theme.FONT_PX}px'>{t('viz.views.sched.wakeups', n=total)}</div>")
        self.table.value = report_html(r)
        self.steps.value = ""

    def step(self, *_) -> None:
        """Step mode: show the next few decisions with the values that made them."""
        rows = decision_rows(self.report, self.cursor, 8)
        self.cursor += len(rows)
        from xenlab.viz.theme import FONT_PX, MAX_WIDTH_PX
        self.steps.value = (f"<pre style='font-size:{FONT_PX}px;max-width:{MAX_WIDTH_PX}px;white-space:pre-wrap'>"
                            + (decision_text(rows) or t("viz.schedlab.no_more")) + "</pre>")
