"""The xenlab command: arguments, errors, and `xenlab lab` really serving the course."""
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from xenlab import cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "xenlab.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("xenlab ")


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["lab", "--port", "x"], ["lab", "--lang", "de"],
                                  ["grade"], ["grade", "a.ipynb", "--cell-timeout", "soon"]])
def test_bad_arguments_exit_2_with_usage(args):
    r = run(*args)
    assert r.returncode == 2 and "usage: xenlab" in r.stderr


def test_grade_missing_path_is_a_clear_error():
    r = run("grade", "no/such/file.ipynb", env={"XENLAB_LANG": "en"})
    assert r.returncode == 1 and "No such file or folder" in r.stderr


def test_lab_dry_run_prints_url_and_uses_the_course(tmp_path):
    r = run("lab", "--dry-run", "--lang", "en", "--port", "8765", "--token", "abc", "--no-browser",
            env={"DISPLAY": ""})
    assert r.returncode == 0, r.stderr
    assert "http://127.0.0.1:8765/lab/tree/notebooks/en/00_contents.ipynb?token=abc" in r.stdout
    assert f"--ServerApp.root_dir={ROOT}" in r.stdout and "--ServerApp.port_retries=0" in r.stdout


def test_lab_headless_says_where_to_point_a_browser():
    r = run("lab", "--dry-run", env={"DISPLAY": "", "WAYLAND_DISPLAY": "", "XENLAB_LANG": "en"})
    assert "No display found" in r.stdout and "--no-browser" in r.stdout


def test_lab_falls_back_to_the_checkout_the_package_runs_from(tmp_path):
    r = subprocess.run([sys.executable, "-m", "xenlab.cli", "lab", "--dir", str(tmp_path), "--dry-run"],
                       capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, "XENLAB_LANG": "en", "XENLAB_COURSE_DIR": str(tmp_path)})
    # the checkout is still found through the package location
    assert r.returncode == 0 and str(ROOT) in r.stdout


def test_find_course_prefers_explicit_dir(tmp_path):
    (tmp_path / "notebooks" / "pl").mkdir(parents=True)
    (tmp_path / "notebooks" / "pl" / "00_contents.ipynb").write_text("{}")
    assert cli.find_course("pl", str(tmp_path)) == tmp_path.resolve()
    assert cli.find_course("pl") == ROOT


def test_xm_runs_on_a_fresh_machine():
    r = run("xm", "list")
    assert r.returncode == 0 and "Domain-0" in r.stdout
    r = run("xm", "frobnicate")
    assert r.returncode == 1 and "frobnicate" in r.stderr and "Traceback" not in r.stderr


def test_lab_serves_the_course(tmp_path):
    """`xenlab lab` itself, headless: the server answers and has the start notebook."""
    port = cli.free_port(18888)
    env = {**os.environ, "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[key] = str(tmp_path / key)
    proc = subprocess.Popen([sys.executable, "-m", "xenlab.cli", "lab", "--port", str(port), "--token", "t0k"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        url = f"http://127.0.0.1:{port}/api/contents/notebooks/pl/00_contents.ipynb?token=t0k&content=0"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "JupyterLab did not start within 60 s"
                time.sleep(0.3)
    finally:
        proc.terminate()                  # the server runs under this very PID (exec)
        proc.wait(timeout=20)
