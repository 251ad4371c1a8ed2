"""Gallery screenshots of the course's widgets (all but the ring viewer, the memory map and the page
walker, which tools/gallery.py shoots): one PNG per widget under docs/gallery/, as a student sees it.

    PYTHONPATH=$PWD python tools/gallery_views.py              # Polish (the course's language)
    PYTHONPATH=$PWD python tools/gallery_views.py --lang en --only schedlab,clocks --out /tmp/shots

Starts one JupyterLab on a free loopback port (tests/browser/labserver.py: its own token and Jupyter
folders, stopped by its PID), opens unexecuted copies of the chapters' notebooks in Debian's Chromium
(Playwright, never ``playwright install``), runs all cells, and takes an element screenshot of each
widget's output. The window is tall, so a long widget is shot whole. Prints the DOM checks' findings
(tests/browser/dom_checks.py) for the shot widgets; exit status 1 if there were any.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import dom_checks  # noqa: E402
from tests.browser.labserver import LabServer, copy_course, open_and_run  # noqa: E402

# name -> (notebook, index of the widget output in that notebook, what it shows)
WIDGETS = {
    "layers": ("02_architecture", 0, "layers and hypercalls (ch. 2)"),
    "segments": ("03_segmentation", 0, "segment inspector (ch. 3)"),
    "hypercalls": ("05_cpu_rings", 0, "hypercall tracer (ch. 5)"),
    "evtchn": ("06_events", 0, "event channels (ch. 6)"),
    "schedlab": ("07_scheduling", 0, "scheduler lab (ch. 7)"),
    "clocks": ("08_time", 0, "four kinds of time (ch. 8)"),
    "blkio": ("10_block_devices", 0, "block I/O (ch. 10)"),
    "netflow": ("11_network", 0, "network counters and packet hops (ch. 11)"),
    "perf": ("12_performance", 0, "SOSP'03 Figure 3 (ch. 12)"),
    "xentop": ("13_domain_management", 0, "xentop (ch. 13)"),
    "migration": ("14_migration", 0, "live migration (ch. 14)"),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lang", default="pl")
    ap.add_argument("--only", default="", help="comma-separated names from WIDGETS")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "gallery")
    args = ap.parse_args(argv)
    names = [n for n in (args.only.split(",") if args.only else WIDGETS) if n]
    notebooks = sorted({WIDGETS[n][0] for n in names})
    tmp = Path(tempfile.mkdtemp(prefix="xenlab-gallery-"))
    course = copy_course(tmp / "course", notebooks, (args.lang,))
    args.out.mkdir(parents=True, exist_ok=True)
    findings = []
    with LabServer(course, tmp / "work") as lab, lab.browser(viewport={"width": 1400, "height": 2600}) as page:
        for nb in notebooks:
            open_and_run(page, f"notebooks/{args.lang}/{nb}.ipynb")
            report = dom_checks.inspect_widgets(page)
            for name in [n for n in names if WIDGETS[n][0] == nb]:
                index = WIDGETS[name][1]
                findings += [f"{name}: {f}" for f in dom_checks.check_report([report[index]], args.lang)]
                loc = page.locator(dom_checks.WIDGET_OUTPUT).nth(index)
                loc.scroll_into_view_if_needed()
                path = args.out / f"{name}.png"
                loc.screenshot(path=str(path), animations="disabled")
                print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
                      f"{path.stat().st_size // 1024} KB", flush=True)
        findings += page.xen_errors
    for f in findings:
        print("  ", f)
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
