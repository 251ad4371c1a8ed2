"""netfront: the guest's half of the virtual network interface (linux-2.6-xen-sparse/drivers/xen/netfront).

Two rings (TX, RX) and one event channel per interface. To send, netfront copies the frame into a
page of its own, grants it read-only to the back end and queues a TX request; the back end answers
once it has copied the frame out, and the page is revoked and reused. To receive it keeps RX buffers
posted: in **copy** mode (the back end offered ``feature-rx-copy`` and we wrote ``request-rx-copy =
1``, Xen 3.1) each buffer is a page granted writable; in **flip** mode (Xen 3.0) each buffer is a
``GTF_accept_transfer`` entry for a pfn whose page the guest first gave back to Xen, and a received
frame arrives as a whole new machine page, which the guest puts at that pfn of its P2M (and M2P).

Posting RX buffers needs no notification ("there is never any need to notify the backend when
enqueuing receive requests", netif.h 3.0); sending does, subject to the ring's hold-off rule.

Simplifications:
- The rings are set up when the back end's state watch reads InitWait (as later netfronts do, to read
  ``feature-rx-copy`` first); 3.0.0's netfront writes them at probe. Either way it writes
  ``state = Connected`` with the ring references in one transaction, and netback connects on that.
- ``RX_BUFFERS`` buffers are posted (Linux adapts its target between 8 and 256).
- (guest/pages.py does the decrease_reservation and MMU_MACHPHYS_UPDATE work of a flip; the pages of one
  refill go back in one multicall, as 3.0.0's network_alloc_rx_buffers does.)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from xenlab.guest.xenbus import emit_state, publish, read_state
from xenlab.xen.public.io.xs_wire import is_error
from xenlab.guest.gnttab import guest_grants
from xenlab.guest.pages import give_back_batch, refill, take_foreign
from xenlab.hw.ethernet import IpStack, ip_bytes, mac_str
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.io import netif as N
from xenlab.xen.public.io.ring import FrontRing
from xenlab.xen.public.io.xenbus import XenbusState
from xenlab.xen.public.xen import DOMID_SELF

RX_BUFFERS = 32
M2P_INVALID = 0xFFFFFFFF


@dataclass
class RxBuffer:
    pfn: int
    ref: int


class Netfront:
    def __init__(self, kernel, devid: int, ip: str, want_copy: bool = True):
        self.kernel = kernel
        self.devid = devid
        self.nodename = f"device/vif/{devid}"
        self.xs = kernel.d.xs
        self.backend = self.xs.read(f"{self.nodename}/backend")
        self.backend_id = int(self.xs.read(f"{self.nodename}/backend-id"))
        self.mac = bytes(int(x, 16) for x in self.xs.read(f"{self.nodename}/mac").split(":"))
        self.want_copy = want_copy
        self.rx_copy = False
        self.tx: FrontRing | None = None
        self.rx: FrontRing | None = None
        self.port = 0
        self.tx_free_ids: list[int] = []
        self.tx_shadow: dict[int, tuple[int, int]] = {}     # id -> (pfn, gref)
        self.tx_waiting: list[bytes] = []
        self.rx_buffers: dict[int, RxBuffer] = {}           # id -> buffer
        self.rx_free_ids: list[int] = []
        self.stats = {"tx_packets": 0, "tx_bytes": 0, "rx_packets": 0, "rx_bytes": 0, "rx_errors": 0,
                      "tx_errors": 0, "notify_sent": 0, "notify_held": 0}
        self.stack = IpStack(self.mac, ip_bytes(ip), self.send, self._now)

    @property
    def d(self):
        return self.kernel.d

    @property
    def machine(self):
        return self.kernel.d.machine

    def _now(self) -> int:
        return self.machine.now

    @property
    def state(self) -> XenbusState:
        return read_state(self.xs, self.nodename)

    def __repr__(self) -> str:
        return (f"<Netfront d{self.d.domain_id} eth{self.devid} {mac_str(self.mac)} "
                f"{'copy' if self.rx_copy else 'flip'} {self.state.name}>")

    # -- xenbus -----------------------------------------------------------------------------------------
    def backend_changed(self, state: XenbusState | None = None) -> None:
        """The otherend watch fired: once the back end waits (and has said whether it copies),
        set up the rings and go Connected."""
        state = read_state(self.xs, self.backend) if state is None else state
        if state == XenbusState.InitWait and self.tx is None:
            self.setup_rings()

    def setup_rings(self) -> None:
        k, d = self.kernel, self.d
        mem = self.machine.memory
        grants = guest_grants(k)
        pfns = [k.alloc_page(), k.alloc_page()]
        mfns = [d.kernel.p2m[p] for p in pfns]
        self.tx = FrontRing(N.new_netif_tx_sring(mem, mfns[0] << 12, on_event=functools.partial(self._ring_event, "tx")))
        self.rx = FrontRing(N.new_netif_rx_sring(mem, mfns[1] << 12, on_event=functools.partial(self._ring_event, "rx")))
        self.tx_free_ids = list(range(self.tx.nr_ents - 1, -1, -1))
        self.rx_free_ids = list(range(self.rx.nr_ents - 1, -1, -1))
        refs = [grants.grant_foreign_access(self.backend_id, m) for m in mfns]
        alloc = ev.evtchn_alloc_unbound(dom=DOMID_SELF, remote_dom=self.backend_id)
        if k.hypercall(d.vcpus[0], "event_channel_op", ev.evtchn_op(ev.EVTCHNOP_alloc_unbound, alloc)) < 0:
            raise RuntimeError(f"eth{self.devid}: EVTCHNOP_alloc_unbound failed")
        self.port = alloc.port
        k.port_handlers[self.port] = functools.partial(self._on_event)
        self.rx_copy = self.want_copy and self.xs.read(f"{self.backend}/feature-rx-copy") == "1"

        old = self.state
        result = publish(self.xs, self.nodename,
                         (("tx-ring-ref", refs[0]), ("rx-ring-ref", refs[1]), ("event-channel", self.port),
                          ("request-rx-copy", int(self.rx_copy))), XenbusState.Connected)
        if is_error(result):
            raise RuntimeError(f"eth{self.devid}: publishing the rings failed: {result}")
        emit_state(self.machine.trace, self.xs, "netfront", self.nodename, old, XenbusState.Connected)
        self.alloc_rx_buffers()

    def _ring_event(self, ring: str, name: str, **payload) -> None:
        trace = self.machine.trace
        if trace.active:
            trace.emit("IO", f"netfront_{ring}_{name}", domid=self.d.domain_id, devid=self.devid, **payload)

    # -- RX buffers -------------------------------------------------------------------------------------
    def alloc_rx_buffers(self) -> int:
        """Post RX buffers up to RX_BUFFERS (network_alloc_rx_buffers); no notification needed."""
        k, grants, ring = self.kernel, guest_grants(self.kernel), self.rx
        posted, flipped = 0, []
        while len(self.rx_buffers) < RX_BUFFERS and not ring.full() and self.rx_free_ids:
            pfn = k.alloc_page()
            if self.rx_copy:
                ref = grants.grant_foreign_access(self.backend_id, self.d.kernel.p2m[pfn])
            else:
                ref = grants.grant_foreign_transfer(self.backend_id, pfn)
                flipped.append(pfn)
            rid = self.rx_free_ids.pop()
            self.rx_buffers[rid] = RxBuffer(pfn, ref)
            ring.produce_request(N.NetifRxRequest(id=rid, gref=ref))
            posted += 1
        if flipped:                       # flip: the pages go back to Xen in one multicall (pages.py)
            give_back_batch(k, flipped)
        if posted:
            ring.push_requests()
        return posted

    # -- TX ------------------------------------------------------------------------------------------------
    def send(self, frame: bytes) -> None:
        """hard_start_xmit: queue one frame, push, notify if the back end asked for it."""
        self.tx_waiting.append(bytes(frame))
        self._flush_tx()

    def _flush_tx(self) -> None:
        k, grants, ring = self.kernel, guest_grants(self.kernel), self.tx
        mem = self.machine.memory
        produced = 0
        while self.tx_waiting and not ring.full() and self.tx_free_ids:
            frame = self.tx_waiting.pop(0)
            pfn = k.alloc_page()
            mfn = self.d.kernel.p2m[pfn]
            mem.write_bytes(mfn << 12, frame)
            ref = grants.grant_foreign_access(self.backend_id, mfn, readonly=True)
            rid = self.tx_free_ids.pop()
            self.tx_shadow[rid] = (pfn, ref)
            ring.produce_request(N.NetifTxRequest(gref=ref, offset=0, flags=0, id=rid, size=len(frame)))
            self.stats["tx_packets"] += 1
            self.stats["tx_bytes"] += len(frame)
            produced += 1
        if produced:
            if ring.push_requests_and_check_notify():
                self.stats["notify_sent"] += 1
                k.hypercall(self.d.vcpus[0], "event_channel_op",
                            ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(self.port)))
            else:
                self.stats["notify_held"] += 1

    # -- the interrupt ---------------------------------------------------------------------------------------
    def _on_event(self, v, port: int) -> None:
        if self.tx is None:
            return
        self._tx_done()
        frames = self._rx()
        self.alloc_rx_buffers()
        self._flush_tx()
        for frame in frames:
            self.stack.receive(frame)

    def _tx_done(self) -> None:
        ring, grants, k = self.tx, guest_grants(self.kernel), self.kernel
        while True:
            while ring.has_unconsumed_responses():
                rsp = ring.consume_response()
                pfn, ref = self.tx_shadow.pop(rsp.id, (None, None))
                if pfn is None:
                    continue
                if rsp.status != N.NETIF_RSP_OKAY:
                    self.stats["tx_errors"] += 1
                grants.end_foreign_access(ref)
                k.free_page(pfn)
                self.tx_free_ids.append(rsp.id)
            if not ring.final_check_for_responses():
                return

    def _rx(self) -> list[bytes]:
        ring, grants, k = self.rx, guest_grants(self.kernel), self.kernel
        mem = self.machine.memory
        frames = []
        while True:
            while ring.has_unconsumed_responses():
                rsp = ring.consume_response()
                buf = self.rx_buffers.pop(rsp.id, None)
                if buf is None:
                    continue
                self.rx_free_ids.append(rsp.id)
                if self.rx_copy:
                    grants.end_foreign_access(buf.ref)
                else:
                    mfn = grants.end_foreign_transfer(buf.ref)
                    if mfn:
                        take_foreign(k, buf.pfn, mfn)      # P2M, MMU_MACHPHYS_UPDATE, direct map
                    else:                                   # nothing came: fill the hole again
                        refill(k, buf.pfn)
                if rsp.status > 0:
                    start = (self.d.kernel.p2m[buf.pfn] << 12) + rsp.offset
                    frames.append(mem.read_bytes(start, rsp.status))
                    self.stats["rx_packets"] += 1
                    self.stats["rx_bytes"] += rsp.status
                else:
                    self.stats["rx_errors"] += 1
                k.free_page(buf.pfn)
            if not ring.final_check_for_responses():
                return frames


class NetfrontDriver:
    """The xenbus driver "vif" of the guest's front-end bus (netfront_driver).

    The guest's address: ``kernel.netfront_params[devid]`` = (ip, want_copy), the guest's own
    network configuration and module parameter (set with the domain's config); without one, the
    address the back end's ``ip`` node names."""

    def probe(self, bus, nodename: str, otherend: str):
        k = bus.kernel
        devid = int(nodename.rsplit("/", 1)[1])
        params = k.__dict__.get("netfront_params", {}).get(devid)
        if params is None:
            ip = k.d.xs.read(f"{otherend}/ip")
            params = (ip if not is_error(ip) and ip else "0.0.0.0", True)
        front = Netfront(k, devid, params[0], want_copy=params[1])
        front.otherend_path = otherend
        vifs = k.__dict__.setdefault("vifs", [])
        vifs.append(front)
        vifs.sort(key=lambda f: f.devid)
        if devid == 0:
            k.net = front.stack
        return front

    def otherend_changed(self, bus, front, state) -> None:
        front.backend_changed(state)

    def remove_device(self, bus, front) -> None:
        vifs = bus.kernel.__dict__.get("vifs", [])
        if front in vifs:
            vifs.remove(front)
