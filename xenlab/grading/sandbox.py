"""The sandbox one submission runs in, and the launcher that builds it.

`Sandbox(notebook_bytes, ...)` starts this file as a script (`python -I -S sandbox.py CONFIG`, stdlib
only, so nothing of the grader is imported twice), which builds the sandbox and then executes the
worker (worker.py) inside it. What the sandbox is depends on what the grader may do ("tier"):

- root   (the grader runs as root, the usual case in CI and on a course server): new mount, PID,
         network and IPC namespaces; a fresh /proc, /tmp, /var/tmp and /dev/shm; the checks package,
         the solutions and course sources, git history, the submissions folder and the gradebook folder
         covered by empty read-only mounts (they do not exist for the submission); the student's code
         runs as an unprivileged user (`nobody` unless configured), in its own session, with
         no_new_privs. The interpreter is bind-mounted read-only under /tmp/.xenlab so that user can
         run it even when it lives under /root.
- userns (not root, but unprivileged user namespaces work): the same namespaces and hidden paths,
         under the grader's own uid (files of that user outside the hidden paths stay writable).
- user   (root without namespaces, e.g. a container without CAP_SYS_ADMIN): only the user switch.
- none   (neither): only the session and the limits. The grader says so in every report.

In every tier: a private copy of the one notebook in its own directory, rlimits on address space,
CPU time, file size, open files and (root) processes, and at the end SIGKILL to the whole process group;
with a PID namespace every process the submission started, detached or not, dies with its pid 1.
"""
from __future__ import annotations

import json
import os
import sys

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
PY_MOUNT = "/tmp/.xenlab/py"
WORKDIR_NS = "/tmp/work"


# --- the launcher (runs as a script, stdlib only) ------------------------------------------------------

def _libc():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return libc, ctypes


def _mount(libc, ctypes, src, target, fstype, flags, data=None) -> bool:
    enc = (lambda s: None if s is None else s.encode())
    rc = libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    return rc == 0


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _accessible_to_others(path: str) -> bool:
    """Could a user other than the owner reach and read `path` (x on every parent, r on it)?"""
    import stat
    p = os.path.realpath(path)
    parts = p.split(os.sep)
    for i in range(2, len(parts) + 1):
        d = os.sep.join(parts[:i]) or os.sep
        try:
            mode = os.stat(d).st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    return True


TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


def _fresh_tmp(libc, ctypes, keep, tmpfs_data: str, read_only: bool = True) -> None:
    """A fresh, empty tmpfs on /tmp, /var/tmp and /dev/shm, except that the directories in ``keep``
    which lie under them (a checkout or a virtualenv in /tmp: the package and the interpreter the
    sandbox runs) are bound back at the same path, read-only. Each is opened before the tmpfs hides
    it and bound from /proc/self/fd after, since its old path no longer leads to it."""
    outer = []
    for k in sorted({os.path.realpath(k) for k in keep if k and os.path.isdir(k)}):
        if any(k.startswith(d + os.sep) for d in TMP_DIRS) and not any(k.startswith(o + os.sep) for o in outer):
            outer.append(k)
    fds = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in outer}
    try:
        for d in TMP_DIRS:
            if os.path.isdir(d):
                _mount(libc, ctypes, "tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, tmpfs_data)
        for k, fd in fds.items():
            os.makedirs(k, mode=0o755, exist_ok=True)
            if _mount(libc, ctypes, f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC) and read_only:
                _mount(libc, ctypes, None, k, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    finally:
        for fd in fds.values():
            os.close(fd)


def launch(cfg: dict) -> None:
    import resource
    import signal
    libc, ctypes = _libc()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)     # the grader gone: so are we
    import fcntl
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in cfg["fds"]]
    for fd in cfg["fds"]:
        os.close(fd)
    os.dup2(high[0], 3)
    os.dup2(high[1], 4)
    for fd in high:
        os.close(fd)
    with open(cfg["notebook"], "rb") as f:
        notebook = f.read()
    root = os.geteuid() == 0
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
    tier = "none"
    if cfg.get("namespaces", True):
        if root and libc.unshare(flags) == 0:
            tier = "root"
        elif not root and libc.unshare(flags | CLONE_NEWUSER) == 0:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"0 {uid} 1\n")
            _write("/proc/self/gid_map", f"0 {gid} 1\n")
            tier = "userns"
    if tier == "none" and root:
        tier = "user"
    python = os.path.realpath(cfg["python"])
    base = os.path.realpath(cfg["prefix"])
    if tier == "user" and not _accessible_to_others(python):
        tier = "none"                       # the sandbox user could not even start Python
    # Tell the grader what it got, before any student code runs (fd 4 is the answer channel).
    hello = json.dumps({"op": "sandbox", "tier": tier}).encode()
    os.write(4, len(hello).to_bytes(4, "big") + hello)
    child = os.fork()
    if child:
        os.close(3)
        os.close(4)
        _, status = os.waitpid(child, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    # pid 1 of the new PID namespace (when there is one).
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    path_map = {}
    if tier in ("root", "userns"):
        _mount(libc, ctypes, None, "/", None, MS_REC | MS_PRIVATE)
        _mount(libc, ctypes, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _fresh_tmp(libc, ctypes, list(cfg.get("sys_path", [])) + [base],
                   f"size={int(cfg['limits'].get('tmp_mb', 64))}m,mode=1777")
        if tier == "root" and not _accessible_to_others(python):
            os.makedirs(PY_MOUNT, exist_ok=True)
            if _mount(libc, ctypes, base, PY_MOUNT, None, MS_BIND | MS_REC):
                _mount(libc, ctypes, None, PY_MOUNT, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
                path_map[base] = PY_MOUNT
        for p in cfg.get("hide", []):
            targets = [p] + [PY_MOUNT + p[len(b):] for b in path_map if p.startswith(b + os.sep)]
            for t in targets:
                if os.path.isdir(t):
                    _mount(libc, ctypes, "tmpfs", t, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                           "size=4k,mode=0555")
                elif os.path.isfile(t):
                    _mount(libc, ctypes, "/dev/null", t, None, MS_BIND)
        workdir = WORKDIR_NS
        os.makedirs(workdir, exist_ok=True)
    else:
        import tempfile
        workdir = tempfile.mkdtemp(prefix="xenlab-sandbox-")
    sandbox_uid = int(cfg.get("uid", 65534)) if tier in ("root", "user") else None
    sandbox_gid = int(cfg.get("gid", 65534)) if tier in ("root", "user") else None
    nb_path = os.path.join(workdir, "submission.ipynb")
    with open(nb_path, "wb") as f:
        f.write(notebook)
    if sandbox_uid is not None:
        os.chown(workdir, sandbox_uid, sandbox_gid)
        os.chown(nb_path, sandbox_uid, sandbox_gid)
    os.chmod(workdir, 0o700)

    def mapped(p: str) -> str:
        real = os.path.realpath(p) if os.path.exists(p) else p
        for b, m in path_map.items():
            if real == b or real.startswith(b + os.sep):
                return m + real[len(b):]
        return p

    worker = os.fork()
    if worker == 0:
        try:
            os.setsid()
            lim = cfg["limits"]
            mb = 1024 * 1024
            for res, value in ((resource.RLIMIT_AS, int(lim["mem_mb"]) * mb),
                               (resource.RLIMIT_CPU, int(lim["cpu_s"])),
                               (resource.RLIMIT_FSIZE, int(lim["fsize_mb"]) * mb),
                               (resource.RLIMIT_NOFILE, int(lim.get("nofile", 256))),
                               (resource.RLIMIT_CORE, 0)):
                soft, hard = resource.getrlimit(res)
                value = value if hard == resource.RLIM_INFINITY else min(value, hard)
                resource.setrlimit(res, (value, value))
            if sandbox_uid is not None:
                resource.setrlimit(resource.RLIMIT_NPROC, (int(lim.get("nproc", 64)),) * 2)
                os.setgroups([])
                os.setgid(sandbox_gid)
                os.setuid(sandbox_uid)
            libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            os.chdir(workdir)
            env = dict(cfg["env"], HOME=workdir, IPYTHONDIR=os.path.join(workdir, ".ipython"),
                       MPLCONFIGDIR=os.path.join(workdir, ".mpl"), TMPDIR=workdir)
            paths = [mapped(p) for p in cfg["sys_path"]]
            boot = ("import sys; sys.path[:] = " + repr(paths) +
                    "; from xenlab.grading.worker import main; main()")
            options = dict(cfg["worker"], notebook=nb_path)
            exe = mapped(python)
            os.execve(exe, [exe, "-I", "-S", "-B", "-c", boot, json.dumps(options)], env)
        finally:
            os._exit(127)
    os.close(3)
    os.close(4)
    # Reap everything; when the worker ends, so does the namespace (and everything left in it).
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        if pid == worker:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


# --- the grader's side ---------------------------------------------------------------------------------

def hidden_paths(extra=()) -> list[str]:
    """What a submission must not see: check modules, solutions, course sources, git history."""
    import xenlab
    roots = {os.path.dirname(os.path.dirname(os.path.abspath(xenlab.__file__)))}
    try:
        from importlib.metadata import distribution
        direct = distribution("xenlab").read_text("direct_url.json")
        if direct:
            url = json.loads(direct).get("url", "")
            if url.startswith("file://"):
                roots.add(url[len("file://"):])
        for f in distribution("xenlab").files or ():
            if str(f).replace("\\", "/").startswith("xenlab/grading/checks/"):
                roots.add(str(f.locate()).split(os.sep + "xenlab" + os.sep + "grading")[0])
                break
    except Exception:
        pass
    out = []
    for r in sorted(roots):
        for rel in ("xenlab/grading/checks", "solutions", "course", ".git"):
            p = os.path.join(r, rel)
            if os.path.exists(p):
                out.append(os.path.realpath(p))
    for p in extra:
        if p and os.path.exists(p):
            out.append(os.path.realpath(p))
    return sorted(set(out))


def confine_judge(hide=()) -> bool:
    """Confine this grader process (a judge: it runs checks for many submissions) before it grades.

    The judge carries out what a submission asks of the model's objects (remote.py), so it gets a view
    of the file system in which a steered model method can do no harm: when the grader runs as root, a
    mount namespace of its own with every mount read-only, a fresh /tmp, /var/tmp and /dev/shm, and
    the solutions, course sources, git history, submissions, gradebook and (once imported) the check
    modules covered. Returns whether it worked (not root, or no CAP_SYS_ADMIN: False, nothing changed).
    """
    from xenlab.grading.registry import all_exercises
    all_exercises()                           # every check module loaded before its files go away
    if os.geteuid() != 0:
        return False
    libc, ctypes = _libc()
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    _mount(libc, ctypes, None, "/", None, MS_REC | MS_PRIVATE)
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for mp in points:
        mp = mp.encode().decode("unicode_escape")
        if not _mount(libc, ctypes, None, mp, None, MS_REMOUNT | MS_BIND | MS_RDONLY):
            # Keep the mount's locked flags (nosuid, nodev, noexec) or the kernel refuses.
            st = os.statvfs(mp) if os.path.exists(mp) else None
            extra = 0
            if st is not None:
                extra = ((MS_NOSUID if st.f_flag & os.ST_NOSUID else 0) |
                         (MS_NODEV if st.f_flag & os.ST_NODEV else 0) |
                         (MS_NOEXEC if st.f_flag & os.ST_NOEXEC else 0))
            _mount(libc, ctypes, None, mp, None, MS_REMOUNT | MS_BIND | MS_RDONLY | extra)
    _fresh_tmp(libc, ctypes, [p for p in sys.path if p] + [sys.base_prefix, sys.prefix], "size=512m,mode=1777")
    import xenlab
    checks = os.path.join(os.path.dirname(os.path.abspath(xenlab.__file__)), "grading", "checks")
    for p in list(hidden_paths(hide)) + [checks]:
        if os.path.isdir(p):
            _mount(libc, ctypes, "tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "size=4k,mode=0555")
        elif os.path.isfile(p):
            _mount(libc, ctypes, "/dev/null", p, None, MS_BIND)
    return True


DEFAULT_LIMITS = {"mem_mb": 1024, "cpu_s": 300, "fsize_mb": 64, "nofile": 256, "nproc": 64, "tmp_mb": 64}


class Sandbox:
    """One submission's sandboxed worker: start it, talk to it over (req_w, rsp_r), kill it."""

    def __init__(self, notebook: bytes, worker_options: dict, *, hide=(), limits=None, env=None,
                 uid: int = 65534, gid: int = 65534, namespaces: bool = True):
        import subprocess
        import tempfile
        self.private = tempfile.mkdtemp(prefix="xenlab-grade-")
        os.chmod(self.private, 0o700)
        nb_path = os.path.join(self.private, "submission.ipynb")
        with open(nb_path, "wb") as f:
            f.write(notebook)
        req_r, self.req_w = os.pipe()
        self.rsp_r, rsp_w = os.pipe()
        import xenlab
        pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(xenlab.__file__)))
        sys_path = [pkg_root] + [p for p in sys.path if p and os.path.isdir(p) and p != pkg_root]
        base_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "MPLBACKEND": "Agg", "XENLAB_GRADING": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        cfg = {"fds": None, "notebook": nb_path, "python": sys.executable, "prefix": sys.base_prefix,
               "sys_path": sys_path, "hide": list(hide) + [self.private],
               "limits": {**DEFAULT_LIMITS, **(limits or {})}, "env": {**base_env, **(env or {})},
               "worker": worker_options, "uid": uid, "gid": gid, "namespaces": namespaces}
        cfg["fds"] = [req_r, rsp_w]          # become fds 3 (requests in) and 4 (answers out)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", os.path.abspath(__file__), json.dumps(cfg)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, pass_fds=(req_r, rsp_w), close_fds=True)
        os.close(req_r)
        os.close(rsp_w)

    def kill(self) -> None:
        import shutil
        import signal
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except Exception:
            pass
        for fd in (self.req_w, self.rsp_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.private, ignore_errors=True)


if __name__ == "__main__":
    launch(json.loads(sys.argv[1]))
