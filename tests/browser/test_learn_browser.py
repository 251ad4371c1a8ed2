"""Predict and quiz widgets (xenlab/viz/learn.py) in JupyterLab in Debian's Chromium, driven by Playwright.

A small Polish notebook with a multiple-choice prediction, a numeric one and a chapter quiz: a wrong choice
shows its misconception's explanation and locks the input, a number typed with a Polish decimal comma is
accepted, text that is not a number gets a hint and is not counted, and the quiz's one Check reveals every
answer. Same server set-up as test_lab_browser.py; skips without Chromium unless XENLAB_REQUIRE_BROWSER=1.
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

from tests.browser.labserver import CHROMIUM, CHROMIUM_ARGS, OVERRIDES  # noqa: E402  (one copy of the browser set-up)
CELLS = [
    "import xenlab",
    'xenlab.predict("02.guest_ring", 1, choices=(0, 1, 2, 3), wrong={0: "ring0", 3: "ring3"})',
    'xenlab.predict("quiz.01.xen_size", 17.5, tolerance=1.5)',
    'xenlab.quiz("02")',
]

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _require_browser():
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append(f"{CHROMIUM} not found (enable with: apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Python playwright is not installed (pip install -e '.[test]')")
    if missing:
        if os.environ.get("XENLAB_REQUIRE_BROWSER") == "1":
            pytest.fail("XENLAB_REQUIRE_BROWSER=1 but " + "; ".join(missing))
        pytest.skip("; ".join(missing))


@pytest.fixture
def lab(tmp_path):
    _require_browser()
    folder = tmp_path / "course" / "notebooks" / "pl"
    folder.mkdir(parents=True)
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c}
                    for c in CELLS],
          "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (folder / "learn_demo.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    contents = json.loads((ROOT / "notebooks" / "pl" / "00_contents.ipynb").read_text(encoding="utf-8"))
    (folder / "00_contents.ipynb").write_text(json.dumps(contents), encoding="utf-8")   # `xenlab lab` needs it
    settings = tmp_path / "app-settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(json.dumps(OVERRIDES), encoding="utf-8")
    env = {**os.environ, "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        (tmp_path / key).mkdir()
        env[key] = str(tmp_path / key)
    port, token = free_port(19100), secrets.token_hex(12)
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xenlab.cli", "lab", "--dir", str(tmp_path / "course"), "--lang", "pl",
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
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_predictions_and_quiz_give_feedback_in_the_browser(lab):
    from playwright.sync_api import sync_playwright

    base, token, proc = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(60_000)
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/lab/tree/notebooks/pl/learn_demo.ipynb?token={token}")
            page.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for()
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget")
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            checks = page.locator("button.jupyter-button", has_text="Sprawdź")
            page.wait_for_function(
                "() => [...document.querySelectorAll('button.jupyter-button')]"
                ".filter(b => b.textContent.includes('Sprawdź')).length === 3")
            assert page.get_by_text("Dobrych odpowiedzi").count() == 0

            # 1. a wrong choice: the misconception's own explanation, then the input locks
            select = page.locator(".widget-dropdown select").first
            select.select_option(label="0")
            checks.nth(0).click()
            page.get_by_text("Gdyby jądro gościa działało w pierścieniu 0", exact=False).first.wait_for()
            page.get_by_text("Dlaczego: Pierścień 0 należy do Xena", exact=False).first.wait_for()
            assert select.is_disabled() and checks.nth(0).is_disabled()

            # 2. a number: a hint for text, then 17,5 (Polish decimal comma) is right
            box = page.locator(".widget-text input").first
            box.fill("dużo")
            checks.nth(1).click()
            page.get_by_text("nie jest liczbą", exact=False).first.wait_for()
            assert not box.is_disabled()
            box.fill("17,5")
            checks.nth(1).click()
            page.get_by_text("Dobrze: 17,5.", exact=False).first.wait_for()
            assert box.is_disabled()

            # 3. the quiz: one Check reveals every answer, answered or not
            quiz_select = page.locator(".widget-dropdown select").nth(1)
            quiz_select.select_option(label="w pierścieniu 0, razem z Xenem")
            checks.nth(2).click()
            page.get_by_text("Dobrych odpowiedzi: 0 z 4.", exact=False).first.wait_for()
            assert page.get_by_text("Pierścień 0 ma tylko Xen", exact=False).count() == 1
            assert page.get_by_text("Bez odpowiedzi. Odpowiedź:", exact=False).count() == 3
            assert errors == [], errors
        finally:
            browser.close()
    assert proc.poll() is None, "the server stopped during the test"
