"""Predict and quiz widgets (xenlab/viz/learn.py) in JupyterLab in Debian's Chromium, driven by Playwright.

A small Polish notebook with a multiple-choice prediction, a numeric one and a chapter quiz: a wrong choice
shows its misconception's explanation and locks the input, a number typed with a Polish decimal comma is
accepted, text that is not a number gets a hint and is not counted, and the quiz's one Check reveals every
answer. The server and the browser are tests/browser/labserver.py's; skips without Chromium unless
XENLAB_REQUIRE_BROWSER=1.
"""
import os

import pytest

from tests.browser.labserver import LabServer, browser_missing, open_and_run, write_notebook

CELLS = [
    "import xenlab",
    'xenlab.predict("02.guest_ring", 1, choices=(0, 1, 2, 3), wrong={0: "ring0", 3: "ring3"})',
    'xenlab.predict("quiz.01.xen_size", 17.5, tolerance=1.5)',
    'xenlab.quiz("02")',
]

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def lab(tmp_path):
    reason = browser_missing()
    if reason:
        if os.environ.get("XENLAB_REQUIRE_BROWSER") == "1":
            pytest.fail("XENLAB_REQUIRE_BROWSER=1 but " + reason)
        pytest.skip(reason)
    write_notebook(tmp_path / "course" / "notebooks" / "pl" / "learn_demo.ipynb", CELLS)
    with LabServer(tmp_path / "course", tmp_path / "work") as server:
        yield server


def test_predictions_and_quiz_give_feedback_in_the_browser(lab):
    from playwright.sync_api import expect
    with lab.browser(viewport={"width": 1280, "height": 1000}) as page:
        run = open_and_run(page, "notebooks/pl/learn_demo.ipynb")
        assert not run["tracebacks"], run["tracebacks"]
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
        # the lock arrives as its own widget message after the feedback: wait for it, do not race it
        expect(select).to_be_disabled()
        expect(checks.nth(0)).to_be_disabled()

        # 2. a number: a hint for text, then 17,5 (Polish decimal comma) is right
        box = page.locator(".widget-text input").first
        box.fill("dużo")
        checks.nth(1).click()
        page.get_by_text("nie jest liczbą", exact=False).first.wait_for()
        assert not box.is_disabled()
        box.fill("17,5")
        checks.nth(1).click()
        page.get_by_text("Dobrze: 17,5.", exact=False).first.wait_for()
        expect(box).to_be_disabled()

        # 3. the quiz: one Check reveals every answer, answered or not
        quiz_select = page.locator(".widget-dropdown select").nth(1)
        quiz_select.select_option(label="w pierścieniu 0, razem z Xenem")
        checks.nth(2).click()
        page.get_by_text("Dobrych odpowiedzi: 0 z 4.", exact=False).first.wait_for()
        assert page.get_by_text("Pierścień 0 ma tylko Xen", exact=False).count() == 1
        assert page.get_by_text("Bez odpowiedzi. Odpowiedź:", exact=False).count() == 3
        page_errors = [e for e in page.xen_errors if e.startswith("pageerror")]
        assert page_errors == [], page_errors
    assert lab.proc.poll() is None, "the server stopped during the test"
