"""`xenlab hub` on loopback: two students log in, each gets an own copy of the course and runs chapter 09
on their own server (every code cell, through the kernel's websocket); one edits it, the other does not
see the edit, and a restart does not overwrite it; the instructor's `xenlab hub-collect` gathers both exercise notebooks
in the layout `xenlab grade` reads. Dummy authenticator (XENLAB_HUB_TEST_PASSWORD) in this test only.

Needs jupyterhub (pip install -e ".[hub]") and configurable-http-proxy (npm); skips without them unless
XENLAB_REQUIRE_CLASS_TOOLS=1 (as in .ci/run).
"""
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xenlab.cli import free_port, main as xenlab_main
from xenlab.grading.grader import find_submissions
from xenlab.hub import prepare_home

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.xdist_group("hub")


def _require():
    missing = []
    try:
        import jupyterhub  # noqa: F401
        import requests  # noqa: F401
    except ImportError:
        missing.append("jupyterhub is not installed (pip install -e '.[hub]')")
    if shutil.which("configurable-http-proxy") is None:
        missing.append("configurable-http-proxy is not installed (npm install -g configurable-http-proxy)")
    if missing:
        if os.environ.get("XENLAB_REQUIRE_CLASS_TOOLS") == "1":
            pytest.fail("; ".join(missing))
        pytest.skip("; ".join(missing))


def test_prepare_home_copies_the_course_once_and_never_overwrites(tmp_path):
    copied = prepare_home(tmp_path, "en", root=ROOT)
    mine = tmp_path / "xenlab-course" / "exercises" / "en" / "ex01_domain_states.ipynb"
    assert mine in copied and len(copied) == len(list((ROOT / "notebooks" / "en").glob("*.ipynb"))) + \
        len(list((ROOT / "exercises" / "en").glob("*.ipynb")))
    mine.write_text("my work", encoding="utf-8")
    (tmp_path / "xenlab-course" / "notebooks" / "en" / "09_rings.ipynb").unlink()     # deleted: comes back
    again = prepare_home(tmp_path, "en", root=ROOT)
    assert again == [tmp_path / "xenlab-course" / "notebooks" / "en" / "09_rings.ipynb"]
    assert mine.read_text(encoding="utf-8") == "my work"


@pytest.fixture
def hub(tmp_path):
    _require()
    port, internal, api = free_port(19600), free_port(19700), free_port(19800)
    password, token = secrets.token_hex(8), secrets.token_hex(16)
    env = {**os.environ, "XENLAB_HUB_TEST_PASSWORD": password, "XENLAB_HUB_TEST_TOKEN": token,
           "XENLAB_HUB_INTERNAL_PORT": str(internal), "XENLAB_HUB_PROXY_API_PORT": str(api),
           "XENLAB_COURSE_DIR": str(ROOT), "XENLAB_HUB_MEM": "2G", "XENLAB_HUB_IDLE": "600"}
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        (tmp_path / key).mkdir()
        env[key] = str(tmp_path / key)
    state = tmp_path / "state"
    log = open(tmp_path / "hub.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "xenlab.cli", "hub", "--port", str(port), "--state", str(state),
                             "--lang", "en"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
                            start_new_session=True)
    import requests
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{base}/hub/api", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None, (tmp_path / "hub.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "hub.log").read_text()[-3000:]
            time.sleep(0.5)
        yield {"base": base, "password": password, "token": token, "state": state, "log": tmp_path / "hub.log"}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()


def _wait_ready(requests, hub, user, headers):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        info = requests.get(f"{hub['base']}/hub/api/users/{user}", headers=headers, timeout=10).json()
        server = info.get("servers", {}).get("")
        if server and server.get("ready"):
            return
        time.sleep(0.5)
    raise AssertionError(f"{user}'s server did not start: " + hub["log"].read_text()[-3000:])


def _run_notebook_on_server(requests, base, user, headers, nb):
    """Start a kernel on the user's server and execute every code cell over its websocket."""
    import uuid
    import websocket
    r = requests.post(f"{base}/user/{user}/api/kernels", headers=headers, json={"name": "python3"}, timeout=60)
    assert r.status_code == 201, r.text[:300]
    kid = r.json()["id"]
    ws = websocket.create_connection(f"ws://{base.split('://')[1]}/user/{user}/api/kernels/{kid}/channels",
                                     header=[f"Authorization: {headers['Authorization']}"], timeout=120)
    ran = 0
    try:
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            ran += 1
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({"header": {"msg_id": msg_id, "username": user, "session": kid, "date": "",
                                           "msg_type": "execute_request", "version": "5.3"},
                                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                                "content": {"code": source, "silent": False, "store_history": True,
                                            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
            while True:
                opcode, data = ws.recv_data()
                if opcode != websocket.ABNF.OPCODE_TEXT:
                    continue                      # widget messages with binary buffers
                reply = json.loads(data)
                if reply.get("parent_header", {}).get("msg_id") == msg_id and reply["msg_type"] == "execute_reply":
                    assert reply["content"]["status"] == "ok", (user, source[:200], reply["content"])
                    break
    finally:
        ws.close()
    assert ran >= 5


def test_two_students_on_the_hub(hub, tmp_path):
    import requests
    headers = {"Authorization": f"token {hub['token']}"}
    base = hub["base"]
    for user in ("alice", "bob"):                   # the login form, as a student's browser uses it
        s = requests.Session()
        form = s.get(f"{base}/hub/login", timeout=10).text
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form).group(1)
        r = s.post(f"{base}/hub/login", data={"username": user, "password": hub["password"], "_xsrf": xsrf},
                   timeout=120, allow_redirects=False)
        assert r.status_code == 302 and r.headers["location"].endswith("/hub/spawn"), r.text[:500]
        s.get(f"{base}/hub/spawn", timeout=120)     # what the browser does next: start my server
        _wait_ready(requests, hub, user, headers)
    nb_path = "api/contents/xenlab-course/notebooks/en/09_rings.ipynb"
    ex_path = "api/contents/xenlab-course/exercises/en/ex01_domain_states.ipynb"

    def get(user, path):
        r = requests.get(f"{base}/user/{user}/{path}", headers=headers, timeout=30)
        assert r.status_code == 200, r.text[:300]
        return r.json()

    def put(user, path, model):
        r = requests.put(f"{base}/user/{user}/{path}", headers=headers, timeout=30,
                         data=json.dumps({"type": "notebook", "format": "json", "content": model["content"]}))
        assert r.status_code in (200, 201), r.text[:300]

    # Each has the chapter; alice changes a cell of hers.
    model = get("alice", nb_path)
    cell = next(c for c in model["content"]["cells"] if c["cell_type"] == "code")
    cell["source"] = "# alice was here\n" + cell["source"]
    put("alice", nb_path, model)
    assert "alice was here" in json.dumps(get("alice", nb_path)["content"])
    assert "alice was here" not in json.dumps(get("bob", nb_path)["content"])
    # Each runs chapter 09 on their own server: every code cell of alice's (edited) copy and of bob's.
    for user in ("alice", "bob"):
        _run_notebook_on_server(requests, base, user, headers, get(user, nb_path)["content"])
    # Both hand in the exercise; alice's answer carries her mark.
    for user in ("alice", "bob"):
        ex = get(user, ex_path)
        ex["content"]["cells"][0]["source"] = f"# handed in by {user}\n" + "".join(ex["content"]["cells"][0]["source"])
        put(user, ex_path, ex)
    # A restart (a new login, the culler) copies the course again without overwriting alice's work.
    assert requests.delete(f"{base}/hub/api/users/alice/server", headers=headers, timeout=60).status_code in (202, 204)
    deadline = time.monotonic() + 60
    while requests.get(f"{base}/hub/api/users/alice", headers=headers, timeout=10).json().get("servers"):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert requests.post(f"{base}/hub/api/users/alice/server", headers=headers, timeout=60).status_code in (201, 202)
    _wait_ready(requests, hub, "alice", headers)
    assert "alice was here" in json.dumps(get("alice", nb_path)["content"])
    # The instructor collects both exercise notebooks into the grader's layout.
    dest = tmp_path / "collected"
    assert xenlab_main(["hub-collect", str(hub["state"] / "home"), str(dest), "--lang", "en"]) == 0
    found = find_submissions(dest)
    assert set(found) == {"alice", "bob"}
    for user in ("alice", "bob"):
        assert [p.name for p in found[user]] == [p.name for p in sorted((ROOT / "exercises" / "en").glob("ex*.ipynb"))]
        assert f"handed in by {user}" in (dest / user / "ex01_domain_states.ipynb").read_text(encoding="utf-8")
