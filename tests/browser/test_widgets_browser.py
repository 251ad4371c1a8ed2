"""Every widget notebook in Chromium, Polish and English: what the widgets draw, not only that they ran.

One JupyterLab server and one page for the whole module (tests/browser/labserver.py); each lecture
notebook with widgets (an unexecuted copy) is opened, run, and its widget outputs checked with
tests/browser/dom_checks.py:
- no traceback, no browser console error and no page error while it runs and while it is used;
- every bqplot figure draws a mark with data; no legend over the marks;
- no overlapping texts, no cut label or button, nothing wider than the output area;
- Polish: no raw catalogue key, no English sentence;
- Polish: every button, slider, dropdown and text box changes the view when used (or says why not);
  the English notebooks share the code, so they are run and checked without the clicking.

Needs /usr/bin/chromium and Python playwright; skips without them unless XENLAB_REQUIRE_BROWSER=1.
"""
from __future__ import annotations

import os

import pytest

from tests.browser import dom_checks
from tests.browser.labserver import (
    WIDGET_NOTEBOOKS,
    LabServer,
    browser_missing,
    copy_course,
    open_and_run,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Controls that are allowed to leave the view as it is (none so far).
SKIP_CONTROLS: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def lab_page(tmp_path_factory):
    reason = browser_missing()
    if reason:
        if os.environ.get("XENLAB_REQUIRE_BROWSER") == "1":
            pytest.fail("XENLAB_REQUIRE_BROWSER=1 but " + reason)
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("widgets")
    course = copy_course(tmp / "course")
    with LabServer(course, tmp / "work") as lab, lab.browser() as page:
        page.xen_keys = dom_checks.catalogue_keys()
        yield page
        assert lab.proc.poll() is None, "the server stopped during the test"


@pytest.mark.parametrize("lang", ["pl", "en"])
@pytest.mark.parametrize("name", WIDGET_NOTEBOOKS)
def test_widget_notebook(lab_page, name, lang):
    page = lab_page
    page.xen_errors.clear()
    run = open_and_run(page, f"notebooks/{lang}/{name}.ipynb")
    assert not run["tracebacks"], run["tracebacks"]
    assert run["pending"] == 0, "the notebook did not run to its end"
    report = dom_checks.inspect_widgets(page)
    assert report, "no widget was drawn"
    findings = dom_checks.check_report(report, lang, page.xen_keys)
    if lang == "pl":
        for i in range(len(report)):
            _, unchanged = dom_checks.exercise_controls(
                page, i, skip=lambda c: (name, c["label"]) in SKIP_CONTROLS)
            findings += [f"widget {i}: {c['kind']} {c['label'][:40]!r} changes nothing" for c in unchanged]
        findings += [f"after use: {f}" for f in dom_checks.check_report(dom_checks.inspect_widgets(page), lang,
                                                                         page.xen_keys)]
    errors = list(page.xen_errors)
    assert not findings and not errors, "\n".join(findings + errors)
