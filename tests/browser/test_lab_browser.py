"""The course as a student sees it: JupyterLab in Debian's Chromium, driven by Playwright.

Starts `xenlab lab` on a free loopback port with a token and its own Jupyter folders, opens the
chapter 2 lecture notebook (an unexecuted copy), runs all cells, checks that the bqplot layers figure
rendered and that clicking Step changes what is drawn, saves a screenshot to artifacts/browser/, and
stops the server by its PID.

Needs /usr/bin/chromium (`apt-get install -y chromium`); never `playwright install`. Without Chromium the
test skips, unless XENLAB_REQUIRE_BROWSER=1 (as in .ci/run), when it fails.
"""
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from xenlab.cli import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("XENLAB_CHROMIUM", "/usr/bin/chromium")
NOTEBOOK = "02_architecture.ipynb"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
OVERRIDES = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _require_browser():
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} not found (enable with: apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Python playwright is not installed (pip install -e '.[test]')")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("XENLAB_REQUIRE_BROWSER") == "1":
            pytest.fail("XENLAB_REQUIRE_BROWSER=1 but " + reason)
        pytest.skip(reason)


@pytest.fixture
def lab_server(tmp_path):
    """A course folder with an unexecuted copy of the notebook, served by `xenlab lab`."""
    _require_browser()                      # skip (or fail in CI) before paying for a server
    course = tmp_path / "course"
    for lang in ("pl",):
        (course / "notebooks" / lang).mkdir(parents=True)
        for name in ("00_contents.ipynb", NOTEBOOK):
            nb = json.loads((ROOT / "notebooks" / lang / name).read_text(encoding="utf-8"))
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    cell["outputs"] = []
            (course / "notebooks" / lang / name).write_text(json.dumps(nb), encoding="utf-8")
    settings = tmp_path / "app-settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(json.dumps(OVERRIDES), encoding="utf-8")
    env = {**os.environ, "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        (tmp_path / key).mkdir()
        env[key] = str(tmp_path / key)
    port, token = free_port(19000), secrets.token_hex(12)
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xenlab.cli", "lab", "--dir", str(course), "--lang", "pl",
         "--no-browser", "--port", str(port), "--token", token, "--",
         "--LabApp.expose_app_in_browser=True", f"--LabApp.app_settings_dir={settings}"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, (tmp_path / "lab.log").read_text()
            assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
            time.sleep(0.3)
        yield base, token, proc
    finally:
        proc.terminate()                       # xenlab lab exec'd jupyter: this PID is the server
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _dots(page) -> int:
    return page.locator("div.bqplot.figure svg path.dot").count()


def test_layers_widget_renders_and_steps(lab_server):
    _require_browser()
    from playwright.sync_api import sync_playwright

    base, token, proc = lab_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{base}/lab/tree/notebooks/pl/{NOTEBOOK}?token={token}")
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
            # the last cell has run (its output names ring 1)
            page.get_by_text("ring 1").first.wait_for(state="attached")
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
        finally:
            browser.close()
    assert proc.poll() is None, "the server stopped during the test"
