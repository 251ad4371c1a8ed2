"""`xenlab present`: which notebook it serves and how (the browser test is tests/browser/test_present_browser.py)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", "xenlab.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "XENLAB_LANG": "en", "DISPLAY": ""}, timeout=60)


def test_present_serves_the_chapter_with_voila_on_loopback_without_code():
    r = run("present", "9", "--lang", "pl", "--dry-run", "--port", "8901", "--dir", str(ROOT))
    assert r.returncode == 0, r.stderr
    cmd = r.stdout.strip().splitlines()[-1]
    assert f"-m voila {ROOT / 'notebooks' / 'pl' / '09_rings.ipynb'}" in cmd
    assert "--Voila.ip=127.0.0.1" in cmd and "--port=8901" in cmd and "--strip_sources=True" in cmd
    assert "--no-browser" in cmd                         # no display: nothing to open
    assert "http://127.0.0.1:8901/" in r.stdout


def test_present_an_unknown_chapter_is_a_clear_error():
    r = run("present", "77", "--dir", str(ROOT))
    assert r.returncode == 1 and "no chapter 77" in r.stderr
