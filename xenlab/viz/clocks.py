"""The four clocks (chapter 8) of several domains, side by side, as the machine runs.

``sample_clocks(machine)`` reads each domain's clocks the guest's way (guest/time.py four_clocks);
``ClockRecorder`` collects samples while the machine runs in small steps; ``clock_series`` turns the
samples into arrays per domain, and ``clock_panels`` into four aligned panels sharing one x axis, the
system time of the machine: the cycle counter (the TSC of the domain's pCPU), system time as the guest
computes it, domain virtual time (flat where the domain waits or is paused) and wall-clock time.
``ClocksView`` is the widget: it only draws what ``clock_panels`` returns.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View
from xenlab.guest.time import four_clocks
from xenlab.xen.time import NSEC_PER_SEC


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
    """Per domain: arrays t_ms (the machine's system time of each sample), system_ms (as the guest
    computes it), virtual_ms, tsc, wall_ns over the samples."""
    out: dict[int, dict] = {}
    for now, snap in samples:
        for domid, c in snap.items():
            s = out.setdefault(domid, {"name": c["name"], "t_ms": [], "system_ms": [], "virtual_ms": [], "tsc": [],
                                       "wall_ns": []})
            s["t_ms"].append(now / 1e6)
            s["system_ms"].append(c["system_ns"] / 1e6)
            s["virtual_ms"].append(c["virtual_ns"] / 1e6)
            s["tsc"].append(c["tsc"])
            s["wall_ns"].append(c["wall_ns"])
    for s in out.values():
        for k in ("t_ms", "system_ms", "virtual_ms"):
            s[k] = np.array(s[k], dtype=float)
        s["tsc"] = np.array(s["tsc"], dtype=np.uint64)
        s["wall_ns"] = np.array(s["wall_ns"], dtype=object)
    return out


PANELS = ("tsc", "system", "virtual", "wall")      # top to bottom


def clock_panels(series) -> dict:
    """The four clocks as aligned panels over one x axis (the machine's system time, ms).

    Returns ``domids`` and ``names`` (one row per domain, in domid order), ``x`` (rows x samples,
    NaN-padded where a domain has fewer samples), ``y`` = {panel: array of the same shape} for the
    panels of PANELS: ``tsc`` in millions of cycles, ``system`` and ``virtual`` in ms, ``wall`` in ms
    after ``wall_base_ns`` (the whole second of the earliest wall-clock reading, so the numbers stay
    small; ``wall_base`` is it as UTC text), and ``x_max`` for the shared scale.
    """
    domids = sorted(series)
    n = max((len(series[i]["t_ms"]) for i in domids), default=0)

    def rows(f) -> np.ndarray:
        if not domids:
            return np.zeros((0, 0))
        return np.array([np.pad(np.asarray(f(series[i]), dtype=float), (0, n - len(series[i]["t_ms"])),
                                constant_values=np.nan) for i in domids])

    firsts = [int(series[i]["wall_ns"][0]) for i in domids if len(series[i]["wall_ns"])]
    base = min(firsts) // NSEC_PER_SEC * NSEC_PER_SEC if firsts else 0
    x = rows(lambda s: s["t_ms"])
    y = {"tsc": rows(lambda s: s["tsc"].astype(float) / 1e6),
         "system": rows(lambda s: s["system_ms"]),
         "virtual": rows(lambda s: s["virtual_ms"]),
         "wall": rows(lambda s: [(int(w) - base) / 1e6 for w in s["wall_ns"]])}
    return {"domids": domids, "names": [series[i]["name"] for i in domids], "x": x, "y": y,
            "x_max": float(np.nanmax(x)) if x.size else 0.0, "wall_base_ns": base, "wall_base": wall_text(base)}


def legend_lines(series) -> list[str]:
    lines = []
    for s in series.values():
        if len(s["system_ms"]):
            lines.append(t("viz.cpu.clocks.legend", name=s["name"], tsc=int(s["tsc"][-1]), system=s["system_ms"][-1],
                           virtual=s["virtual_ms"][-1], wall=wall_text(s["wall_ns"][-1])))
    return lines


def _span(a: np.ndarray) -> tuple[float, float]:
    """An explicit (min, max) for a bqplot scale (bqplot 0.13 draws nothing with an automatic domain)."""
    finite = a[np.isfinite(a)] if a.size else a
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    pad = (hi - lo) * 0.05 or max(abs(hi) * 0.05, 1e-3)
    return lo - pad, hi + pad


class ClocksView(View):
    """Four small panels, one per clock, stacked over one shared system-time axis; a line per domain."""

    ERROR_KEY = "viz.cpu.error"
    MARGIN = {"top": 8, "bottom": 8, "left": 90, "right": 20}
    TICK_FORMAT = {"tsc": ".1f", "system": ".0f", "virtual": ".0f", "wall": ".0f"}

    def __init__(self, machine, run_ns: int = 50_000_000, every_ns: int = 1_000_000):
        import bqplot as bq
        import ipywidgets as W
        from xenlab.viz import theme
        self.machine, self.run_ns, self.every_ns = machine, int(run_ns), int(every_ns)
        self.recorder = ClockRecorder(machine)
        self.recorder.sample()
        # correct on first display: one sample draws no line, so the view starts with one run of run_ns
        self.recorder.run(self.run_ns, self.every_ns)
        self.errors: list[str] = []
        self.sx = bq.LinearScale(min=0, max=1)          # one x scale: the panels stay aligned
        self.lines, self.y_axes, self.y_scales, self.figures = {}, {}, {}, []
        font = theme.axis_font()
        for k, panel in enumerate(PANELS):
            sy = self.y_scales[panel] = bq.LinearScale(min=0, max=1)
            last = k == len(PANELS) - 1
            self.lines[panel] = bq.Lines(x=[], y=[], scales={"x": self.sx, "y": sy}, stroke_width=2)
            self.y_axes[panel] = bq.Axis(scale=sy, side="left", num_ticks=3, tick_format=self.TICK_FORMAT[panel],
                                         label_offset="70px", tick_style=font,
                                         label=t(f"viz.cpu.clocks.{panel}_axis"))
            x_axis = bq.Axis(scale=self.sx, label=t("viz.cpu.clocks.system") if last else "", tick_format=".1f",
                             tick_style=font if last else {"display": "none"})
            margin = dict(self.MARGIN, top=40 if k == 0 else 8, bottom=45 if last else 8)
            self.figures.append(bq.Figure(marks=[self.lines[panel]], axes=[x_axis, self.y_axes[panel]],
                                          title=t("viz.cpu.clocks.title") if k == 0 else "",
                                          animation_duration=0, fig_margin=margin,
                                          layout=W.Layout(**theme.fitted_figure_layout(130 + margin["top"] + margin["bottom"]))))
        self.domain_legend = W.HTML()
        self.legend = W.HTML()
        self.status = W.HTML()
        self.error_box = W.HTML()
        run = W.Button(description=t("viz.cpu.clocks.run"), icon="play", layout=theme.button_layout())
        self.which = W.Dropdown(options=self._options(), description=t("viz.views.clocks.domain"),
                                layout=W.Layout(width="260px"))
        pause = W.Button(description=t("viz.views.clocks.pause_run"), layout=theme.button_layout(),
                         tooltip=t("viz.views.clocks.pause_tip"))
        run.on_click(self._guarded(self.run))
        pause.on_click(self._guarded(self.toggle_pause))
        self.which.observe(self._guarded(lambda *_: self.redraw()), names="value")
        self.widget = W.VBox([*self.figures, self.domain_legend, theme.controls_row([run, self.which, pause]),
                              self.status, self.legend, self.error_box],
                             layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
        self.redraw()

    def _options(self):
        return [(f"{d.name} ({i})", i) for i, d in sorted(self.machine.domains.items()) if i != 0]

    def run(self, *_):
        self.recorder.run(self.run_ns, self.every_ns)
        self.redraw()

    def toggle_pause(self, *_):
        """Pause (or unpause) the chosen domain and run ``run_ns``, so the change shows at once: a paused
        domain's virtual time stays flat while the other clocks go on."""
        d = self.machine.domains.get(self.which.value)
        if d is None:
            return
        d.unpause() if d.pause_count else d.pause()
        self.recorder.run(self.run_ns, self.every_ns)
        self.redraw()

    def redraw(self):
        from xenlab.viz import theme
        series = clock_series(self.recorder.samples)
        p = clock_panels(series)
        colours = theme.domain_colours(p["domids"]) or [theme.TEXT]
        x = p["x"]
        lo = float(np.nanmin(x)) if x.size else 0.0
        with self.sx.hold_sync():                     # the x axis starts where the data starts
            self.sx.min, self.sx.max = lo, max(p["x_max"], lo + 1e-3)
        chosen = self.which.value
        for panel in PANELS:
            ymin, ymax = _span(p["y"][panel])
            with self.y_scales[panel].hold_sync():
                self.y_scales[panel].min, self.y_scales[panel].max = ymin, ymax
            # three ticks away from the panel's edges: the lowest never meets the x axis' labels
            self.y_axes[panel].tick_values = [ymin + (ymax - ymin) * f for f in (0.2, 0.5, 0.8)]
            with self.lines[panel].hold_sync():
                self.lines[panel].x = x
                self.lines[panel].y = p["y"][panel]
                self.lines[panel].labels = p["names"]
                self.lines[panel].colors = colours
                self.lines[panel].stroke_width = 2
        paused = {i for i, d in self.machine.domains.items() if d.pause_count}
        self.domain_legend.value = theme.legend_html(
            [(f"{n} ({i})" + (" – " + t("viz.views.clocks.paused") if i in paused else "")
              + (" ◀" if i == chosen else ""), c) for i, n, c in zip(p["domids"], p["names"], colours)]) + (
            f"<div style='font-size:{theme.FONT_PX}px;color:{theme.MUTED}'>{t('viz.views.clocks.overlap')}</div>")
        d = self.machine.domains.get(chosen)
        if d is not None:
            key = "viz.views.clocks.is_paused" if d.pause_count else "viz.views.clocks.is_running"
            self.status.value = (f"<div style='font-size:{theme.FONT_PX}px'>"
                                 + t(key, name=f"{d.name} ({chosen})", now=self.machine.now / 1e6) + "</div>")
        lines = legend_lines(series) + [t("viz.cpu.clocks.wall_base", base=p["wall_base"][:19])]
        self.legend.value = theme.pre_html("\n".join(lines))
