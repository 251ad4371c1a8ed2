"""xenbus: how the two halves of a split device meet through XenStore.

This is Linux kernel code (drivers/xen/xenbus), so it lives with the guest kernel: a domU's front ends
use it, and so do the back ends in dom0's kernel (dom0/xenbus.py re-exports it). It talks to xenstored
only through a connection's XS_* requests and the replies of the wire protocol (xen/public/io/xs_wire.h).

Models the driver side of xenbus in XenLinux 3.0 (linux-2.6-xen-sparse/drivers/xen/xenbus/
xenbus_client.c ``xenbus_switch_state``, xenbus_probe.c ``otherend_changed``, xenbus_xs.c
transactions, xenbus_probe.c's buses: ``XenbusProbe`` below) with the states of io/xenbus.h.  Each end writes its state as a decimal string into
``<its dir>/state`` and watches ``<other end's dir>/state``.  The handshake (xen-facts section 12):
both start Initialising; the back end goes InitWait; the front end grants its ring, writes
``ring-ref`` and ``event-channel`` in a transaction and goes Initialised (netfront goes straight to
Connected); the back end maps the ring and goes Connected; the front end goes Connected.  Teardown
goes through Closing to Closed.

Simplifications:
- ``switch_state`` refuses transitions outside ``LEGAL_TRANSITIONS`` by raising ``XenbusError``: a
  driver model that does one has a bug.  Linux only logs such things.
- No xenwatch thread: a kernel runs its watch handlers in its store channel's event handler
  (``XenLinux._xenbus_event``), when it is scheduled.  ``XenbusProbe`` rescans its whole root on
  each firing of its bus watch (xenbus_probe.c looks up the one path that fired), so a burst of
  writes is handled at the first firing and the later ones find nothing new.
- ``XenbusDevice.poll`` (a polled watch) is kept for the chapter on XenStore.
"""
from __future__ import annotations

from xenlab.xen.public.io.xs_wire import OK, XsError, is_error
from xenlab.xen.public.io.xenbus import XenbusState

S = XenbusState
LEGAL_TRANSITIONS: dict[XenbusState, frozenset[XenbusState]] = {
    S.Unknown: frozenset({S.Initialising, S.Closed}),
    S.Initialising: frozenset({S.InitWait, S.Initialised, S.Connected, S.Closing, S.Closed}),
    S.InitWait: frozenset({S.Initialised, S.Connected, S.Closing, S.Closed}),
    S.Initialised: frozenset({S.Connected, S.Closing, S.Closed}),
    S.Connected: frozenset({S.Closing, S.Closed, S.Reconfiguring}),
    S.Closing: frozenset({S.Closed}),
    # A closed device may be set up again: the back end waits (InitWait), the front end restarts.
    S.Closed: frozenset({S.Initialising, S.InitWait, S.Unknown}),
    S.Reconfiguring: frozenset({S.Reconfigured, S.Closing, S.Closed}),
    S.Reconfigured: frozenset({S.Connected, S.Closing, S.Closed}),
}


class XenbusError(RuntimeError):
    """A driver asked for a state change the protocol does not allow."""


def read_state(conn, path: str, tx: int = 0) -> XenbusState:
    """``xenbus_read_driver_state``: the state in ``<path>/state``; Unknown if absent or garbled."""
    value = conn.read(f"{path}/state", tx)
    if is_error(value) or not value.strip().isdigit() or int(value) not in S._value2member_map_:
        return S.Unknown
    return S(int(value))


def switch_state(conn, path: str, new: XenbusState, tx: int = 0):
    """``xenbus_switch_state``: write ``<path>/state``.  Same state: nothing written (so no watch
    fires).  Returns OK or the XsError of the write."""
    new = S(new)
    old = read_state(conn, path, tx)
    if new == old:
        return OK
    if new not in LEGAL_TRANSITIONS[old]:
        raise XenbusError(f"{path}: {old} -> {new} is not a legal xenbus transition "
                          f"(from {old} one may go to {sorted(s.name for s in LEGAL_TRANSITIONS[old])})")
    return conn.write(f"{path}/state", str(int(new)), tx)


def transaction(conn, body, max_tries: int = 16):
    """Run ``body(tx)`` in a transaction, retrying while the commit fails with EAGAIN (the loop
    every xenbus driver writes).  ``body`` returns an XsError to abort.  Returns (result, tries)."""
    for tries in range(1, max_tries + 1):
        tx = conn.transaction_start()
        result = body(tx)
        if is_error(result):
            conn.transaction_end(tx, commit=False)
            return result, tries
        end = conn.transaction_end(tx, commit=True)
        if not (is_error(end) and end.errno == "EAGAIN"):
            return (end if is_error(end) else result), tries
    return XsError("EAGAIN"), max_tries


def publish(conn, nodename: str, items, state: XenbusState):
    """A frontend's "talk_to_backend": write its ring references and event channel, then switch
    state, all in one transaction (retried on EAGAIN). Returns OK or the XsError that stopped it."""
    def body(tx):
        for key, value in items:
            rc = conn.write(f"{nodename}/{key}", str(value), tx)
            if is_error(rc):
                return rc
        return switch_state(conn, nodename, state, tx)

    result, _ = transaction(conn, body)
    return result


def frontend_path(domid: int, devclass: str, devid: int) -> str:
    """``/local/domain/<domU>/device/<class>/<devid>``."""
    return f"/local/domain/{domid}/device/{devclass}/{devid}"


def backend_path(backdom: int, devclass: str, domid: int, devid: int) -> str:
    """``/local/domain/<backdom>/backend/<class>/<domU>/<devid>``."""
    return f"/local/domain/{backdom}/backend/{devclass}/{domid}/{devid}"


class XenbusDevice:
    """One end of a split device: its own directory, the other end's, and a watch on the other
    end's state.  ``poll()`` returns the other end's new states, oldest first."""

    def __init__(self, conn, nodename: str, otherend: str, token: str | None = None):
        self.conn = conn
        self.nodename = nodename
        self.otherend = otherend
        self.token = token or f"otherend:{nodename}"
        self.seen: XenbusState | None = None
        self.transitions: list[tuple[XenbusState, XenbusState]] = []  # (old, new) of this end
        rc = conn.watch(f"{otherend}/state", self.token)
        if is_error(rc):
            raise XenbusError(f"cannot watch {otherend}/state: {rc.errno}")

    @property
    def state(self) -> XenbusState:
        return read_state(self.conn, self.nodename)

    @property
    def otherend_state(self) -> XenbusState:
        return read_state(self.conn, self.otherend)

    def switch(self, new: XenbusState, tx: int = 0):
        old = self.state
        rc = switch_state(self.conn, self.nodename, new, tx)
        if rc == OK and old != S(new):
            self.transitions.append((old, S(new)))
        return rc

    def poll(self) -> list[XenbusState]:
        """Drain this device's watch events; report each change of the other end's state once
        (the watch fires at registration and may repeat a state: otherend_changed ignores that)."""
        changes = []
        keep = []
        for path, token in self.conn.pop_events():
            if token != self.token:
                keep.append((path, token))  # someone else's watch on the same connection
                continue
            state = self.otherend_state
            if state != self.seen:
                self.seen = state
                changes.append(state)
        self.conn.events.extend(keep)
        return changes

    def __repr__(self) -> str:
        return f"<XenbusDevice {self.nodename} {self.state.name} <-> {self.otherend} {self.otherend_state.name}>"


# -- the bus: drivers driven by their watches (xenbus_probe.c, xenbus_client.c) ---------------------------------
def _abs(conn, path: str) -> str:
    return path if path.startswith("/") else f"/local/domain/{conn.domid}/{path}"


def xenbus_switch_state(conn, path: str, new: XenbusState, *, trace=None, who: str = "", tx: int = 0):
    """``xenbus_switch_state`` and a trace event XENBUS/switch_state (who, path, old, new) when the
    state really changed, so a student can watch the handshake run."""
    old = read_state(conn, path, tx)
    rc = switch_state(conn, path, new, tx)
    if rc == OK and old != S(new):
        emit_state(trace, conn, who, path, old, S(new))
    return rc


def emit_state(trace, conn, who: str, path: str, old: XenbusState, new: XenbusState) -> None:
    if trace is not None and trace.active:
        trace.emit("XS", "xenbus_state", domid=conn.domid, who=who, path=_abs(conn, path),
                   old=int(old), new=int(new), state=S(new).name)


def xenbus_dev_fatal(conn, nodename: str, err: int, msg: str, *, trace=None, who: str = "") -> None:
    """``xenbus_dev_fatal``: write "<-err> <msg>" into ``error/<nodename>/error`` in the driver's
    domain's home (``_dev_error``), then switch the device to Closing."""
    home = f"/local/domain/{conn.domid}/"
    rel = nodename[len(home):] if nodename.startswith(home) else nodename
    conn.write(f"{home}error/{rel}/error", f"{-int(err)} {msg}")
    if trace is not None and trace.active:
        trace.emit("XS", "xenbus_dev_fatal", domid=conn.domid, who=who, path=_abs(conn, nodename), err=int(err),
                   msg=msg)
    xenbus_switch_state(conn, nodename, S.Closing, trace=trace, who=who)


class XenbusProbe:
    """``xenbus_probe.c``: one bus of a kernel -- the front ends' (``device``, in a domU) or the back
    ends' (``backend``, in dom0).  It watches its root; when a device directory appears it calls the
    class's driver ``probe(bus, nodename, otherend)`` and watches the other end's ``state``
    (``watch_otherend``); each firing calls ``driver.otherend_changed(dev, state)``.  A directory
    that disappears is ``remove_device``\\ d.  Nothing else calls the drivers: the handshake runs on watches
    fired by xenstored and delivered on the kernel's store event channel when the kernel runs.

    ``drivers`` maps a device class ("vbd", "vif") to its driver; ``depth`` is 2 for
    ``device/<class>/<devid>`` and 3 for ``backend/<class>/<domid>/<devid>``."""

    def __init__(self, kernel, root: str, drivers: dict, depth: int, who: str, otherend_key: str):
        self.kernel = kernel
        self.root = root
        self.drivers = drivers
        self.depth = depth
        self.who = who
        self.otherend_key = otherend_key          # "backend" for front ends, "frontend" for back ends
        self.devices: dict[str, object] = {}      # nodename -> the driver's device
        self.seen: dict[str, XenbusState] = {}    # nodename -> last otherend state handed over

    @property
    def conn(self):
        return self.kernel.d.xs

    @property
    def trace(self):
        return self.kernel.d.machine.trace

    def start(self) -> "XenbusProbe":
        import functools
        self.kernel.xenbus_watch(self.root, f"bus:{self.who}", functools.partial(self._bus_changed))
        return self

    def _fired(self, path: str, token: str) -> None:
        tr = self.trace
        if tr.active:
            tr.emit("XS", "xenbus_watch", domid=self.conn.domid, who=self.who, path=_abs(self.conn, path),
                    token=token)

    def _nodes(self) -> list[str]:
        """Every ``<root>/<class>/.../<id>`` directory, depth ``self.depth``."""
        level = [self.root]
        for _ in range(self.depth):
            nxt = []
            for p in level:
                kids = self.conn.directory(p)
                if not is_error(kids):
                    nxt.extend(f"{p}/{k}" for k in kids)
            level = nxt
        return level

    def _bus_changed(self, v, path: str) -> None:
        import functools
        self._fired(path, f"bus:{self.who}")
        present = set()
        for node in self._nodes():
            devclass = node[len(self.root) + 1:].split("/")[0]
            driver = self.drivers.get(devclass)
            present.add(node)
            if driver is None:
                continue
            if node in self.devices:
                gone = getattr(driver, "gone", None)
                if gone is None or not gone(self.devices[node]):
                    continue
                self._drop(node)                  # torn down meanwhile and written again: a new device
            other = self.conn.read(f"{node}/{self.otherend_key}")
            if is_error(other) or is_error(self.conn.read(f"{node}/state")):
                continue                          # not fully written yet: a later firing brings the rest
            dev = driver.probe(self, node, other)
            if dev is None:
                continue
            self.devices[node] = dev
            self.kernel.xenbus_watch(f"{other}/state", f"otherend:{node}",
                                     functools.partial(self._otherend_changed, node))
        for node in [n for n in self.devices if n not in present]:
            self._drop(node)

    def _drop(self, node: str) -> None:
        dev = self.devices.pop(node)
        self.seen.pop(node, None)
        other = getattr(dev, "otherend_path", None)
        if other:
            self.conn.unwatch(f"{other}/state", f"otherend:{node}")
        self.drivers[node[len(self.root) + 1:].split("/")[0]].remove_device(self, dev)

    def _otherend_changed(self, node: str, v, path: str) -> None:
        dev = self.devices.get(node)
        if dev is None:
            return
        self._fired(path, f"otherend:{node}")
        state = read_state(self.conn, path[:-len("/state")])
        if self.seen.get(node) == state:
            return                                # otherend_changed: the same state again, nothing to do
        self.seen[node] = state
        self.drivers[node[len(self.root) + 1:].split("/")[0]].otherend_changed(self, dev, state)
