# JupyterHub configuration for the xenlab course on one server (`xenlab hub` runs `jupyterhub -f` on this
# file; you may also copy it and run jupyterhub yourself). Settings come from the environment:
#
#   XENLAB_HUB_IP, XENLAB_HUB_PORT     where students connect (default 127.0.0.1:8000; 0.0.0.0 for a class)
#   XENLAB_HUB_STATE                   the hub's database, cookie secret and proxy token (default ./xenlab-hub)
#   XENLAB_HUB_LANG                    course language copied to students (pl or en; default pl)
#   XENLAB_HUB_ADMINS                  comma-separated instructor accounts
#   XENLAB_HUB_USERS                   comma-separated accounts allowed to log in (default: every local account)
#   XENLAB_HUB_MEM                     per-student memory limit (default 2G), enforced with prlimit --as
#   XENLAB_HUB_IDLE                    seconds before an idle server is culled (default 3600)
#
# Accounts are the machine's (PAM) and each server runs as its student (LocalProcessSpawner: the hub
# runs as root). The proxy is configurable-http-proxy from npm (`npm install -g configurable-http-proxy`).
# XENLAB_HUB_TEST_PASSWORD switches to the dummy authenticator and to servers running as the hub's own
# user with homes under XENLAB_HUB_STATE/home: for tests on loopback only, never for a class.
import os
import shutil
import sys

from xenlab.hub import pre_spawn_hook

c = get_config()  # noqa: F821

state = os.path.abspath(os.environ.get("XENLAB_HUB_STATE", "xenlab-hub"))
os.makedirs(state, mode=0o700, exist_ok=True)
lang = os.environ.get("XENLAB_HUB_LANG", "pl")

c.JupyterHub.ip = os.environ.get("XENLAB_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("XENLAB_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("XENLAB_HUB_INTERNAL_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(os.environ.get('XENLAB_HUB_PROXY_API_PORT', '8001'))}"
c.JupyterHub.db_url = f"sqlite:///{os.path.join(state, 'jupyterhub.sqlite')}"
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(state, "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "proxy.pid")

admins = {u for u in os.environ.get("XENLAB_HUB_ADMINS", "").split(",") if u}
users = {u for u in os.environ.get("XENLAB_HUB_USERS", "").split(",") if u}
c.Authenticator.admin_users = admins
if users:
    c.Authenticator.allowed_users = users | admins
else:
    c.Authenticator.allow_all = True

test_password = os.environ.get("XENLAB_HUB_TEST_PASSWORD")
if test_password:
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = test_password
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(state, "home", "{username}")
    if os.geteuid() == 0:
        c.Spawner.args = ["--allow-root"]          # the test's servers run as the hub's (root) user
else:
    c.JupyterHub.authenticator_class = "pam"
    c.JupyterHub.spawner_class = "localprocess"

c.Spawner.pre_spawn_hook = pre_spawn_hook
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = f"/lab/tree/xenlab-course/notebooks/{lang}/00_contents.ipynb"
c.Spawner.environment = {"XENLAB_LANG": lang}
c.Spawner.http_timeout = 60
c.Spawner.start_timeout = 120

mem = os.environ.get("XENLAB_HUB_MEM", "2G")
c.Spawner.mem_limit = mem
units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
mem_bytes = int(float(mem[:-1]) * units[mem[-1].upper()]) if mem[-1].upper() in units else int(mem)
prlimit = shutil.which("prlimit")
singleuser = [sys.executable, "-m", "jupyterhub.singleuser"]
# LocalProcessSpawner does not enforce mem_limit itself: every process of the server gets an address-space cap.
c.Spawner.cmd = ([prlimit, f"--as={mem_bytes}", "--"] if prlimit else []) + singleuser

c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                f"--timeout={int(os.environ.get('XENLAB_HUB_IDLE', '3600'))}"],
}]

test_token = os.environ.get("XENLAB_HUB_TEST_TOKEN")
if test_password and test_token:
    # Tests only: a service token to start, stop and look into the students' servers.
    c.JupyterHub.services.append({"name": "xenlab-test", "api_token": test_token})
    c.JupyterHub.load_roles.append({
        "name": "xenlab-test", "services": ["xenlab-test"],
        "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users"],
    })
