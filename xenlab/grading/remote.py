"""The grader's end of the channel to one sandboxed submission (see worker.py for the other end).

The checks run here, in the grader, exactly as they are written in xenlab/grading/checks/: `ctx.fn(name)`
gives a `RemoteFunction`, and calling it sends the arguments to the submission as plain data and gets
plain data back (wire.py). So the checks, their hidden inputs and their references never enter the
student's process, and no object the student made ever enters this one.

How the arguments travel (the decision for the checks that hand model objects to students):
- plain data (numbers, strings, bytes, lists, tuples, dicts, sets) is copied in; after the call the
  worker sends the lists, dicts and sets back as they are then, and they are updated here in place
  (copy-in/copy-out), so a student function that edits a run queue or a frame table in place works;
- any other object of the model (a ring, the shared ring page, a back end's I/O object, a machine's
  memory, a request) stays here and the student gets a proxy: reading or writing a public attribute,
  calling a public method, indexing, len() and iteration are requests back to the grader, done on the
  real object, so write hooks, refusals (PermissionError) and logs in the checks work unchanged.
  Refused: names starting with "_", modules, classes, plain functions, and any object that is not the
  model's (numpy arrays over 65536 items, files, paths, the grading machinery itself).
So a new check module written in the current style runs here without a change.

Time: a call carries its check's limit to the worker (which stops the student's function itself);
the grader's own SIGALRM (runner.call_with_timeout) ends the check a second later whatever happens,
and a submission that did not answer in time is killed and restarted for the next check.
"""
from __future__ import annotations

import builtins
import fcntl
import os
import select
import time
import types

from xenlab.grading import wire
from xenlab.grading.runner import CheckTimeout

MAPPED_ERRORS = frozenset(("AttributeError", "TypeError", "ValueError", "KeyError", "IndexError",
                           "PermissionError", "LookupError", "ArithmeticError", "ZeroDivisionError",
                           "OverflowError", "RuntimeError", "NotImplementedError", "AssertionError",
                           "RecursionError", "MemoryError", "UnicodeError", "StopIteration"))
PRIVATE_MODULES = ("xenlab.grading.registry", "xenlab.grading.runner", "xenlab.grading.grader",
                   "xenlab.grading.remote", "xenlab.grading.sandbox", "xenlab.grading.gradebook",
                   "xenlab.grading.worker", "xenlab.grading.wire", "xenlab.grading.notebook",
                   "xenlab.grading.assignment", "xenlab.i18n")


class SubmissionGone(BaseException):
    """The submission's process died, broke the protocol or was killed; this check cannot go on."""


class StudentError(Exception):
    """The student's function raised something that is not one of the ordinary builtin errors."""

    def __init__(self, kind: str, message: str, traceback: str = ""):
        super().__init__(f"{kind}: {message}")
        self.kind, self.message, self.student_traceback = kind, message, traceback


class Denied(Exception):
    pass


def _allowed_object(obj) -> bool:
    if isinstance(obj, (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                        types.CodeType, types.FrameType, types.TracebackType, types.GeneratorType)):
        return False
    if type(obj) is types.SimpleNamespace:
        return True
    mod = type(obj).__module__ or ""
    return mod.startswith("xenlab.") and not mod.startswith(PRIVATE_MODULES)


def _settable(obj, name: str, new) -> bool:
    """Numbers only on the model's objects (a submission must not point one at a file or an object of
    its choosing); any plain value on the bare structures a check module builds for students."""
    if (type(obj).__module__ or "").startswith("xenlab.grading.checks.") or type(obj) is types.SimpleNamespace:
        return True
    numbers = (int, float, bool, type(None))
    return type(new) in numbers and type(getattr(obj, name, None)) in numbers


def _public(name) -> str:
    if type(name) is not str or not name or name.startswith("_"):
        raise AttributeError(f"{name!r} is not available to submissions (names starting with '_' are "
                             f"not shared)")
    return name


def sync(orig, new) -> None:
    """Make the container `orig` hold what `new` holds, in place, keeping nested containers' identity."""
    if type(orig) is list and type(new) is list:
        for i in range(min(len(orig), len(new))):
            if type(orig[i]) in (list, dict, set) and type(orig[i]) is type(new[i]):
                sync(orig[i], new[i])
            elif orig[i] is not new[i]:
                orig[i] = new[i]
        del orig[len(new):]
        orig.extend(new[len(orig):])
    elif type(orig) is dict and type(new) is dict:
        for k in [k for k in orig if k not in new]:
            del orig[k]
        for k, v in new.items():
            if k in orig and type(orig[k]) in (list, dict, set) and type(orig[k]) is type(v):
                sync(orig[k], v)
            else:
                orig[k] = v
    elif type(orig) is set and type(new) is set:
        orig.clear()
        orig.update(new)
    elif type(orig) is tuple and type(new) is tuple and len(orig) == len(new):
        for a, b in zip(orig, new):
            sync(a, b)


class Session:
    """One started sandbox: its readiness summary, its objects table, calls into it."""

    def __init__(self, sandbox, *, startup_timeout: float, notebook_timeout: float, cell_timeout: float,
                 watch: dict | None = None):
        self.sandbox = sandbox
        self.reader = wire.FrameReader(sandbox.rsp_r)
        fl = fcntl.fcntl(sandbox.req_w, fcntl.F_GETFL)
        fcntl.fcntl(sandbox.req_w, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        self.objects: dict[int, object] = {}
        self.ids: dict[int, int] = {}
        self.calls = 0
        self.flags: list[str] = []
        self.watch = watch or {}
        self.current: str | None = None
        self.dead: str | None = None
        self.tier = "?"
        self.ready = None
        self.stuck_cell: int | None = None       # the cell running when the notebook hung or died
        start = time.monotonic()
        deadline = start + startup_timeout + notebook_timeout
        cell_deadline = start + startup_timeout  # interpreter start and imports until the first cell
        try:
            hello = self.reader.read(deadline)
            self.tier = str(hello.get("tier")) if hello.get("op") == "sandbox" else "?"
            while True:
                msg = self.reader.read(min(deadline, cell_deadline))
                if msg.get("op") == "cell" and type(msg.get("index")) is int:
                    self.stuck_cell = msg["index"]
                    cell_deadline = time.monotonic() + cell_timeout + 2.0
                    continue
                if msg.get("op") != "ready":
                    raise wire.WireError("unexpected message before the notebook finished")
                self.ready = msg
                self.stuck_cell = None
                break
        except TimeoutError:
            self.kill("timeout")
        except (wire.WireError, OSError) as exc:
            try:
                code = sandbox.proc.wait(timeout=5)
            except Exception:
                code = None
            self.kill(f"died: {exc} (exit status {code})")

    # -- plumbing -------------------------------------------------------------------------------------
    def kill(self, why: str) -> None:
        if self.dead is None:
            self.dead = why
        self.sandbox.kill()

    def _send(self, message: dict) -> None:
        data = memoryview(wire.dumps(message))
        while data:
            _, ready, _ = select.select([], [self.sandbox.req_w], [], 30)
            if not ready:
                raise wire.WireError("the submission stopped reading")
            try:
                n = os.write(self.sandbox.req_w, data)
            except BlockingIOError:
                continue
            data = data[n:]

    def _ref(self, obj) -> wire.Ref:
        if isinstance(obj, types.MethodType) and _allowed_object(obj.__self__):
            name = obj.__name__
            if not name.startswith("_"):
                return wire.Ref(self._register(obj.__self__), name)
        if _allowed_object(obj):
            return wire.Ref(self._register(obj))
        raise Denied(f"a {type(obj).__name__} of the grader is not available to submissions")

    def _register(self, obj) -> int:
        key = id(obj)
        if key not in self.ids:
            xid = len(self.objects) + 1
            self.objects[xid] = obj
            self.ids[key] = xid
        return self.ids[key]

    def _deref(self, ref: wire.Ref):
        obj = self.objects.get(ref.id)
        if obj is None:
            raise wire.WireError("unknown object")
        if ref.method is None:
            return obj
        return getattr(obj, _public(ref.method))

    def encode(self, value):
        return wire.encode(value, self._ref)

    def decode(self, data):
        return wire.decode(data, self._deref)

    # -- what the submission may ask of the grader's objects -----------------------------------------
    def _serve(self, msg: dict) -> None:
        op = msg.get("op")
        try:
            obj = self.objects.get(msg.get("ref")) if type(msg.get("ref")) is int else None
            if obj is None:
                raise wire.WireError("unknown object")
            if op == "getattr":
                value = getattr(obj, _public(msg.get("name")))
            elif op == "setattr":
                name = _public(msg.get("name"))
                new = self.decode(msg.get("value"))
                if not _settable(obj, name, new):
                    raise AttributeError(f"{name!r} of a {type(obj).__name__} cannot be set from a submission "
                                         f"(only numbers, on the model's objects)")
                setattr(obj, name, new)
                value = None
            elif op == "call":
                name = msg.get("name")
                target = obj if name is None else getattr(obj, _public(name))
                if not callable(target):
                    raise TypeError(f"{name} is not callable")
                if name is not None and name in self.watch.get(self.current, ()):
                    self._flag(f"{type(obj).__module__}.{type(obj).__name__}.{name}")
                args = self.decode(msg.get("args", []))
                kwargs = self.decode(msg.get("kwargs", {"d": []}))
                if type(args) is not list or type(kwargs) is not dict or any(type(k) is not str for k in kwargs):
                    raise TypeError("bad arguments")
                value = target(*args, **kwargs)
            elif op == "getitem":
                value = obj[self.decode(msg.get("key"))]
            elif op == "setitem":
                obj[self.decode(msg.get("key"))] = self.decode(msg.get("value"))
                value = None
            elif op == "len":
                value = len(obj)
            elif op == "list":
                value = list(obj)
            elif op == "contains":
                value = self.decode(msg.get("item")) in obj
            elif op == "bool":
                value = bool(obj)
            elif op == "repr":
                value = repr(obj)[:2000]
            else:
                raise wire.WireError(f"unknown request {op!r}")
            reply = {"op": "reply", "value": self.encode(value)}
        except wire.WireError:
            raise
        except Exception as exc:       # the model refused (PermissionError ...), or Denied
            kind = type(exc).__name__ if type(exc).__name__ in MAPPED_ERRORS else "AttributeError" \
                if isinstance(exc, (Denied, AttributeError)) else "RuntimeError"
            reply = {"op": "error", "type": kind, "message": str(exc)[:2000]}
        self._send(reply)

    def _flag(self, what: str) -> None:
        note = f"{self.current}: {what}"
        if note not in self.flags:
            self.flags.append(note)

    # -- calling the student's functions ----------------------------------------------------------------
    def call(self, name: str, args: tuple, kwargs: dict, timeout: float):
        if self.dead is not None:
            raise SubmissionGone(self.dead)
        self.calls += 1
        call_id = self.calls
        outer = self.current
        self.current = name
        try:
            arg_list = list(args)
            message = {"op": "call", "id": call_id, "name": name, "args": self.encode(arg_list),
                       "kwargs": self.encode(dict(kwargs)), "timeout": timeout,
                       "watch": sorted(self.watch.get(name, ()))}
        except Denied as exc:
            raise TypeError(f"the check passed something that cannot be shared: {exc}") from None
        completed = False
        try:
            self._send(message)
            while True:
                msg = self.reader.read(None)
                op = msg.get("op")
                if op == "return" and msg.get("id") == call_id:
                    value = self.decode(msg.get("value"))
                    after = self.decode(msg.get("args"))
                    after_kw = self.decode(msg.get("kwargs"))
                    if type(after) is list and len(after) == len(arg_list):
                        for a, b in zip(arg_list, after):
                            sync(a, b)
                    if type(after_kw) is dict:
                        for k, v in kwargs.items():
                            if k in after_kw:
                                sync(v, after_kw[k])
                    self._note_flags(name, msg.get("flags"))
                    completed = True
                    return value
                if op == "raise" and msg.get("id") == call_id:
                    self._note_flags(name, msg.get("flags"))
                    completed = True
                    raise _student_exception(msg)
                if op == "timeout" and msg.get("id") == call_id:
                    completed = True
                    raise CheckTimeout()
                if op in ("getattr", "setattr", "call", "getitem", "setitem", "len", "list", "contains",
                          "bool", "repr"):
                    self._serve(msg)
                    continue
                raise wire.WireError(f"unexpected message {op!r}")
        except (wire.WireError, OSError) as exc:
            self.kill(f"protocol: {exc}")
            raise SubmissionGone(self.dead) from None
        finally:
            self.current = outer
            if not completed and self.dead is None:
                # Interrupted mid-call (the grader's own time limit): the worker is in an unknown state.
                self.kill("timeout")

    def _note_flags(self, name, flags) -> None:
        if type(flags) is list:
            for f in flags[:10]:
                if type(f) is str:
                    self._flag(f"called the model's own {f[:200]}")

    def close(self) -> None:
        if self.dead is None:
            try:
                self._send({"op": "bye"})
            except Exception:
                pass
        self.sandbox.kill()


def _student_exception(msg: dict) -> BaseException:
    kind = str(msg.get("type", "Exception"))[:100]
    message = str(msg.get("message", ""))[:2000]
    tb = str(msg.get("traceback", ""))[:8000]
    cls = getattr(builtins, kind, None) if kind in MAPPED_ERRORS else None
    if isinstance(cls, type) and issubclass(cls, Exception):
        exc = cls(message)
        exc.student_traceback = tb
        return exc
    return StudentError(kind, message, tb)


class RemoteFunction:
    """A student's function as a check sees it through `ctx.fn(name)`."""

    def __init__(self, session_box, name: str, timeout_box):
        self._box, self.__name__, self._timeout = session_box, name, timeout_box

    def __call__(self, *args, **kwargs):
        return self._box().call(self.__name__, args, kwargs, self._timeout())
