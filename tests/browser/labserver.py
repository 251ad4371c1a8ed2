"""One JupyterLab server and one Chromium page, reused for many notebooks (test, gallery, benchmark).

    with LabServer(course_dir) as lab, lab.browser() as page:
        open_and_run(page, "notebooks/pl/07_scheduling.ipynb")

``course_dir`` holds unexecuted copies of the notebooks (``copy_course``). The server runs on a free
loopback port with a random token, its Jupyter folders inside ``course_dir``'s parent, and is stopped by
the PID this module started. Needs /usr/bin/chromium and Python playwright (never ``playwright install``).
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("XENLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
OVERRIDES = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
VIEWPORT = {"width": 1400, "height": 1000}

# The lecture notebooks that show widgets (the 14) and the widget each one is about.
WIDGET_NOTEBOOKS = ("02_architecture", "03_segmentation", "04a_paging", "04b_p2m_balloon_pae", "05_cpu_rings",
                    "06_events", "07_scheduling", "08_time", "09_rings", "10_block_devices", "11_network",
                    "12_performance", "13_domain_management", "14_migration")


def browser_missing(*modules: str) -> str:
    """Why this machine cannot run the browser checks ('' when it can); ``modules`` are further Python
    modules a check needs, each as "module:how to install it"."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} not found (apt-get install -y chromium)")
    for spec in ("playwright.sync_api:pip install -e '.[test]'", *modules):
        module, how = spec.split(":", 1)
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{module} is not installed ({how})")
    return "; ".join(missing)


def require_browser(*modules: str) -> None:
    """Skip the calling test when the browser checks cannot run, or fail it under XENLAB_REQUIRE_BROWSER=1
    (as in .ci/run), where a skip would hide a missing install step."""
    import pytest
    reason = browser_missing(*modules)
    if reason:
        if os.environ.get("XENLAB_REQUIRE_BROWSER") == "1":
            pytest.fail("XENLAB_REQUIRE_BROWSER=1 but " + reason)
        pytest.skip(reason)


def loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_env(work: Path, **extra: str) -> dict:
    """The environment for a server of our own: Jupyter's folders inside ``work`` (nothing of the user's
    is read or written), no display, this checkout first on PYTHONPATH so kernels import its xenlab."""
    env = {**os.environ, "DISPLAY": "", "WAYLAND_DISPLAY": "", **extra,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        (work / key).mkdir(parents=True, exist_ok=True)
        env[key] = str(work / key)
    return env


def http_ready(url: str):
    """A readiness probe: ``url`` answers 200."""
    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False
    return probe


def port_ready(port: int):
    """A readiness probe: something listens on the loopback ``port``."""
    def probe() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return True
        except OSError:
            return False
    return probe


class ServerProcess:
    """A server command started on this machine, ready when ``ready()`` says so, stopped by the PID this
    object started (never by name: other servers on the machine are not ours)."""

    def __init__(self, cmd: list, env: dict, log_path: Path, ready, what: str = "the server",
                 timeout_s: float = 60):
        self.cmd, self.env, self.log_path, self.ready = cmd, env, Path(log_path), ready
        self.what, self.timeout_s, self.proc = what, timeout_s, None

    def __enter__(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + self.timeout_s
        while not self.ready():
            if self.proc.poll() is not None:
                self.__exit__(None, None, None)
                raise RuntimeError(f"{self.what} exited:\n" + self.log_path.read_text())
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"{self.what} did not answer within {self.timeout_s:.0f} s:\n"
                                   + self.log_path.read_text())
            time.sleep(0.3)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.terminate()             # the launchers exec the server: this PID is the server
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self.log.close()


def copy_course(dest: Path, names=WIDGET_NOTEBOOKS, langs=("pl", "en")) -> Path:
    """Unexecuted copies of the notebooks ``names`` (stems) under ``dest/notebooks/<lang>/``."""
    for lang in langs:
        folder = dest / "notebooks" / lang
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            src = ROOT / "notebooks" / lang / f"{name}.ipynb"
            nb = json.loads(src.read_text(encoding="utf-8"))
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    cell["outputs"], cell["execution_count"] = [], None
            (folder / src.name).write_text(json.dumps(nb), encoding="utf-8")
    return dest


def write_notebook(path: Path, sources) -> Path:
    """A notebook of code cells ``sources`` (for checking one widget on its own)."""
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": src} for src in sources]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


class LabServer:
    """JupyterLab serving ``root`` (PYTHONPATH passed on, so kernels import this checkout's xenlab).

    ``cli=True`` starts it the way a student does, through ``xenlab lab --lang LANG`` (which execs
    JupyterLab), so the launcher itself is under test; otherwise JupyterLab is started directly."""

    def __init__(self, root: Path, work: Path | None = None, cli: bool = False, lang: str = "pl",
                 timeout_s: float = 60):
        self.root = Path(root)
        self.work = Path(work or self.root.parent / "lab-work")
        self.cli, self.lang, self.timeout_s = cli, lang, timeout_s
        self.server = None
        self.port = loopback_port()
        self.token = secrets.token_hex(12)
        self.base = f"http://127.0.0.1:{self.port}"

    @property
    def proc(self):
        return self.server.proc if self.server else None

    def __enter__(self):
        self.work.mkdir(parents=True, exist_ok=True)
        settings = self.work / "app-settings"
        settings.mkdir(exist_ok=True)
        (settings / "overrides.json").write_text(json.dumps(OVERRIDES), encoding="utf-8")
        lab_args = ["--LabApp.expose_app_in_browser=True", f"--LabApp.app_settings_dir={settings}"]
        if self.cli:
            cmd = [sys.executable, "-m", "xenlab.cli", "lab", "--dir", str(self.root), "--lang", self.lang,
                   "--no-browser", "--port", str(self.port), "--token", self.token, "--", *lab_args]
        else:
            cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.root_dir={self.root}",
                   "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", *lab_args]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                cmd.append("--allow-root")
        self.server = ServerProcess(cmd, jupyter_env(self.work), self.work / "lab.log",
                                    http_ready(f"{self.base}/api/status?token={self.token}"), "JupyterLab",
                                    self.timeout_s).__enter__()
        return self

    def __exit__(self, *exc):
        if self.server is not None:
            self.server.__exit__(*exc)
            self.server = None

    @contextlib.contextmanager
    def browser(self, viewport=VIEWPORT, path: str = ""):
        """A Chromium page on the JupyterLab app, or on the notebook ``path`` (relative to the served
        folder) opened as a student opens it by URL; ``page.xen_errors`` collects console and page errors."""
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport=viewport)
                page.set_default_timeout(60_000)
                errors: list[str] = []
                page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
                page.xen_errors = errors
                page.goto(f"{self.base}/lab/tree/{path}?token={self.token}" if path
                          else f"{self.base}/lab?token={self.token}")
                page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell")
                page.wait_for_function("() => window.jupyterapp.started !== undefined")
                page.evaluate("() => window.jupyterapp.started")
                yield page
            finally:
                browser.close()


# --- notebooks in the page ---------------------------------------------------------------------------
_OPEN = """async (path) => {
  const app = window.jupyterapp;
  // close what the previous notebook left: no "save changes?" dialog, its kernel shut down
  for (const old of [...app.shell.widgets('main')]) {
    try { if (old.context) old.context.model.dirty = false;
          if (old.sessionContext) await old.sessionContext.shutdown(); } catch (e) {}
    old.dispose();
  }
  const w = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await w.context.ready; await w.sessionContext.ready;
  window.__xen_nb = w;
  return true;
}"""
_STATE = """() => { const w = window.__xen_nb; if (!w) return {done: false};
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  const status = kernel ? kernel.status : 'none';
  const pending = cells.filter(c => c.model.executionCount === null && c.model.sharedModel.getSource().trim() !== '').length;
  const running = [...w.content.node.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));
  const tb = [...w.content.node.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.textContent).filter(t => t.includes('Traceback') || t.includes('Error'));
  return {status, pending, running, tracebacks: tb.slice(0, 3)}; }"""


def open_and_run(page, path: str, timeout_s: float = 120) -> dict:
    """Open ``path`` (relative to the server's root), run all cells, wait until the kernel is idle
    and every widget has rendered. Returns {"seconds", "tracebacks", "pending"}."""
    t0 = time.monotonic()
    page.evaluate(_OPEN, path)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    idle_since = None
    while True:
        st = page.evaluate(_STATE)
        busy = st["status"] != "idle" or st["running"]
        if not busy and st["pending"] == 0:
            break
        if not busy:                          # idle with unrun cells: run-all stopped at an error
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 3:
                break
        else:
            idle_since = None
        if time.monotonic() - t0 > timeout_s:
            break
        time.sleep(0.2)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-OutputArea-output')]
             .every(e => !e.querySelector('.jupyter-widgets') || e.querySelector('.jupyter-widgets').children.length > 0)""", timeout=30_000)
    wait_quiet(page, "document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook') || document.body",
               quiet_ms=500, max_ms=8000)
    return {"seconds": time.monotonic() - t0, "tracebacks": st.get("tracebacks", []), "pending": st["pending"]}


_QUIET = """async ([sel, quiet, max]) => {
  const root = eval(sel);
  return await new Promise(resolve => {
    const t0 = performance.now(); let last = t0, n = 0;
    const obs = new MutationObserver(() => { last = performance.now(); n++; });
    obs.observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
    const tick = () => { const now = performance.now();
      if (now - last >= quiet || now - t0 >= max) { obs.disconnect(); resolve({last: last - t0, n}); }
      else setTimeout(tick, 25); };
    setTimeout(tick, 25);
  }); }"""


def wait_quiet(page, root_js: str, quiet_ms: int = 300, max_ms: int = 10_000) -> dict:
    """Wait until nothing under ``root_js`` (a JS expression) has changed for ``quiet_ms``."""
    return page.evaluate(_QUIET, [root_js, quiet_ms, max_ms])
