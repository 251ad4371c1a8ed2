"""xenconsoled: dom0's console daemon (X@RELEASE-3.0.0:tools/console/daemon/io.c).

For each guest it binds an interdomain event channel to the guest's console port and, on every
notification, copies the bytes the guest produced in its ring page into a per-domain buffer that
``xm console`` shows.
"""
from __future__ import annotations

import functools

from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.xen import (XENCONS_OFF_OUT, XENCONS_OFF_OUT_CONS, XENCONS_OFF_OUT_PROD,
                                   XENCONS_OUT_SIZE)


def read_console_ring(d) -> str:
    mem = d.machine.memory
    page = d.console_mfn << 12
    cons = mem.read_u32(page + XENCONS_OFF_OUT_CONS)
    prod = mem.read_u32(page + XENCONS_OFF_OUT_PROD)
    if ((prod - cons) & 0xFFFFFFFF) > XENCONS_OUT_SIZE:
        return ""                       # a guest that scribbled on its indices gets nothing read
    out = bytearray()
    while cons != prod:
        out.append(mem.read_u8(page + XENCONS_OFF_OUT + (cons % XENCONS_OUT_SIZE)))
        cons = (cons + 1) & 0xFFFFFFFF
    mem.write_u32(page + XENCONS_OFF_OUT_CONS, cons)
    return out.decode("utf-8", "replace")


class ConsoleDaemon:
    def __init__(self, machine):
        self.machine = machine
        self.partial: dict[int, str] = {}

    def attach(self, d, guest_port: int) -> int:
        """Bind dom0's end of d's console channel; returns the dom0 port or -errno."""
        dom0 = self.machine.dom0
        bind = ev.evtchn_bind_interdomain(remote_dom=d.domain_id, remote_port=guest_port)
        rc = dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_interdomain, bind))
        if rc < 0:
            return rc
        domid = d.domain_id
        # A partial of a bound method (not a lambda) so that a deep-copied machine calls its own daemon.
        dom0.kernel.port_handlers[bind.local_port] = functools.partial(self._on_event, domid)
        return bind.local_port

    def _on_event(self, domid: int, v, port: int) -> None:
        self.handle(domid)

    def handle(self, domid: int) -> None:
        d = self.machine.domains.get(domid)
        if d is None or d.console_mfn < 0:
            return
        text = self.partial.pop(domid, "") + read_console_ring(d)
        *lines, rest = text.split("\n")
        d.console_output.extend(lines)
        if rest:
            self.partial[domid] = rest
        if lines:
            self.machine.trace.emit("IO", "console", domid=domid, lines=lines)
