"""The domU side of the console: xencons writing into the console ring page (public/io/console.h).

The page holds ``in[1024]`` and ``out[2048]`` byte rings with free-running indices; the guest is
the producer of ``out`` and notifies dom0's console daemon through its console event channel.
"""
from __future__ import annotations

from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.xen import (XENCONS_OFF_OUT, XENCONS_OFF_OUT_CONS, XENCONS_OFF_OUT_PROD,
                                   XENCONS_OUT_SIZE)


def xencons_write(kernel, v, text: str) -> int:
    """Copy as much of ``text`` as fits into the out ring, then notify; returns bytes written."""
    d = kernel.d
    mem = d.machine.memory
    page = d.console_mfn << 12
    cons = mem.read_u32(page + XENCONS_OFF_OUT_CONS)
    prod = mem.read_u32(page + XENCONS_OFF_OUT_PROD)
    data = text.encode("utf-8", "replace")
    n = 0
    while n < len(data) and ((prod - cons) & 0xFFFFFFFF) < XENCONS_OUT_SIZE:
        mem.write_u8(page + XENCONS_OFF_OUT + (prod % XENCONS_OUT_SIZE), data[n])
        prod = (prod + 1) & 0xFFFFFFFF
        n += 1
    mem.write_u32(page + XENCONS_OFF_OUT_PROD, prod)
    port = getattr(d, "console_port", 0)
    if port:
        kernel.hypercall(v, "event_channel_op", ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(port)))
    return n
