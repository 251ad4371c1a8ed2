"""xenconsoled: dom0's console daemon (X@RELEASE-3.0.0:tools/console/daemon/io.c).

For each guest it binds an interdomain event channel to the guest's console port and, on every
notification, copies the bytes the guest produced in its ring page into a per-domain buffer that
``xm console`` shows.

The daemon reaches the ring page only through a mapping it holds, as 3.0's does
(``xc_map_foreign_range(xc, domid, PAGE_SIZE, PROT_READ|PROT_WRITE, console_mfn)``: a privileged
``mmu_update`` with ``foreigndom`` = the guest, which writes an entry in dom0's page tables and so
takes a reference on the guest's frame). While the mapping exists the frame cannot be freed: a guest
that balloons its console page out only gives up its allocation reference, the frame stays its own
and is never handed to another domain, so the daemon can never read or write a victim's memory
through a stale ``console_mfn``. The mapping goes when the guest dies (the destroy hook), before Xen
relinquishes the guest's memory.

Simplifications:
- The mapping is made in dom0's kernel address space at ``CONSOLE_MAP_BASE + domid * 4096`` instead
  of in the daemon process's, and the daemon reads the frame the raw entry names (the walk a CPU
  would do) instead of through a TLB.
"""
from __future__ import annotations

import functools

from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.memory import mmu_update_t
from xenlab.xen.public.xen import (XENCONS_OFF_OUT, XENCONS_OFF_OUT_CONS, XENCONS_OFF_OUT_PROD,
                                   XENCONS_OUT_SIZE)

CONSOLE_MAP_BASE = 0xE0000000         # dom0 virtual addresses of the mapped console pages
_PRESENT_RW = 0x3


def read_ring(mem, page: int) -> str:
    """Consume the out ring of the console page at machine address ``page``."""
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
        self.mapped: dict[int, int] = {}          # domid -> machine address of dom0's L1 entry
        machine.on_domain_destroy.append(self.release)

    def attach(self, d, guest_port: int) -> int:
        """Bind dom0's end of d's console channel; returns the dom0 port or -errno."""
        dom0 = self.machine.dom0
        bind = ev.evtchn_bind_interdomain(remote_dom=d.domain_id, remote_port=guest_port)
        rc = dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_interdomain, bind))
        if rc < 0:
            return rc
        domid = d.domain_id
        self.map_console(d)
        # A partial of a bound method (not a lambda) so that a deep-copied machine calls its own daemon.
        dom0.kernel.port_handlers[bind.local_port] = functools.partial(self._on_event, domid)
        return bind.local_port

    def _on_event(self, domid: int, v, port: int) -> None:
        self.handle(domid)

    # -- the mapping of the ring page -------------------------------------------------------------------
    def map_console(self, d) -> int:
        """Map d's console page into dom0 (a foreign mapping, holding a reference); 0 or -errno."""
        self.release(d)
        dom0 = self.machine.dom0
        mm = dom0.kernel.mm
        ptr = mm._l1_for(CONSOLE_MAP_BASE + (d.domain_id << 12), create=True)
        done = [0]
        rc = dom0.hypercall("mmu_update", [mmu_update_t(ptr, (d.console_mfn << 12) | _PRESENT_RW)], 1, done,
                            d.domain_id)
        if rc == 0:
            self.mapped[d.domain_id] = ptr
        return rc

    def release(self, d) -> None:
        """Unmap d's console page (the guest is going away): dom0's reference on it goes."""
        ptr = self.mapped.pop(d.domain_id, None)
        if ptr is not None:
            self.machine.dom0.hypercall("mmu_update", [mmu_update_t(ptr, 0)], 1)

    def page(self, domid: int) -> int | None:
        """Machine address of the page dom0's mapping of domid's console reaches, or None."""
        ptr = self.mapped.get(domid)
        if ptr is None:
            return None
        m = self.machine
        esize = 4 if m.paging == "2level" else 8
        e = m.memory.read(ptr, esize)
        if not e & 1:
            return None
        return (e & (0xFFFFF000 if esize == 4 else ((1 << 44) - 1) & ~0xFFF))

    def handle(self, domid: int) -> None:
        d = self.machine.domains.get(domid)
        page = self.page(domid)
        if d is None or page is None:
            return
        text = self.partial.pop(domid, "") + read_ring(self.machine.memory, page)
        *lines, rest = text.split("\n")
        d.console_output.extend(lines)
        if rest:
            self.partial[domid] = rest
        if lines:
            self.machine.trace.emit("IO", "console", domid=domid, lines=lines)
