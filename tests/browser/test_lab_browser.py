"""The course as a student sees it: JupyterLab in Debian's Chromium, driven by Playwright.

Starts `xenlab lab` on a free loopback port with a token and its own Jupyter folders, opens the
chapter 2 lecture notebook (an unexecuted copy), runs all cells, checks that the bqplot layers figure
rendered and that clicking Step changes what is drawn, saves a screenshot to artifacts/browser/, and
stops the server by its PID.

Needs /usr/bin/chromium (`apt-get install -y chromium`); never `playwright install`. Without Chromium the
test skips, unless XENLAB_REQUIRE_BROWSER=1 (as in .ci/run), when it fails.
"""
import json
from pathlib import Path

import pytest

from tests.browser.labserver import LabServer, require_browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "02_architecture.ipynb"
ARTIFACTS = ROOT / "artifacts" / "browser"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def lab_server(tmp_path):
    """A course folder with an unexecuted copy of the notebook, served by `xenlab lab --lang pl`."""
    require_browser()                       # skip (or fail in CI) before paying for a server
    course = tmp_path / "course"
    for lang in ("pl",):
        (course / "notebooks" / lang).mkdir(parents=True)
        for name in ("00_contents.ipynb", NOTEBOOK):
            nb = json.loads((ROOT / "notebooks" / lang / name).read_text(encoding="utf-8"))
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    cell["outputs"] = []
            (course / "notebooks" / lang / name).write_text(json.dumps(nb), encoding="utf-8")
    with LabServer(course, work=tmp_path / "lab-work", cli=True, lang="pl") as lab:
        yield lab


def _dots(page) -> int:
    return page.locator("div.bqplot.figure svg path.dot").count()


def test_layers_widget_renders_and_steps(lab_server):
    lab = lab_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with lab.browser(viewport={"width": 1280, "height": 1000}, path=f"notebooks/pl/{NOTEBOOK}") as page:
        page.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for()
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

        figure = page.locator("div.bqplot.figure svg").first
        figure.wait_for(state="attached")
        # the boxes (hardware, Xen, three domains) and their labels are drawn
        page.wait_for_function(
            "() => document.querySelectorAll('div.bqplot.figure .mark text, div.bqplot.figure text')"
            ".length > 0 && [...document.querySelectorAll('div.bqplot.figure text')]"
            ".some(t => t.textContent.includes('Hiperwizor Xen'))")
        # the last cell has run (its output, in Polish, names ring 1: "pierścień 1")
        page.get_by_text("pierścień 1").first.wait_for(state="attached")
        assert _dots(page) == 0
        step = page.locator("button.jupyter-button", has_text="Krok").first
        step.scroll_into_view_if_needed()
        step.click()
        page.wait_for_function(
            "() => document.querySelectorAll('div.bqplot.figure svg path.dot').length === 1")
        caption = page.locator(":is(.widget-label, .widget-html-content)", has_text="krok 1:").first
        caption.wait_for(state="attached")
        drawn_before = page.evaluate("() => document.querySelector('div.bqplot.figure').innerHTML")
        step.click()
        page.wait_for_function(
            "() => document.querySelectorAll('div.bqplot.figure svg path.dot').length === 2")
        page.locator(":is(.widget-label, .widget-html-content)", has_text="krok 2:").first.wait_for(state="attached")
        drawn_after = page.evaluate("() => document.querySelector('div.bqplot.figure').innerHTML")
        assert drawn_before != drawn_after, "a step must change the drawing"
        fills = page.evaluate(
            "() => [...document.querySelectorAll('div.bqplot.figure svg path.dot')]"
            ".map(e => getComputedStyle(e).fill)")
        assert len(fills) == 2 and all(f.startswith("rgb") for f in fills)
        figure.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "02_architecture-layers.png"), full_page=False)
    assert lab.server.alive(), "the server stopped during the test"
