"""The lecturer's view: `xenlab present 09` serves chapter 9 with Voila, and Chromium shows the ring viewer.

Starts the command on a free loopback port with its own Jupyter folders, opens the page in Debian's
Chromium (Playwright), checks that no code is shown, that the ring viewer's figure draws its slots, and
that the "guest: produce" and "guest: push" buttons change the ring (the caption and the pointer labels),
then stops the server by its PID. Needs voila (pip install -e ".[present]") and /usr/bin/chromium; skips
without them unless XENLAB_REQUIRE_BROWSER=1 (as in .ci/run).
"""
import os
import re
import subprocess
import sys
import socket
import time
from pathlib import Path

import pytest

from xenlab.cli import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("XENLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ARTIFACTS = ROOT / "artifacts" / "browser"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _require():
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} not found (apt-get install -y chromium)")
    for module, how in (("playwright.sync_api", "pip install -e '.[test]'"), ("voila", "pip install -e '.[present]'")):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{module} is not installed ({how})")
    if missing:
        if os.environ.get("XENLAB_REQUIRE_BROWSER") == "1":
            pytest.fail("XENLAB_REQUIRE_BROWSER=1 but " + "; ".join(missing))
        pytest.skip("; ".join(missing))


@pytest.fixture
def presenting(tmp_path):
    _require()
    env = {**os.environ, "DISPLAY": "", "WAYLAND_DISPLAY": "", "XENLAB_LANG": "en"}
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        (tmp_path / key).mkdir()
        env[key] = str(tmp_path / key)
    port = free_port(19400)
    log = open(tmp_path / "voila.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "xenlab.cli", "present", "09", "--lang", "en", "--no-browser",
                             "--port", str(port), "--dir", str(ROOT)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    break                     # listening; the first page view runs the notebook
            except OSError:
                pass
            assert proc.poll() is None, (tmp_path / "voila.log").read_text()
            assert time.monotonic() < deadline, "Voila did not answer within 60 s"
            time.sleep(0.3)
        yield base, proc
    finally:
        proc.terminate()                      # xenlab present exec'd voila: this PID is the server
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_present_shows_the_ring_viewer_without_code_and_its_buttons_work(presenting):
    from playwright.sync_api import sync_playwright
    base, proc = presenting
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(90_000)
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/")
            produce = page.locator("button.jupyter-button", has_text="guest: produce").first
            produce.wait_for(state="attached")
            # No code: Voila strips the inputs; the markdown and the widgets are there.
            html = page.content()
            assert "from xenlab.viz.ring import" not in html and "RingView(lab)" not in html
            assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
            page.wait_for_function("() => [...document.querySelectorAll('div.bqplot.figure text')]"
                                   ".some(t => t.textContent.startsWith('req_prod='))")
            # The ring viewer of the lab (the one with buttons) draws one dot per slot.
            figure = produce.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]")
            dots = figure.locator("div.bqplot.figure svg path.dot")
            assert dots.count() >= 8
            # Let the notebook finish (Voila renders while the kernel still runs later cells).
            page.wait_for_load_state("networkidle")
            before = figure.locator("div.bqplot.figure").first.inner_html()
            produce.scroll_into_view_if_needed()
            produce.click()
            caption = figure.locator(".widget-label", has_text="guest produced request").first
            caption.wait_for(state="attached")
            pvt = int(re.search(r"req_prod_pvt=(\d+)", caption.inner_text()).group(1))
            after_produce = figure.locator("div.bqplot.figure").first.inner_html()
            assert after_produce != before, "producing a request must change the ring's drawing"
            push = figure.locator("button.jupyter-button", has_text="guest: push").first
            push.click()
            # Pushing publishes req_prod = req_prod_pvt: the pointer label on the ring moves.
            page.wait_for_function(
                "([el, want]) => [...el.querySelectorAll('text')].some(t => t.textContent === want)",
                arg=[figure.element_handle(), f"req_prod={pvt}"])
            page.screenshot(path=str(ARTIFACTS / "present-09-ring.png"), full_page=False)
            assert not errors, errors
        finally:
            browser.close()
    assert proc.poll() is None, "the server stopped during the test"
