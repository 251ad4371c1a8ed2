"""Screenshots of the course's widgets as a student sees them, and a check of what they draw.

    PYTHONPATH=$PWD python tools/gallery.py                  # Polish and English, writes docs/gallery/*.png
    PYTHONPATH=$PWD python tools/gallery.py --lang en --only ring,pagewalk --no-save

Starts ``xenlab lab`` on a free loopback port (its own token and Jupyter folders, stopped by its PID),
opens unexecuted copies of the chapters' notebooks in Debian's Chromium (Playwright, never
``playwright install``), runs all cells, then for each widget clicks every control as a student would and
checks after each click: the view changed, no browser console or page error, no two visible texts
overlap, no button or label text is cut off, nothing is wider than the output area (960 px). The gallery
images (docs/gallery/<name>.png, Polish) are element screenshots taken after the clicks.
Exit status 1 if a check failed; the problems are printed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.browser.labserver import CHROMIUM, CHROMIUM_ARGS, LabServer  # noqa: E402  (one copy of the browser set-up)
MAX_WIDTH = 960

# The layout checks, run in the page on one widget's output element.
CHECK_JS = """(root) => {
  const problems = [];
  const visible = (r) => r.width > 0 && r.height > 0;
  const rootBox = root.getBoundingClientRect();
  // content (pictures, buttons, text boxes) must end within 960 px of the output's left edge and inside it
  for (const el of root.querySelectorAll('svg, button, input, select, .widget-html-content, .widget-label')) {
    const r = el.getBoundingClientRect();
    if (!visible(r)) continue;
    if (r.right > rootBox.left + %(max)d + 8) problems.push(`${el.tagName.toLowerCase()} ends ${Math.round(r.right - rootBox.left)} px from the left`);
  }
  if (root.scrollWidth > root.clientWidth + 1) problems.push(`output scrolls horizontally (${root.scrollWidth} > ${root.clientWidth})`);
  for (const el of root.querySelectorAll('button, .widget-label, .widget-label-basic, label')) {
    const r = el.getBoundingClientRect();
    if (!visible(r)) continue;
    if (el.scrollWidth > el.clientWidth + 1) problems.push(`cut text: "${el.textContent.trim()}"`);
    if (r.right > rootBox.right + 1) problems.push(`beyond the output area: "${el.textContent.trim()}"`);
  }
  const texts = [...root.querySelectorAll('svg text')].map(t => [t, t.getBoundingClientRect()])
      .filter(([t, r]) => visible(r) && t.textContent.trim());
  for (let i = 0; i < texts.length; i++) {
    const [a, ra] = texts[i];
    if (ra.right > rootBox.right + 1 || ra.left < rootBox.left - 1) problems.push(`svg text leaves the area: "${a.textContent}"`);
    const svg = a.ownerSVGElement.getBoundingClientRect();
    if (ra.right > svg.right + 1 || ra.left < svg.left - 1 || ra.top < svg.top - 1 || ra.bottom > svg.bottom + 1)
      problems.push(`svg text cut at the picture's edge: "${a.textContent}"`);
    for (let j = i + 1; j < texts.length; j++) {
      const [b, rb] = texts[j];
      const dx = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const dy = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (dx > 2 && dy > 2) problems.push(`texts overlap: "${a.textContent}" / "${b.textContent}"`);
    }
  }
  for (const [t, r] of texts)
    if (parseFloat(getComputedStyle(t).fontSize) < 12) problems.push(`svg text under 12 px: "${t.textContent}"`);
  return problems;
}""" % {"max": MAX_WIDTH}

QUIET_JS = """(root, ms) => new Promise(resolve => {
  let last = performance.now();
  const start = window.__t0 || last;
  const obs = new MutationObserver(() => { last = performance.now(); });
  obs.observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
  const tick = () => { if (performance.now() - last > ms) { obs.disconnect(); resolve(last - start); } else setTimeout(tick, 50); };
  setTimeout(tick, 50);
})"""


def labels(lang: str):
    from xenlab import i18n
    i18n.set_language(lang)
    return lambda key, **kw: i18n.t(key, **kw)


class Lab:
    """A JupyterLab server on a copy of the given notebooks (outputs cleared), stopped by its PID."""

    def __init__(self, notebooks: list[str], langs: list[str]):
        self.tmp = Path(tempfile.mkdtemp(prefix="xenlab-gallery-"))
        course = self.tmp / "course"
        for lang in langs:
            for name in ["notebooks/{lang}/00_contents.ipynb", *notebooks]:
                rel = name.format(lang=lang)
                nb = json.loads((ROOT / rel).read_text(encoding="utf-8"))
                for cell in nb["cells"]:
                    if cell["cell_type"] == "code":
                        cell["outputs"] = []
                (course / rel).parent.mkdir(parents=True, exist_ok=True)
                (course / rel).write_text(json.dumps(nb), encoding="utf-8")
        # `xenlab lab` as a student starts it; its server and folders are labserver.py's
        self.server = LabServer(course, work=self.tmp / "lab-work", cli=True, lang=langs[0], timeout_s=90)
        self.server.__enter__()
        self.base, self.token = self.server.base, self.server.token

    def url(self, lang: str, notebook: str) -> str:
        # a workspace of its own per page: JupyterLab would otherwise reopen the notebooks of earlier pages
        self.n = getattr(self, "n", 0) + 1
        return f"{self.base}/lab/workspaces/gallery{self.n}/tree/{notebook.format(lang=lang)}?token={self.token}"

    def stop(self):
        self.server.__exit__(None, None, None)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Session:
    """One notebook open in Chromium, all cells run; helpers to click and check one widget."""

    def __init__(self, browser, lab: Lab, lang: str, notebook: str, report: list):
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.set_default_timeout(120_000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.report, self.where = report, notebook.format(lang=lang)
        self.page.goto(lab.url(lang, notebook))
        self.page.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for()
        self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget")
        self.page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        time.sleep(1)
        self.page.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for()
        time.sleep(1.5)

    def widget(self, css: str, nth: int = 0):
        root = self.page.locator(f".jp-OutputArea-output:has({css})").nth(nth)
        root.wait_for(state="attached")
        root.scroll_into_view_if_needed()
        return root

    def problem(self, what: str):
        self.report.append(f"{self.where}: {what}")
        print("  PROBLEM", what, flush=True)

    def check(self, root, step: str):
        for p in root.evaluate(CHECK_JS):
            self.problem(f"after {step}: {p}")
        for e in self.errors:
            self.problem(f"after {step}: {e}")
        self.errors.clear()

    def act(self, root, step: str, do, must_change: bool = True, settle_ms: int = 300):
        """Do one student action; check the view changed and is still well laid out; return the latency."""
        before = root.inner_html()
        self.page.evaluate("() => { window.__t0 = performance.now(); }")
        do()
        latency = root.evaluate(QUIET_JS, settle_ms)     # input to the widget's last change before a quiet spell
        after = root.inner_html()
        if must_change and before == after:
            self.problem(f"{step}: the view did not change")
        self.check(root, step)
        print(f"  {step}: {latency:.0f} ms", flush=True)
        return latency

    def button(self, root, text: str, nth: int = 0):
        return root.get_by_role("button", name=text, exact=True).nth(nth)

    def close(self):
        self.page.close()


# -- what a student does with each widget ------------------------------------------------------------------
def drive_ring_lab(s: Session, t):
    root = s.widget("text.index-label")
    s.check(root, "first display")
    for key, nth in (("produce", 0), ("produce", 0), ("push", 0), ("consume", 0), ("respond", 0), ("bpush", 0),
                     ("gconsume", 0), ("gfinal", 0), ("bfinal", 1), ("produce", 0), ("push", 0)):
        s.act(root, f"click {key}", lambda k=key, n=nth: s.button(root, t(f"viz.ring.{k}"), n).click())
    s.act(root, "undo", lambda: s.button(root, t("viz.ring.undo")).click())
    s.act(root, "reset", lambda: s.button(root, t("viz.ring.reset")).click())
    for key in ("produce", "produce", "push", "consume"):
        s.act(root, f"click {key}", lambda k=key: s.button(root, t(f"viz.ring.{k}")).click())
    s.act(root, "predict on", lambda: root.locator("button.widget-toggle-button", has_text=t("viz.ring.predict")).first.click())
    s.act(root, "produce asks", lambda: s.button(root, t("viz.ring.produce")).click())
    # Enter (or leaving the box) answers, as the widget's tip says; the check button is for the mouse
    s.act(root, "answer 6", lambda: (root.locator("input[type=number]").first.fill("6"),
                                     root.locator("input[type=number]").first.press("Enter")))
    s.act(root, "push asks", lambda: s.button(root, t("viz.ring.push"), 0).click())
    s.act(root, "answer no", lambda: s.button(root, t("viz.ring.no")).click())
    for key in ("consume", "respond"):
        s.act(root, f"click {key}", lambda k=key: s.button(root, t(f"viz.ring.{k}")).click())
    s.act(root, "bpush asks", lambda: s.button(root, t("viz.ring.bpush")).click())
    s.act(root, "answer yes", lambda: s.button(root, t("viz.ring.yes")).click())
    return root


def drive_ring_player(s: Session, t, nth: int = 0, shots: int = 4):
    root = s.widget("text.index-label", nth)
    s.check(root, "first display")
    for _ in range(shots):
        s.act(root, "next", lambda: s.button(root, t("viz.ring.next")).click())
    s.act(root, "back", lambda: s.button(root, t("viz.ring.back")).click())
    s.act(root, "speed 4x", lambda: root.locator("select").first.select_option(label="4×"))
    s.act(root, "play", lambda: root.locator(".widget-play button").first.click(), settle_ms=1200)
    s.act(root, "reset", lambda: s.button(root, t("viz.ring.reset")).click())
    s.act(root, "predict on", lambda: root.locator("button.widget-toggle-button", has_text=t("viz.ring.predict")).first.click())
    for _ in range(3):
        s.act(root, "next (predict)", lambda: s.button(root, t("viz.ring.next")).click())
        if s.button(root, t("viz.ring.yes")).is_visible():
            s.act(root, "answer yes", lambda: s.button(root, t("viz.ring.yes")).click())
        elif root.locator("input[type=number]").first.is_visible():
            s.act(root, "answer 31", lambda: (root.locator("input[type=number]").first.fill("31"),
                                              s.button(root, t("viz.ring.check")).click()))
    return root


def drive_memmap(s: Session, t):
    root = s.widget(".bqplot image")
    s.check(root, "first display")
    picture = root.locator(".bqplot image").first
    act = s.act

    def redrawn(step, do):
        """An action that must change the raster itself (its blob), not only the text around it."""
        before = picture.get_attribute("href")
        act(root, step, do)
        if picture.get_attribute("href") == before:
            s.problem(f"{step}: the picture did not change")
    s.act = lambda r, step, do, **kw: redrawn(step, do) if step in (
        "by type", "balloon out", "zoom to the domain", "whole memory", "by owner") else act(r, step, do, **kw)
    s.act(root, "by type", lambda: s.button(root, t("viz.memmap.type")).click())
    s.act(root, "balloon out", lambda: s.button(root, t("viz.memmap.out")).click())
    s.act(root, "balloon in", lambda: s.button(root, t("viz.memmap.in")).click())
    s.act(root, "other domain", lambda: root.locator("select").select_option(index=1))
    s.act(root, "zoom to the domain", lambda: s.button(root, t("viz.memmap.zoom_domain")).click())
    box = root.locator(".bqplot image").bounding_box()
    s.act(root, "click a frame", lambda: s.page.mouse.click(box["x"] + box["width"] * 0.37, box["y"] + box["height"] * 0.41))
    s.act(root, "whole memory", lambda: s.button(root, t("viz.memmap.whole")).click())
    s.act(root, "by owner", lambda: s.button(root, t("viz.memmap.owner")).click())
    box = root.locator(".bqplot image").bounding_box()
    s.act(root, "click a frame", lambda: s.page.mouse.click(box["x"] + box["width"] * 0.61, box["y"] + box["height"] * 0.23))
    # the picture for the gallery: d2's frames by type, one of them clicked
    s.act(root, "by type", lambda: s.button(root, t("viz.memmap.type")).click())
    s.act(root, "domain d2", lambda: root.locator("select").select_option(index=2))
    s.act(root, "zoom to the domain", lambda: s.button(root, t("viz.memmap.zoom_domain")).click())
    box = root.locator(".bqplot image").bounding_box()
    s.act(root, "click a frame", lambda: s.page.mouse.click(box["x"] + box["width"] * 0.30, box["y"] + box["height"] * 0.35))
    s.page.mouse.move(0, 0)                       # no hover toolbar over the picture
    time.sleep(0.5)
    s.act = act
    return root


def drive_pagewalk(s: Session, t, nth: int = 0):
    root = s.widget("marker#pw-arrow", nth)
    s.check(root, "first display")
    box = root.locator("input[type=text]").first

    def typed(text):
        box.fill(text)
        box.press("Enter")
    s.act(root, "type + Enter", lambda: typed("0xc0003000"))
    s.act(root, "write", lambda: s.button(root, t("viz.pagewalk.write")).click())
    s.act(root, "user mode", lambda: root.locator("input[type=checkbox]").first.click())
    s.act(root, "bad address", lambda: typed("0xzz"))
    for key in ("hole", "xen", "user", "kernel"):
        s.act(root, f"example {key}", lambda k=key: s.button(root, t(f"viz.pagewalk.example.{k}")).click())
    s.act(root, "back a level", lambda: s.button(root, t("viz.pagewalk.prev")).click())
    s.act(root, "next level", lambda: s.button(root, t("viz.pagewalk.next")).click())
    s.act(root, "read", lambda: s.button(root, t("viz.pagewalk.read")).click())
    return root


def drive_ex09(s: Session, t):
    """Exercise 09's ring viewer on the solution's functions: the guest's push and final check are the
    student's (here the solution's), so the same clicks must behave as chapter 9's ring."""
    root = s.widget("text.index-label")
    s.check(root, "first display")
    for key, nth in (("produce", 0), ("push", 0), ("consume", 0), ("respond", 0), ("bpush", 0), ("gconsume", 0),
                     ("gfinal", 0), ("undo", 0)):
        s.act(root, f"click {key}", lambda k=key, n=nth: s.button(root, t(f"viz.ring.{k}"), n).click())
    return root


WIDGETS = {
    "ring": ("notebooks/{lang}/09_rings.ipynb", drive_ring_lab),
    "ring10": ("notebooks/{lang}/10_block_devices.ipynb", drive_ring_player),
    "ring11": ("notebooks/{lang}/11_network.ipynb", lambda s, t: drive_ring_player(s, t, 0, 2)),
    "ring_ex09": ("solutions/{lang}/ex09_front_ring.ipynb", drive_ex09),
    "memmap": ("notebooks/{lang}/04b_p2m_balloon_pae.ipynb", drive_memmap),
    "pagewalk": ("notebooks/{lang}/04a_paging.ipynb", drive_pagewalk),
    "pagewalk_ex04a": ("solutions/{lang}/ex04a_page_walk.ipynb", drive_pagewalk),
}
GALLERY = ("ring", "memmap", "pagewalk")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lang", choices=("pl", "en", "both"), default="both")
    ap.add_argument("--only", default=",".join(WIDGETS))
    ap.add_argument("--out", default=str(ROOT / "docs" / "gallery"))
    ap.add_argument("--no-save", action="store_true", help="check only, write no images")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright
    langs = ["pl", "en"] if args.lang == "both" else [args.lang]
    names = [n for n in args.only.split(",") if n]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report: list[str] = []
    lab = Lab(sorted({WIDGETS[n][0] for n in names}), langs)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                for lang in langs:
                    t = labels(lang)
                    for name in names:
                        notebook, drive = WIDGETS[name]
                        print(f"{lang} {name} ({notebook})", flush=True)
                        s = Session(browser, lab, lang, notebook, report)
                        try:
                            root = drive(s, t)
                            if not args.no_save and lang == langs[0] and name in GALLERY:
                                root.scroll_into_view_if_needed()
                                root.screenshot(path=str(out / f"{name}.png"))
                            else:
                                root.screenshot(path=str(Path(lab.tmp) / f"{lang}-{name}.png"))
                                shutil.copy(Path(lab.tmp) / f"{lang}-{name}.png",
                                            Path(tempfile.gettempdir()) / f"gallery-{lang}-{name}.png")
                        except Exception as exc:           # noqa: BLE001  (reported, the others still run)
                            s.problem(f"{type(exc).__name__}: {exc}")
                        finally:
                            s.close()
            finally:
                browser.close()
    finally:
        lab.stop()
    print("\n".join(report) if report else "no problems found")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
