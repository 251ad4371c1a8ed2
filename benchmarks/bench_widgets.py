"""Input-to-redraw latency of the widgets in Chromium: a click, a slider step, a menu choice.

Run: PYTHONPATH=$PWD python benchmarks/bench_widgets.py [--reps 5] [--only schedlab,layers]

One JupyterLab server and one Chromium page (tests/browser/labserver.py); each chapter notebook is
run, then each control is used ``--reps`` times. The input is dispatched from the page's own script
(a click, an ArrowRight keydown on a slider handle, a change event on a select) right after a
MutationObserver is installed on the widget's output; the latency is the time of the last DOM mutation
before a quiet period of 300 ms (the kernel's round trip and the browser's redraw, together).
The baseline, measured in the same run, is the smallest widget round trip there is: a Button whose
click sets a Label's text. The report gives median and max per control and the ratio to the baseline.
Targets (issue 11): under 100 ms for a step or click, under 300 ms for a scheduler-lab re-simulation.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import dom_checks  # noqa: E402
from tests.browser.labserver import LabServer, copy_course, open_and_run, write_notebook  # noqa: E402

BASELINE = ("import ipywidgets as W\nb = W.Button(description='go'); l = W.Label('0')\n"
            "b.on_click(lambda *_: setattr(l, 'value', str(int(l.value) + 1)))\nW.VBox([b, l])")

# name -> (notebook, widget index, control kind, text that finds the control, target ms); index -1: the
# first widget output that has such a control (the chapters' predict and quiz widgets come before some
# views, so a fixed index would drift); PREPARE: a button clicked (not timed) before each measurement,
# so that the control has something to do
PREPARE = {"evtchn: next step": "Pokaż dostarczenie", "page walk: next level": "poprzedni poziom",
           "ring viewer: produce a request": "od początku"}
CONTROLS = {
    "layers: step": ("02_architecture", -1, "button", "Krok", 100),
    "segments: DPL menu": ("03_segmentation", -1, "select", "DPL", 100),
    "hypercalls: step back": ("05_cpu_rings", -1, "button", "Krok wstecz", 100),
    "evtchn: next step": ("06_events", -1, "button", "Następny krok", 100),
    "schedlab: weight slider (re-simulation)": ("07_scheduling", -1, "slider", "weight", 300),
    "schedlab: next decisions": ("07_scheduling", -1, "button", "kolejne decyzje", 100),
    "clocks: run 50 ms": ("08_time", -1, "button", "Uruchom 50 ms", 100),
    "xentop: next sample": ("13_domain_management", -1, "button", "Następna próbka", 100),
    "page walk: next level": ("04a_paging", -1, "button", "następny poziom", 100),
    "memory map: zoom to the domain": ("04b_p2m_balloon_pae", -1, "button", "przybliż do domeny", 100),
    "memory map: whole memory": ("04b_p2m_balloon_pae", -1, "button", "cała pamięć", 100),
    "ring viewer: produce a request": ("09_rings", -1, "button", "produkuj żądanie", 100),
}

_MEASURE = r"""async ([sel, index, kind, text, quiet]) => {
  const pick = {button: 'button.jupyter-button', slider: '.widget-slider', select: '.widget-dropdown'}[kind];
  const outs = [...document.querySelectorAll(sel)];
  const out = index >= 0 ? outs[index]
    : outs.find(o => [...o.querySelectorAll(pick)].some(e => e.textContent.includes(text)));
  if (!out) return null;
  const holder = [...out.querySelectorAll(pick)].find(e => e.textContent.includes(text));
  if (!holder) return null;
  return await new Promise(resolve => {
    let last = null;
    const obs = new MutationObserver(() => { last = performance.now(); });
    obs.observe(out, {subtree: true, childList: true, attributes: true, characterData: true});
    const t0 = performance.now();
    if (kind === 'button') holder.click();
    else if (kind === 'slider') {
      const h = holder.querySelector('.noUi-handle');
      h.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
    } else {
      const s = holder.querySelector('select');
      s.selectedIndex = (s.selectedIndex + 1) % s.options.length;
      s.dispatchEvent(new Event('change', {bubbles: true}));
    }
    const tick = () => { const now = performance.now();
      if ((last !== null && now - last >= quiet) || now - t0 > 10000) { obs.disconnect(); resolve(last === null ? -1 : last - t0); }
      else setTimeout(tick, 10); };
    setTimeout(tick, 10);
  });
}"""


def measure(page, index: int, kind: str, text: str, reps: int, prepare: str | None = None) -> list[float]:
    out = []
    for _ in range(reps):
        if prepare:
            page.evaluate(_MEASURE, [dom_checks.WIDGET_OUTPUT, index, "button", prepare, 300])
        ms = page.evaluate(_MEASURE, [dom_checks.WIDGET_OUTPUT, index, kind, text, 300])
        if ms is None:
            raise LookupError(f"no {kind} with {text!r}")
        out.append(ms)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", default="", help="substring filter on the control names")
    args = ap.parse_args(argv)
    chosen = {k: v for k, v in CONTROLS.items() if not args.only or any(s in k for s in args.only.split(","))}
    tmp = Path(tempfile.mkdtemp(prefix="xenlab-bench-widgets-"))
    course = copy_course(tmp / "course", sorted({v[0] for v in chosen.values()}), ("pl",))
    write_notebook(course / "notebooks" / "pl" / "baseline.ipynb", [BASELINE])
    rows = []
    with LabServer(course, tmp / "work") as lab, lab.browser() as page:
        open_and_run(page, "notebooks/pl/baseline.ipynb")
        base = measure(page, 0, "button", "go", max(args.reps, 5))
        rows.append(("baseline: Button -> Label", base, None))
        for nb in sorted({v[0] for v in chosen.values()}):
            open_and_run(page, f"notebooks/pl/{nb}.ipynb")
            for name, (book, index, kind, text, target) in chosen.items():
                if book == nb:
                    rows.append((name, measure(page, index, kind, text, args.reps, PREPARE.get(name)), target))
    base_median = statistics.median(rows[0][1])
    print(f"{'control':<44} {'median ms':>10} {'max ms':>8} {'x base':>7} {'target':>7}")
    worst = 0
    for name, times, target in rows:
        med, mx = statistics.median(times), max(times)
        verdict = "" if target is None else ("NO REDRAW" if min(times) < 0 else "ok" if med < target else "SLOW")
        worst |= verdict in ("SLOW", "NO REDRAW")
        print(f"{name:<44} {med:>10.0f} {mx:>8.0f} {med / base_median:>7.1f} "
              f"{'' if target is None else target:>7} {verdict}")
    return 1 if worst else 0


if __name__ == "__main__":
    raise SystemExit(main())
