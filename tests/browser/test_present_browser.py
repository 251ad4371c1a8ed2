"""The lecturer's view: `xenlab present 09` serves chapter 9 with Voila, and Chromium shows the ring viewer.

Starts the command on a free loopback port with its own Jupyter folders, opens the page in Debian's
Chromium (Playwright), checks that no code is shown, that the ring viewer's figure draws its slots, and
that the "produce a request" and "push requests" buttons change the ring (the caption and the index labels),
then stops the server by its PID. Needs voila (pip install -e ".[present]") and /usr/bin/chromium; skips
without them unless XENLAB_REQUIRE_BROWSER=1 (as in .ci/run).
"""
import sys
import time
from pathlib import Path

import pytest

from tests.browser.labserver import (CHROMIUM, CHROMIUM_ARGS, ServerProcess, loopback_port, jupyter_env, port_ready,
                                     require_browser)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def presenting(tmp_path):
    require_browser("voila:pip install -e '.[present]'")
    port = loopback_port()
    cmd = [sys.executable, "-m", "xenlab.cli", "present", "09", "--lang", "en", "--no-browser",
           "--port", str(port), "--dir", str(ROOT)]
    # listening is enough: the first page view runs the notebook
    with ServerProcess(cmd, jupyter_env(tmp_path, XENLAB_LANG="en"), tmp_path / "voila.log", port_ready(port),
                       "Voila") as server:
        yield f"http://127.0.0.1:{port}", server


def test_present_shows_the_ring_viewer_without_code_and_its_buttons_work(presenting):
    from playwright.sync_api import sync_playwright
    base, server = presenting
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(90_000)
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/")
            produce = page.locator("button.jupyter-button", has_text="produce a request").first
            produce.wait_for(state="attached")
            # No code: Voila strips the inputs; the markdown and the widgets are there.
            html = page.content()
            assert "from xenlab.viz.ring import" not in html and "RingView(lab)" not in html
            assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
            # The ring viewer of the lab (the one with buttons): an SVG ring with an arc per slot and
            # its indices written beside it (req_prod=0 ...).
            figure = produce.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][last()]")
            ring = figure.locator("svg:has(text)").first
            ring.wait_for(state="attached")
            assert ring.locator("path").count() >= 8
            # The HTML widget redraws its SVG as a whole: always look the ring up again inside the box.
            labels_js = "el => [...el.querySelectorAll('svg text')].map(t => t.textContent)"
            box = figure.element_handle()
            page.wait_for_function(f"el => ({labels_js})(el).some(t => t.startsWith('req_prod='))", arg=box)
            # Let the notebook finish (Voila renders while the kernel still runs later cells, which step
            # the lab): wait until two reads a second apart agree.
            page.wait_for_load_state("networkidle")
            previous = None
            while previous != figure.inner_html():
                previous = figure.inner_html()
                time.sleep(1.0)

            def index(name):
                return int(next(t for t in page.evaluate(labels_js, box) if t.startswith(name + "=")).split("=")[1])

            before = figure.locator("svg:has(text)").first.inner_html()
            produce.scroll_into_view_if_needed()
            produce.click()                  # a request, or (a full ring) the caption saying so
            page.wait_for_function("([el, old]) => el.querySelector('svg:has(text)').innerHTML !== old ||"
                                   " el.innerText.includes('full')", arg=[box, before])
            push = figure.locator("button.jupyter-button", has_text="push requests").first
            push.click()
            # Pushing publishes everything produced: req_prod becomes req_prod_pvt, beside the ring.
            page.wait_for_function(f"""el => {{ const l = ({labels_js})(el);
                const v = n => l.find(t => t.startsWith(n + '='));
                return v('req_prod') && v('req_prod_pvt') && v('req_prod').split('=')[1] === v('req_prod_pvt').split('=')[1]; }}""",
                                   arg=box)
            assert index("req_prod") == index("req_prod_pvt") > 0
            page.screenshot(path=str(ARTIFACTS / "present-09-ring.png"), full_page=False)
            assert not errors, errors
        finally:
            browser.close()
    assert server.alive(), "the server stopped during the test"
