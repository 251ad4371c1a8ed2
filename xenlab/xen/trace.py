"""The trace bus: one per machine, in the spirit of xentrace (X@RELEASE-3.0.0:xen/common/trace.c).

The function that changes state emits one event; widgets, tracers, graders and tests subscribe.
Nothing is monkey-patched. With no subscriber, ``emit`` returns at its first line, so tracing costs
one attribute test per event (the benchmark measures it).

Simplifications:
- xentrace writes fixed-size binary records into per-CPU buffers read by a dom0 daemon; here an
  event is an immutable Python object delivered synchronously to subscribers.
- Event classes are strings named after xentrace's TRC_* classes (TRC_SCHED, TRC_MEM, TRC_PV ...).
"""
from __future__ import annotations

import copy
import numbers
import re
import sys
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Callable, Iterable

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")

CLASSES = ("SCHED", "MEM", "PV", "EVTCHN", "IO", "DOM", "TIME", "HW", "GNTTAB", "XS", "HVM", "TOOLS")


@dataclass(frozen=True, slots=True)
class TraceEvent:
    seq: int                  # position in this machine's trace, from 1
    time: int                 # system time in ns
    pcpu: int | None
    domid: int | None
    vcpu: int | None
    cls: str                  # SCHED, MEM, PV, EVTCHN, IO ...
    name: str
    payload: tuple            # ((key, plain value), ...), hashable and comparable
    cause: int | None         # seq of the event that caused this one

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.payload)

    def __getitem__(self, key: str) -> Any:
        return dict(self.payload)[key]

    def __repr__(self) -> str:
        where = "" if self.domid is None else f" d{self.domid}" + ("" if self.vcpu is None else f"v{self.vcpu}")
        cpu = "" if self.pcpu is None else f" cpu{self.pcpu}"
        args = " ".join(f"{k}={v!r}" for k, v in self.payload)
        cause = "" if self.cause is None else f" <-#{self.cause}"
        return f"#{self.seq} {self.time / 1e6:.3f}ms{cpu}{where} {self.cls}:{self.name} {args}{cause}"


def plain(value: Any) -> Any:
    """Turn a payload value into plain data (ints, floats, strs, bytes, tuples), so events never alias
    model state and mean the same in every process: a dataclass gives its instance fields only
    (``dataclasses.fields`` leaves out ClassVars such as a struct's LAYOUT), a set is sorted, and
    nothing that prints an object's address (``<... at 0x7f...>``) gets into a trace."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    if isinstance(value, dict):
        return tuple((plain(k), plain(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return tuple(sorted((plain(v) for v in value), key=repr))   # a set's order follows the hash seed
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,) + tuple((f.name, plain(getattr(value, f.name))) for f in fields(value))
    if hasattr(value, "dtype") and hasattr(value, "tolist"):        # numpy arrays and scalars
        return plain(value.tolist())
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):                              # not truncated by __int__
        return float(value)
    if hasattr(value, "__int__"):
        return int(value)
    text = repr(value)
    if _ADDRESS.search(text):                                        # a default repr: the address differs per run
        return f"<{type(value).__qualname__}>"
    return text


class _Subscription:
    __slots__ = ("callback", "classes", "domid")

    def __init__(self, callback, classes, domid):
        self.callback = callback
        self.classes = None if classes is None else frozenset(classes)
        self.domid = domid


class TraceBus:
    def __init__(self, clock: Callable[[], int]):
        self._clock = clock
        self._subs: list[_Subscription] = []
        self._seq = 0
        self._cause: int | None = None
        self.errors: list[str] = []           # reports of subscribers that raised

    @property
    def active(self) -> bool:
        """True when somebody listens; guard expensive payloads with it."""
        return bool(self._subs)

    def subscribe(self, callback: Callable[[TraceEvent], Any], classes: Iterable[str] | str | None = None,
                  domid: int | None = None) -> Callable[[], None]:
        """Call ``callback(event)`` for matching events; returns a function that unsubscribes."""
        if isinstance(classes, str):
            classes = (classes,)
        if classes is not None:
            unknown = [c for c in classes if c not in CLASSES]
            if unknown:
                raise ValueError(f"unknown trace class {unknown}; known classes: {', '.join(CLASSES)}")
        sub = _Subscription(callback, classes, domid)
        self._subs.append(sub)
        return lambda: self._remove(sub)

    def _remove(self, sub: _Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    @contextmanager
    def record(self, classes: Iterable[str] | str | None = None, domid: int | None = None):
        """``with machine.trace.record() as events:`` collects the events emitted inside the block."""
        events: list[TraceEvent] = []
        unsubscribe = self.subscribe(events.append, classes, domid)
        try:
            yield events
        finally:
            unsubscribe()

    @contextmanager
    def cause(self, seq: int | None):
        """Events emitted inside the block name ``seq`` as their cause."""
        saved, self._cause = self._cause, (seq if seq is not None else self._cause)
        try:
            yield
        finally:
            self._cause = saved

    def emit(self, cls: str, name: str, /, *, domid: int | None = None, vcpu: int | None = None,
             pcpu: int | None = None, **payload: Any) -> int | None:
        if not self._subs:
            return None
        self._seq += 1
        ev = TraceEvent(self._seq, self._clock(), pcpu, domid, vcpu, cls, name,
                        tuple((k, plain(v)) for k, v in payload.items()), self._cause)
        for sub in tuple(self._subs):
            if sub.classes is not None and cls not in sub.classes:
                continue
            if sub.domid is not None and sub.domid != domid:
                continue
            try:
                sub.callback(ev)
            except Exception:  # a broken subscriber must not stop the machine
                report = (f"trace subscriber {getattr(sub.callback, '__qualname__', sub.callback)!s} "
                          f"raised on {ev!r} and was unsubscribed:\n{traceback.format_exc()}")
                self.errors.append(report)
                print(report, file=sys.stderr)
                self._remove(sub)
        return ev.seq

    def __deepcopy__(self, memo):
        # A copied machine (snapshot, save image) starts with no listeners: widgets stay with the original.
        clone = TraceBus.__new__(TraceBus)
        memo[id(self)] = clone
        clone._clock = copy.deepcopy(self._clock, memo)
        clone._subs = []
        clone._seq = self._seq
        clone._cause = None
        clone.errors = []
        return clone

    def __repr__(self) -> str:
        return f"<TraceBus {len(self._subs)} subscribers, {self._seq} events>"
