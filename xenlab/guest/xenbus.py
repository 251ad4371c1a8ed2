"""xenbus: how the two halves of a split device meet through XenStore.

This is Linux kernel code (drivers/xen/xenbus), so it lives with the guest kernel: a domU's front ends
use it, and so do the back ends in dom0's kernel (dom0/xenbus.py re-exports it). It talks to xenstored
only through a connection's XS_* requests and the replies of the wire protocol (xen/public/io/xs_wire.h).

Models the driver side of xenbus in XenLinux 3.0 (linux-2.6-xen-sparse/drivers/xen/xenbus/
xenbus_client.c ``xenbus_switch_state``, xenbus_probe.c ``otherend_changed``, xenbus_xs.c
transactions) with the states of io/xenbus.h.  Each end writes its state as a decimal string into
``<its dir>/state`` and watches ``<other end's dir>/state``.  The handshake (xen-facts section 12):
both start Initialising; the back end goes InitWait; the front end grants its ring, writes
``ring-ref`` and ``event-channel`` in a transaction and goes Initialised (netfront goes straight to
Connected); the back end maps the ring and goes Connected; the front end goes Connected.  Teardown
goes through Closing to Closed.

Simplifications:
- ``switch_state`` refuses transitions outside ``LEGAL_TRANSITIONS`` by raising ``XenbusError``: a
  driver model that does one has a bug.  Linux only logs such things.
- Watches are polled (``XenbusDevice.poll``) instead of running a watch thread.
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
