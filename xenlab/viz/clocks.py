"""The four clocks (chapter 8) of several domains, side by side, as the machine runs.

``sample_clocks(machine)`` reads each domain's clocks the guest's way (xen/time.py four_clocks);
``ClockRecorder`` collects samples while the machine runs in small steps; ``clock_series`` turns the
samples into arrays for the plot: domain virtual time against system time, a flat stretch where the
domain waits or is paused. ``ClocksView`` is the widget.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View
from xenlab.xen.time import NSEC_PER_SEC, four_clocks


def sample_clocks(machine) -> dict[int, dict]:
    return {domid: {"name": d.name, **four_clocks(d)} for domid, d in sorted(machine.domains.items())
            if d.vcpus and d.shared_info_mfn >= 0}


def wall_text(wall_ns: int) -> str:
    """Wall-clock ns since the epoch as UTC text (from the model's numbers, not the host clock)."""
    secs, ns = divmod(int(wall_ns), NSEC_PER_SEC)
    return (_dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=secs)).strftime("%Y-%m-%d %H:%M:%S") + f".{ns // 1000:06d}"


class ClockRecorder:
    def __init__(self, machine):
        self.machine = machine
        self.samples: list[tuple[int, dict]] = []

    def sample(self) -> None:
        self.samples.append((self.machine.now, sample_clocks(self.machine)))

    def run(self, ns: int, every_ns: int = 1_000_000) -> None:
        """Run ``ns`` of system time, sampling every ``every_ns``."""
        if not self.samples:
            self.sample()
        end = self.machine.now + int(ns)
        while self.machine.now < end:
            self.machine.run(min(end, self.machine.now + every_ns))
            self.sample()


def clock_series(samples) -> dict[int, dict]:
    """Per domain: arrays system_ms, virtual_ms, tsc, wall_ns over the samples."""
    out: dict[int, dict] = {}
    for _, snap in samples:
        for domid, c in snap.items():
            s = out.setdefault(domid, {"name": c["name"], "system_ms": [], "virtual_ms": [], "tsc": [], "wall_ns": []})
            s["system_ms"].append(c["system_ns"] / 1e6)
            s["virtual_ms"].append(c["virtual_ns"] / 1e6)
            s["tsc"].append(c["tsc"])
            s["wall_ns"].append(c["wall_ns"])
    for s in out.values():
        for k in ("system_ms", "virtual_ms"):
            s[k] = np.array(s[k], dtype=float)
        s["tsc"] = np.array(s["tsc"], dtype=np.uint64)
        s["wall_ns"] = np.array(s["wall_ns"], dtype=object)
    return out


def legend_lines(series) -> list[str]:
    lines = []
    for s in series.values():
        if len(s["system_ms"]):
            lines.append(t("viz.cpu.clocks.legend", name=s["name"], tsc=int(s["tsc"][-1]), system=s["system_ms"][-1],
                           virtual=s["virtual_ms"][-1], wall=wall_text(s["wall_ns"][-1])))
    return lines


class ClocksView(View):
    ERROR_KEY = "viz.cpu.error"
    COLORS = ["#e08a2c", "#3c78c8", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]

    def __init__(self, machine, run_ns: int = 50_000_000, every_ns: int = 1_000_000):
        import bqplot as bq
        import ipywidgets as W
        self.machine, self.run_ns, self.every_ns = machine, int(run_ns), int(every_ns)
        self.recorder = ClockRecorder(machine)
        self.recorder.sample()
        self.errors: list[str] = []
        sx, sy = bq.LinearScale(min=0), bq.LinearScale(min=0)
        self.lines = bq.Lines(x=[], y=[], scales={"x": sx, "y": sy}, display_legend=True)
        self.figure = bq.Figure(marks=[self.lines], title=t("viz.cpu.clocks.title"), animation_duration=0,
                                axes=[bq.Axis(scale=sx, label=t("viz.cpu.clocks.system")),
                                      bq.Axis(scale=sy, side="left", label=t("viz.cpu.clocks.virtual"))],
                                layout=W.Layout(width="100%", height="320px"))
        self.legend = W.HTML()
        self.error_box = W.HTML()
        run = W.Button(description=t("viz.cpu.clocks.run"), icon="play")
        self.which = W.Dropdown(options=self._options())
        pause = W.Button(description=t("viz.cpu.clocks.pause"))
        run.on_click(self._guarded(self.run))
        pause.on_click(self._guarded(self.toggle_pause))
        self.widget = W.VBox([self.figure, W.HBox([run, self.which, pause]), self.legend, self.error_box])
        self.redraw()

    def _options(self):
        return [(f"{d.name} ({i})", i) for i, d in sorted(self.machine.domains.items()) if i != 0]

    def run(self, *_):
        self.recorder.run(self.run_ns, self.every_ns)
        self.redraw()

    def toggle_pause(self, *_):
        d = self.machine.domains.get(self.which.value)
        if d is None:
            return
        d.unpause() if d.pause_count else d.pause()
        self.redraw()

    def redraw(self):
        series = clock_series(self.recorder.samples)
        names = [s["name"] for s in series.values()]
        xs = [s["system_ms"] for s in series.values()]
        ys = [s["virtual_ms"] for s in series.values()]
        n = max((len(x) for x in xs), default=0)
        pad = lambda a: np.pad(a, (0, n - len(a)), constant_values=np.nan)   # noqa: E731
        with self.lines.hold_sync():
            self.lines.x = np.array([pad(x) for x in xs]) if xs else []
            self.lines.y = np.array([pad(y) for y in ys]) if ys else []
            self.lines.labels = names
            self.lines.colors = self.COLORS[:max(1, len(names))]
        self.legend.value = "<pre>" + "\n".join(legend_lines(series)) + "</pre>"
