"""xenstored running in dom0, wired to the machine (X@RELEASE-3.0.0:tools/xenstore/xenstored_domain.c).

The store itself is dom0/xenstore.py. This module connects it to domains the way 3.0 does: every
domain has a store page and an interdomain event channel to dom0 (``start_info.store_mfn`` /
``store_evtchn``); when a watch fires for a domain, xenstored notifies that channel and the guest's
xenbus reads its watch events. xend writes each domain's home ``/local/domain/<domid>``.

Simplifications:
- Requests are method calls on the domain's connection rather than messages framed on the two
  1024-byte rings of the store page; the notifications on the event channel are real.
- dom0's kernel connects (its loopback store channel) when its first back end needs it, not at
  boot, so a machine without virtual devices keeps the event-channel ports it always had.
"""
from __future__ import annotations

from xenlab.dom0.xenstore import XenStore, domain_path, is_error
from xenlab.xen.public import event_channel as ev


class Xenstored:
    def __init__(self, machine):
        self.machine = machine
        self.store = XenStore(on_event=self._on_event)
        self.tools = self.store.connect(0)            # xend's connection (a socket in dom0)
        self.dom0_ports: dict[int, int] = {}          # domid -> dom0's end of its store channel
        self.tools.write("/local/domain/0/name", "Domain-0")
        self.tools.write("/local/domain/0/domid", "0")
        self._kernel_conn = None

    @property
    def kernel_conn(self):
        """dom0's kernel's connection (its back ends' xenbus), set up on first use."""
        if self._kernel_conn is None:
            self._connect_dom0_kernel()
        return self._kernel_conn

    def _connect_dom0_kernel(self) -> None:
        """dom0's kernel is a xenstored client too (its back ends' xenbus): 3.0's xenbus_probe_init
        allocates an unbound port for xenstored in dom0, and xenstored binds it (a loopback channel
        inside dom0).  Watch events for that connection are notified on it."""
        dom0 = self.machine.dom0
        self._kernel_conn = self.store.connect(0)
        alloc = ev.evtchn_alloc_unbound(dom=0, remote_dom=0)
        if dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_alloc_unbound, alloc)) < 0:
            return
        bind = ev.evtchn_bind_interdomain(remote_dom=0, remote_port=alloc.port)
        if dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_interdomain, bind)) < 0:
            return
        self.dom0_ports[0] = bind.local_port
        dom0.xs, dom0.store_port = self.kernel_conn, alloc.port
        dom0.kernel.port_handlers[alloc.port] = dom0.kernel._xenbus_event

    def _on_event(self, name: str, **payload) -> None:
        self.machine.trace.emit("XS", name, **{k: v for k, v in payload.items() if k != "domid"},
                                domid=payload.get("domid"))
        if name == "watch_event":
            domid = payload["domid"]
            port = self.dom0_ports.get(domid)
            if domid == 0 and (self._kernel_conn is None or not self._kernel_conn.events):
                return                                # an event for xend's own connection, not the kernel's
            if port and domid in self.machine.domains:
                self.machine.dom0.hypercall("event_channel_op",
                                            ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(port)))

    def introduce(self, d, store_mfn: int) -> int:
        """Allocate d's store channel, bind dom0's end, XS_INTRODUCE; returns the guest's port."""
        dom0 = self.machine.dom0
        alloc = ev.evtchn_alloc_unbound(dom=d.domain_id, remote_dom=0)
        rc = dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_alloc_unbound, alloc))
        if rc < 0:
            return rc
        bind = ev.evtchn_bind_interdomain(remote_dom=d.domain_id, remote_port=alloc.port)
        rc = dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_interdomain, bind))
        if rc < 0:
            return rc
        self.dom0_ports[d.domain_id] = bind.local_port
        dom0.kernel.port_handlers[bind.local_port] = self._guest_request
        d.xs = self.store.introduce(d.domain_id, store_mfn, alloc.port)
        return alloc.port

    def _guest_request(self, v, port: int) -> None:
        """A guest notified its store channel: requests are served synchronously, nothing to do."""

    def write_domain_home(self, d, console_port: int, store_port: int) -> None:
        """What xend writes for a new domain, owned by the domain so it may read and write there."""
        home = domain_path(d.domain_id)
        t = self.tools
        t.mkdir(home)
        t.set_perms(home, [f"n{d.domain_id}", "r0"])      # children inherit: the domain owns its home
        t.write(f"{home}/name", d.name)
        t.write(f"{home}/domid", str(d.domain_id))
        t.write(f"{home}/vm", f"/vm/{d.domain_id:08d}-{d.name}")
        t.write(f"{home}/memory/target", str(d.tot_pages * 4))
        t.write(f"{home}/cpu/0/availability", "online")
        t.write(f"{home}/console/port", str(console_port))
        t.write(f"{home}/console/ring-ref", str(d.console_mfn))
        t.write(f"{home}/store/port", str(store_port))
        t.write(f"{home}/store/ring-ref", str(d.store_mfn))
        t.mkdir(f"{home}/control")
        t.mkdir(f"{home}/device")

    def release(self, d) -> None:
        if d.domain_id in self.store.introduced:
            self.store.release(d.domain_id)
        self.tools.rm(domain_path(d.domain_id))
        self.dom0_ports.pop(d.domain_id, None)

    def request_shutdown(self, d, reason: str) -> bool:
        """xend's shutdown: write control/shutdown; the guest's watch does the rest."""
        return not is_error(self.tools.write(f"{domain_path(d.domain_id)}/control/shutdown", reason))
