"""netback: dom0's half of the virtual network interface (linux-2.6-xen-sparse/drivers/xen/netback).

Each guest interface ``vif<domid>.<devid>`` has two rings shared with the guest and one event
channel. On the **TX** ring the guest sends: a request names a granted page, an offset and a size;
netback maps the page read-only (``GNTTABOP_map_grant_ref``), copies the frame out, unmaps, answers
and hands the frame to the bridge. On the **RX** ring the guest posts empty buffers; a frame for the
guest goes into the next one, in one of two ways negotiated through XenStore (xen-facts 2b):

- page flipping (Xen 3.0): netback puts the frame in one of its own pages and *gives the page away*
  with ``GNTTABOP_transfer`` to the guest's ``GTF_accept_transfer`` entry; it then takes a fresh page
  for itself;
- copying (Xen 3.1): if the front end wrote ``request-rx-copy = 1`` (the back end offers
  ``feature-rx-copy = 1``), Xen copies the frame into the guest's granted page (``GNTTABOP_copy``).

Bad requests: a TX request whose data crosses its page, or whose grant does not map, is answered
NETIF_RSP_ERROR and dropped; a producer index more than a ring ahead ("Impossible number of
requests", modern netback) disables the interface. A frame arriving with no RX buffer posted waits in
a short queue (``RX_QUEUE_MAX``), then is dropped and counted.

Simplifications:
- The bridge calls ``deliver`` directly (no Linux skb, no qdisc); TX is served when the event comes.
- After a flip netback refills the pfn at once (XENMEM_increase_reservation, guest/pages.py).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from xenlab.dom0.xenbus import xenbus_dev_fatal, xenbus_switch_state
from xenlab.xen.public import errno as E
from xenlab.xen.public.io.xs_wire import is_error
from xenlab.hw.ethernet import mac_str
from xenlab.dom0 import gntmap
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.io import netif as N
from xenlab.xen.public.io.ring import BackRing
from xenlab.xen.public.io.xenbus import XenbusState
from xenlab.xen.public.xen import DOMID_SELF
from xenlab.xen.public.memory import INVALID_P2M_ENTRY

RX_QUEUE_MAX = 32
PAGE = 4096


@dataclass
class VifStats:
    """Per interface, from the guest's side as xentop shows them (NETTX = what the guest sent)."""
    tx_packets: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    rx_bytes: int = 0
    tx_errors: int = 0
    rx_dropped: int = 0
    rx_flips: int = 0
    rx_copies: int = 0
    notify_sent: int = 0
    notify_held: int = 0


@dataclass
class Netif:
    domid: int
    devid: int
    backend_path: str
    frontend_path: str
    mac: bytes = b""
    bridge: str = "xenbr0"
    tx: BackRing | None = None
    rx: BackRing | None = None
    handles: list[int] = field(default_factory=list)    # the two ring mappings
    port: int = 0
    rx_copy: bool = False
    broken: bool = False
    rx_queue: list[bytes] = field(default_factory=list)
    stats: VifStats = field(default_factory=VifStats)
    log: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"vif{self.domid}.{self.devid}"

    @property
    def otherend_path(self) -> str:
        return self.frontend_path

    @property
    def key(self) -> tuple[int, int]:
        return (self.domid, self.devid)

    def deliver(self, frame: bytes) -> None:       # the bridge port interface
        self.owner.deliver(self, frame)

    def __repr__(self) -> str:
        mode = "copy" if self.rx_copy else "flip"
        return f"<Netif {self.name} {mac_str(self.mac)} rx={mode} port {self.port}{' BROKEN' if self.broken else ''}>"


class Netback:
    """The network backend driver of dom0; ``rx_mode`` "copy" is a 3.1 back end, "flip" a 3.0 one."""

    def __init__(self, machine, bridge, rx_mode: str = "copy"):
        if rx_mode not in ("copy", "flip"):
            raise ValueError(f"rx_mode is 'copy' (Xen 3.1) or 'flip' (Xen 3.0), got {rx_mode!r}")
        self.machine = machine
        self.bridge = bridge
        self.rx_mode = rx_mode
        self.netifs: dict[tuple[int, int], Netif] = {}

    @property
    def xs(self):
        """dom0's kernel connection to xenstored (its xenbus), not xend's."""
        return self.machine.xend.xenstored.kernel_conn

    @property
    def dom0(self):
        return self.machine.dom0

    def _hc(self, name, *args) -> int:
        return self.dom0.hypercall(name, *args)

    def _log(self, netif: Netif, msg: str) -> None:
        netif.log.append(msg)
        self.machine.trace.emit("IO", "netback_log", domid=netif.domid, devid=netif.devid, msg=msg)

    # -- xenbus (driven by the back-end bus's watches, guest/xenbus.py XenbusProbe) ------------------------
    def _switch(self, netif: Netif, new: XenbusState) -> None:
        xenbus_switch_state(self.xs, netif.backend_path, new, trace=self.machine.trace, who="netback")

    def _fatal(self, netif: Netif, err: int, msg: str) -> None:
        self._log(netif, msg)
        xenbus_dev_fatal(self.xs, netif.backend_path, err, msg, trace=self.machine.trace, who="netback")

    def probe(self, bus, nodename: str, otherend: str) -> Netif | None:
        """netback_probe: read mac and bridge, offer rx-copy, go InitWait (the vif-bridge hotplug
        script's ``hotplug-status`` is written here too)."""
        xs = self.xs
        domid, devid = (int(x) for x in nodename.rsplit("/", 2)[1:])
        netif = Netif(domid, devid, nodename, otherend)
        netif.owner = self
        mac = xs.read(f"{nodename}/mac")
        try:
            netif.mac = bytes(int(x, 16) for x in mac.split(":"))
        except (AttributeError, ValueError):
            self._fatal(netif, -E.EINVAL, "reading mac")
            return None
        netif.bridge = xs.read(f"{nodename}/bridge")
        if self.rx_mode == "copy":
            xs.write(f"{nodename}/feature-rx-copy", "1")
        self.netifs[netif.key] = netif
        xs.write(f"{nodename}/hotplug-status", "connected")
        self._switch(netif, XenbusState.InitWait)
        return netif

    def otherend_changed(self, bus, netif: Netif, state: XenbusState) -> None:
        if self.netifs.get(netif.key) is not netif:
            return
        if state in (XenbusState.Initialised, XenbusState.Connected) and netif.tx is None:
            if self.connect(netif) == 0:
                self._switch(netif, XenbusState.Connected)
        elif state == XenbusState.Closing:
            self.disconnect(netif)
            self._switch(netif, XenbusState.Closing)
            self._switch(netif, XenbusState.Closed)
        elif state in (XenbusState.Unknown, XenbusState.InitWait):
            self._fatal(netif, -E.EINVAL, f"saw state {int(state)} at frontend")

    def gone(self, netif) -> bool:
        """Torn down by the toolstack (the domain died) before the bus saw its directory go."""
        return self.netifs.get(netif.key) is not netif

    def remove_device(self, bus, netif: Netif) -> None:
        if self.netifs.get(netif.key) is netif:
            self.disconnect(self.netifs.pop(netif.key))

    def connect(self, netif: Netif) -> int:
        xs, fe = self.xs, netif.frontend_path
        raw = [xs.read(f"{fe}/{k}") for k in ("tx-ring-ref", "rx-ring-ref", "event-channel")]
        if any(is_error(r) or not r.strip().isdigit() for r in raw):
            self._fatal(netif, -E.ENOENT, f"reading {fe}/tx-ring-ref, rx-ring-ref and event-channel")
            return -E.ENOENT
        refs, evtchn = [int(raw[0]) & 0xFFFFFFFF, int(raw[1]) & 0xFFFFFFFF], int(raw[2])
        netif.rx_copy = self.rx_mode == "copy" and xs.read(f"{fe}/request-rx-copy") == "1"
        ops = [G.GnttabMapGrantRef(flags=G.GNTMAP_host_map, ref=r, dom=netif.domid) for r in refs]
        gntmap.map_grant_refs(self.machine, ops)
        if any(op.status != G.GNTST_okay for op in ops):
            self._unmap([op.handle for op in ops if op.status == G.GNTST_okay])
            self._fatal(netif, -E.EINVAL, f"mapping tx-ring-ref {refs[0]} rx-ring-ref {refs[1]}")
            return -1
        bind = ev.evtchn_bind_interdomain(remote_dom=netif.domid, remote_port=evtchn)
        rc = self._hc("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_interdomain, bind))
        if rc < 0:
            self._unmap([op.handle for op in ops])
            return rc
        mem = self.machine.memory
        hook = functools.partial(self._ring_event, netif.key)
        tx = N.new_netif_tx_sring(mem, gntmap.page(self.machine, ops[0].handle).maddr, init=False,
                                  on_event=functools.partial(hook, "tx"))
        rx = N.new_netif_rx_sring(mem, gntmap.page(self.machine, ops[1].handle).maddr, init=False,
                                  on_event=functools.partial(hook, "rx"))
        netif.tx, netif.rx = BackRing(tx), BackRing(rx)
        netif.handles = [op.handle for op in ops]
        netif.port = bind.local_port
        self.dom0.kernel.port_handlers[netif.port] = functools.partial(self._on_event, netif.key)
        self.bridge.add_port(netif.name, netif)
        return 0

    def disconnect(self, netif: Netif) -> None:
        self.bridge.del_port(netif.name)
        if netif.tx is not None:
            self._unmap(netif.handles)
            self.dom0.kernel.port_handlers.pop(netif.port, None)
            self._hc("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_close, ev.evtchn_close(netif.port)))
            netif.tx = netif.rx = None
            netif.handles = []

    def remove(self, domid: int) -> None:
        for key in [k for k in self.netifs if k[0] == domid]:
            self.disconnect(self.netifs.pop(key))

    def _unmap(self, handles) -> None:
        if handles:
            gntmap.unmap_grant_refs(self.machine, list(handles))

    def _ring_event(self, key, ring: str, name: str, **payload) -> None:
        trace = self.machine.trace
        if trace.active:
            trace.emit("IO", f"netif_{ring}_{name}", domid=key[0], devid=key[1], **payload)

    def _notify(self, netif: Netif, ring: BackRing) -> None:
        if ring.push_responses_and_check_notify():
            netif.stats.notify_sent += 1
            self._hc("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(netif.port)))
        else:
            netif.stats.notify_held += 1

    # -- TX: the guest sends ----------------------------------------------------------------------------
    def _on_event(self, key, v, port: int) -> None:
        netif = self.netifs.get(key)
        if netif is None or netif.tx is None or netif.broken:
            return
        self.net_tx_action(netif)
        self.net_rx_action(netif)                  # buffers may have been posted meanwhile

    def net_tx_action(self, netif: Netif) -> int:
        ring = netif.tx
        sent = 0
        while True:
            if ring.request_prod_overflow(ring.sring.req_prod):
                netif.broken = True
                self._log(netif, f"Impossible number of requests. req_prod {ring.sring.req_prod}, "
                                 f"req_cons {ring.req_cons}, size {ring.nr_ents}: disabling {netif.name}")
                return sent
            frames = []
            while ring.has_unconsumed_requests():
                req = ring.consume_request()
                frame = self._tx_one(netif, req)
                ring.produce_response(N.NetifTxResponse(req.id, N.NETIF_RSP_OKAY if frame else N.NETIF_RSP_ERROR))
                if frame:
                    frames.append(frame)
            if frames or ring.rsp_prod_pvt != ring.sring.rsp_prod:
                self._notify(netif, ring)
            for frame in frames:
                sent += 1
                netif.stats.tx_packets += 1
                netif.stats.tx_bytes += len(frame)
                self.bridge.receive(netif.name, frame)
            if not ring.final_check_for_requests():
                return sent

    def _tx_one(self, netif: Netif, req: N.NetifTxRequest) -> bytes | None:
        if req.offset + req.size > PAGE or req.size < 14:
            netif.stats.tx_errors += 1
            self._log(netif, f"netback: packet of {req.size} bytes at offset {req.offset} crosses its page")
            return None
        op = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map | G.GNTMAP_readonly, ref=req.gref, dom=netif.domid)
        gntmap.map_grant_refs(self.machine, [op])
        if op.status != G.GNTST_okay:
            netif.stats.tx_errors += 1
            self._log(netif, f"netback: bad grant reference {req.gref}: {G.GNTST_NAMES[op.status]}")
            return None
        frame = gntmap.page(self.machine, op.handle).read(req.offset, req.size)
        self._unmap([op.handle])
        return frame

    # -- RX: a frame for the guest -------------------------------------------------------------------------
    def deliver(self, netif: Netif, frame: bytes) -> None:
        if netif.rx is None or netif.broken:
            netif.stats.rx_dropped += 1
            return
        if len(netif.rx_queue) >= RX_QUEUE_MAX:
            netif.stats.rx_dropped += 1
            return
        netif.rx_queue.append(frame)
        self.net_rx_action(netif)

    def net_rx_action(self, netif: Netif) -> int:
        ring = netif.rx
        if ring is None or not netif.rx_queue:
            return 0
        if ring.request_prod_overflow(ring.sring.req_prod):
            netif.broken = True
            self._log(netif, f"Impossible number of RX requests: disabling {netif.name}")
            return 0
        done = 0
        while netif.rx_queue and ring.has_unconsumed_requests():
            frame = netif.rx_queue.pop(0)
            req = ring.consume_request()
            status = self._rx_copy(netif, req, frame) if netif.rx_copy else self._rx_flip(netif, req, frame)
            ring.produce_response(N.NetifRxResponse(req.id, 0, N.NETRXF_data_validated if status > 0 else 0,
                                                    status))
            if status > 0:
                netif.stats.rx_packets += 1
                netif.stats.rx_bytes += len(frame)
            else:
                netif.stats.rx_dropped += 1
            done += 1
        if done:
            self._notify(netif, ring)
        return done

    def _rx_page(self, frame: bytes) -> tuple[int, int]:
        """A dom0 page holding ``frame`` (the skb's data): (pfn, mfn)."""
        k = self.dom0.kernel
        pfn = k.alloc_page()
        mfn = k.mm.mfn(pfn)                          # dom0's own P2M array, as netback's pfn_to_mfn
        mem = self.machine.memory
        mem.clear_frame(mfn)
        mem.write_bytes(mfn << 12, frame)
        return pfn, mfn

    def _rx_copy(self, netif: Netif, req, frame: bytes) -> int:
        pfn, mfn = self._rx_page(frame)
        op = G.GnttabCopy(source=G.GnttabCopyPtr(mfn, DOMID_SELF, 0),
                          dest=G.GnttabCopyPtr(req.gref, netif.domid, 0), len=len(frame),
                          flags=G.GNTCOPY_dest_gref)
        self._hc("grant_table_op", G.GNTTABOP_copy, [op], 1)
        self.dom0.kernel.free_page(pfn)
        if op.status != G.GNTST_okay:
            self._log(netif, f"netback: rx copy failed: {G.GNTST_NAMES[op.status]}")
            return N.NETIF_RSP_ERROR
        netif.stats.rx_copies += 1
        return len(frame)

    def _rx_flip(self, netif: Netif, req, frame: bytes) -> int:
        from xenlab.guest.pages import refill, take_foreign, unmap_direct
        k = self.dom0.kernel
        pfn, mfn = self._rx_page(frame)
        unmap_direct(k, pfn)                        # Xen gives away only a page nobody maps
        op = G.GnttabTransfer(mfn=mfn, domid=netif.domid, ref=req.gref)
        self._hc("grant_table_op", G.GNTTABOP_transfer, [op], 1)
        if op.status == G.GNTST_bad_page:
            take_foreign(k, pfn, mfn)               # still ours: map it back
        else:
            k.mm.p2m[pfn] = INVALID_P2M_ENTRY       # gone from dom0 even on failure: refill the hole
            refill(k, pfn)
        k.free_page(pfn)
        if op.status != G.GNTST_okay:
            self._log(netif, f"netback: rx flip failed: {G.GNTST_NAMES[op.status]}")
            return N.NETIF_RSP_ERROR
        netif.stats.rx_flips += 1
        return len(frame)
