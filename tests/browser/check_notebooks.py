"""Run the DOM checks on notebooks from the command line (what the browser test does, one report).

    PYTHONPATH=$PWD python -m tests.browser.check_notebooks 07_scheduling 08_time --lang pl --interact
    PYTHONPATH=$PWD python -m tests.browser.check_notebooks --snippet "from xenlab.viz.clocks import ClocksView; ClocksView()"

Prints, per notebook, the findings of ``dom_checks.check_report``, the controls that changed nothing,
and the console and page errors; ``--shots DIR`` saves a screenshot of each widget output.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tests.browser import dom_checks
from tests.browser.labserver import WIDGET_NOTEBOOKS, LabServer, copy_course, open_and_run, write_notebook


def check_open_notebook(page, lang: str, interact: bool, shots: Path | None = None, stem: str = "nb",
                        keys=None) -> list[str]:
    findings = []
    report = dom_checks.inspect_widgets(page)
    findings += dom_checks.check_report(report, lang, keys)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        for i in range(len(report)):
            loc = page.locator(dom_checks.WIDGET_OUTPUT).nth(i)
            if loc.is_visible():
                loc.scroll_into_view_if_needed(timeout=5000)
                loc.screenshot(path=str(shots / f"{stem}-{lang}-{i}.png"), timeout=10_000)
    if interact:
        for i in range(len(report)):
            used, unchanged = dom_checks.exercise_controls(page, i)
            for c in unchanged:
                findings.append(f"widget {i}: {c['kind']} {c['label'][:40]!r} changes nothing")
        findings += [f"after interaction: {f}" for f in
                     dom_checks.check_report(dom_checks.inspect_widgets(page), lang, keys)]
    return findings


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--lang", action="append")
    ap.add_argument("--interact", action="store_true")
    ap.add_argument("--snippet", action="append", help="check a notebook made of these code cells")
    ap.add_argument("--shots", type=Path)
    args = ap.parse_args(argv)
    langs = args.lang or ["pl"]
    tmp = Path(tempfile.mkdtemp(prefix="xenlab-dom-"))
    course = tmp / "course"
    names = args.notebooks or ([] if args.snippet else list(WIDGET_NOTEBOOKS))
    copy_course(course, names, langs)
    if args.snippet:
        for lang in langs:
            write_notebook(course / "notebooks" / lang / "snippet.ipynb", args.snippet)
        names.append("snippet")
    keys = dom_checks.catalogue_keys()
    bad = 0
    with LabServer(course, tmp / "work") as lab, lab.browser() as page:
        for lang in langs:
            for name in names:
                page.xen_errors.clear()
                t0 = time.monotonic()
                run = open_and_run(page, f"notebooks/{lang}/{name}.ipynb")
                findings = [f"traceback: {tb[-300:]}" for tb in run["tracebacks"]]
                findings += check_open_notebook(page, lang, args.interact, args.shots, name, keys)
                findings += page.xen_errors[:10]
                bad += bool(findings)
                print(f"== {lang}/{name}: run {run['seconds']:.1f} s, total {time.monotonic() - t0:.1f} s, "
                      f"{len(findings)} findings", flush=True)
                for f in findings:
                    print("   ", f, flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
