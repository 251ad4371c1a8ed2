"""The submission's side of grading: runs inside the sandbox (sandbox.py), never in the grader.

It executes the notebook's code cells in an IPython shell (magics work, widgets render to nowhere),
each cell under a time limit, then answers the grader's requests over the data-only channel
(wire.py; requests on fd 3, answers on fd 4):

    call NAME ARGS      call the student's function; answer its return value as plain data, the
                        arguments' state after the call (so in-place changes to lists and dicts reach
                        the grader), or the exception's type and message; or "timeout".
    bye                 exit.

Objects the grader passes by reference (a ring, a back end's I/O object, a machine's memory) arrive
here as `Remote` proxies: reading or writing one of their public attributes or calling one of their
public methods is a request back to the grader, which does it on the real object (remote.py decides
what is allowed). Nothing here can judge anything: this process only ever answers with data.

Everything in this file runs as the sandbox user with the sandbox's limits; it imports no check.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback

from xenlab.grading import wire

REQ_FD, RSP_FD = 3, 4
MAX_TEXT = 2000
XENLAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(wire.__file__))) + os.sep
GRADING_DIR = os.path.dirname(os.path.abspath(wire.__file__)) + os.sep


class CellTimeout(BaseException):
    """A cell (or a call) ran past its limit."""


class Channel:
    def __init__(self):
        self.reader = wire.FrameReader(REQ_FD)
        self.handlers = {}

    def send(self, message: dict) -> None:
        wire.write_frame(RSP_FD, message)

    def request(self, message: dict):
        """Ask the grader to do something to one of its objects; serve nested calls meanwhile."""
        self.send(message)
        while True:
            reply = self.reader.read()
            op = reply.get("op")
            if op == "reply":
                return decode(reply.get("value"))
            if op == "error":
                raise _exception(reply.get("type"), reply.get("message", ""))
            if op == "call":
                serve_call(self, reply)
            elif op == "bye":
                os._exit(0)


CHANNEL: Channel | None = None

_BUILTIN_ERRORS = frozenset(("AttributeError", "TypeError", "ValueError", "KeyError", "IndexError",
                                "PermissionError", "LookupError", "ArithmeticError", "ZeroDivisionError",
                                "OverflowError", "RuntimeError", "NotImplementedError"))


def _exception(kind, message) -> Exception:
    import builtins
    cls = getattr(builtins, str(kind), None)
    if isinstance(cls, type) and issubclass(cls, Exception) and str(kind) in _BUILTIN_ERRORS:
        return cls(message)
    return RuntimeError(f"{kind}: {message}")


class Remote:
    """A grader object: every use is a request to the grader."""
    __slots__ = ("_xid",)

    def __init__(self, xid: int):
        object.__setattr__(self, "_xid", xid)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return CHANNEL.request({"op": "getattr", "ref": self._xid, "name": name})

    def __setattr__(self, name, value):
        CHANNEL.request({"op": "setattr", "ref": self._xid, "name": name, "value": encode(value)})

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete {name!r} of a grader object")

    def __getitem__(self, key):
        return CHANNEL.request({"op": "getitem", "ref": self._xid, "key": encode(key)})

    def __setitem__(self, key, value):
        CHANNEL.request({"op": "setitem", "ref": self._xid, "key": encode(key), "value": encode(value)})

    def __len__(self):
        return CHANNEL.request({"op": "len", "ref": self._xid})

    def __iter__(self):
        return iter(CHANNEL.request({"op": "list", "ref": self._xid}))

    def __contains__(self, item):
        return CHANNEL.request({"op": "contains", "ref": self._xid, "item": encode(item)})

    def __bool__(self):
        return CHANNEL.request({"op": "bool", "ref": self._xid})

    def __call__(self, *args, **kwargs):
        return CHANNEL.request({"op": "call", "ref": self._xid, "name": None,
                                "args": encode(list(args)), "kwargs": encode(kwargs)})

    def __repr__(self):
        return CHANNEL.request({"op": "repr", "ref": self._xid})

    def __eq__(self, other):
        return isinstance(other, Remote) and other._xid == self._xid

    def __hash__(self):
        return hash(("remote", self._xid))


class RemoteMethod:
    """A public method of a grader object."""
    __slots__ = ("_xid", "_name")

    def __init__(self, xid: int, name: str):
        self._xid, self._name = xid, name

    def __call__(self, *args, **kwargs):
        return CHANNEL.request({"op": "call", "ref": self._xid, "name": self._name,
                                "args": encode(list(args)), "kwargs": encode(kwargs)})

    def __repr__(self):
        return f"<grader method {self._name}>"


def _ref(obj):
    if isinstance(obj, Remote):
        return wire.Ref(object.__getattribute__(obj, "_xid"))
    if isinstance(obj, RemoteMethod):
        return wire.Ref(obj._xid, obj._name)
    raise wire.WireError(f"a value of type {type(obj).__name__} is not plain data and cannot be sent to "
                         f"the grader (return ints, strings, lists, tuples, dicts, bytes)")


def encode(value):
    return wire.encode(value, _ref)


def decode(data):
    return wire.decode(data, lambda r: Remote(r.id) if r.method is None else RemoteMethod(r.id, r.method))


def _alarm(signum, frame):
    raise CellTimeout()


def _short_text(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:  # a hostile __str__
        text = "?"
    return text[:MAX_TEXT]


def _student_traceback(exc: BaseException) -> str:
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if not f.filename.startswith(GRADING_DIR)]
        text = "".join(traceback.format_list(frames[-8:]))
        text += f"{type(exc).__name__}: {_short_text(exc)}"
        return text[-4 * MAX_TEXT:]
    except BaseException:
        return ""


def serve_call(channel: Channel, msg: dict) -> None:
    """Call the student's function `msg['name']` and send back what happened."""
    ns = SHELL.user_ns
    call_id = msg.get("id")
    name = str(msg.get("name"))
    fn = ns.get(name)
    watch = set(msg.get("watch") or ())
    flagged: list = []

    def profile(frame, event, arg):
        if event == "call":
            code = frame.f_code
            if (code.co_name in watch and code.co_filename.startswith(XENLAB_DIR)
                    and not code.co_filename.startswith(GRADING_DIR)):
                item = f"{code.co_filename[len(XENLAB_DIR) - len('xenlab/'):]}:{code.co_name}"
                if item not in flagged:
                    flagged.append(item)
    try:
        args = decode(msg.get("args", []))
        kwargs = decode(msg.get("kwargs", {"d": []}))
    except Exception as exc:
        channel.send({"op": "raise", "id": call_id, "type": "TypeError", "message": str(exc)})
        return
    seconds = float(msg.get("timeout", 5))
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.01, seconds))
    outcome = None
    try:
        try:
            if watch:
                sys.setprofile(profile)
            try:
                value = fn(*args, **kwargs)
            finally:
                sys.setprofile(None)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        outcome = {"op": "return", "id": call_id, "value": encode(value), "args": encode(args),
                   "kwargs": encode(kwargs), "flags": flagged}
    except CellTimeout:
        outcome = {"op": "timeout", "id": call_id}
    except BaseException as exc:  # whatever the student's code raised, SystemExit included
        kind = type(exc).__name__ if not isinstance(exc, wire.WireError) else "TypeError"
        outcome = {"op": "raise", "id": call_id, "type": kind[:100], "message": _short_text(exc),
                   "traceback": _student_traceback(exc), "flags": flagged}
    try:
        channel.send(outcome)
    except wire.WireError as exc:      # an answer over the size limit
        channel.send({"op": "raise", "id": call_id, "type": "ValueError", "message": str(exc)})


SHELL = None


def run_notebook(path: str, cell_timeout: float, notebook_timeout: float, skip=()) -> dict:
    """Execute every code cell; a summary of errors and time-outs (what the grader reports)."""
    global SHELL
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    config = Config()
    config.HistoryManager.enabled = False
    SHELL = InteractiveShell.instance(config=config)
    SHELL.showtraceback = lambda *a, **k: None          # nobody reads them; errors are collected below
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    cells = [c for c in nb.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]
    errors, stopped = [], []
    deadline = time.monotonic() + notebook_timeout
    for i, cell in enumerate(cells):
        if i in skip:                     # a cell that hung or killed this process last time
            continue
        CHANNEL.send({"op": "cell", "index": i})
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        left = deadline - time.monotonic()
        if left <= 0:
            stopped.append(i)
            break
        limit = min(cell_timeout, left)
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            result = SHELL.run_cell(source, store_history=False, silent=True)
        except BaseException as exc:                 # SystemExit and friends escaping IPython
            result = None
            errors.append([i, f"{type(exc).__name__}: {_short_text(exc)}"])
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if result is not None and not result.success:
            exc = result.error_in_exec or result.error_before_exec
            if isinstance(exc, CellTimeout):
                stopped.append(i)
            else:
                errors.append([i, f"{type(exc).__name__}: {_short_text(exc)}"])
    return {"cells": len(cells), "errors": errors[:50], "stopped": stopped[:50],
            "notebook_stopped": time.monotonic() >= deadline}


def main(argv=None) -> None:
    global CHANNEL
    options = json.loads((argv or sys.argv)[1])
    CHANNEL = Channel()
    # Whatever the notebook prints goes nowhere; the channel is fds 3 and 4 only.
    devnull = open(os.devnull, "w")
    sys.stdout = sys.stderr = devnull
    summary = run_notebook(options["notebook"], float(options["cell_timeout"]),
                           float(options["notebook_timeout"]), set(options.get("skip", ())))
    sys.stdout = sys.stderr = devnull
    defined = {}
    for name in options.get("functions", []):
        obj = SHELL.user_ns.get(name)
        defined[name] = "missing" if obj is None else ("callable" if callable(obj) else "not_callable")
    CHANNEL.send({"op": "ready", **summary, "defined": defined})
    while True:
        try:
            msg = CHANNEL.reader.read()
        except wire.WireError:
            os._exit(0)
        op = msg.get("op")
        if op == "call":
            serve_call(CHANNEL, msg)
        elif op == "bye":
            os._exit(0)


if __name__ == "__main__":
    main()
