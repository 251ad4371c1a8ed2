"""The physical network card of the machine and the LAN outside it.

``Lan`` is a switched Ethernet segment: a frame sent by one station reaches the station whose MAC it
names (every other station for broadcast) after ``latency_ns``. ``Nic`` is dom0's card (peth0): it
takes frames from the bridge and puts them on the LAN, and queues frames from the LAN, raising its
interrupt line (a PIRQ that Xen turns into an event for dom0). ``ExternalHost`` is a computer on the
same LAN, outside the Xen machine, with its own ARP and ICMP (hw/ethernet.py).

Simplifications:
- No collisions, no loss, no bandwidth limit: each frame takes ``latency_ns`` end to end.
- The NIC is promiscuous (it is a bridge port) and has no ring of its own: a Python queue.
"""
from __future__ import annotations

import functools

from xenlab.hw.ethernet import BROADCAST, IpStack, ip_bytes, mac_bytes, mac_str, parse_eth
from xenlab.hw.clock import PRIO_DEFAULT

LAN_LATENCY_NS = 50_000          # 50 us across the switch
NIC_PIRQ = 16                    # the card's interrupt line


class Lan:
    """A switched Ethernet segment driven by the machine's timer queue."""

    def __init__(self, timers, latency_ns: int = LAN_LATENCY_NS):
        self.timers = timers
        self.latency_ns = latency_ns
        self.stations: list = []
        self.in_flight: list[tuple[object, bytes]] = []
        self.frames = 0
        self._timers = []

    def attach(self, station) -> None:
        self.stations.append(station)

    def transmit(self, sender, frame: bytes) -> None:
        self.frames += 1
        dst = parse_eth(frame)[0]
        for st in self.stations:
            if st is not sender and (dst == BROADCAST or st.promiscuous or st.mac == dst):
                t = self.timers.init_timer("lan", functools.partial(self._deliver, st, frame), None, 0,
                                           PRIO_DEFAULT)
                self.timers.set_timer(t, self.timers.now + self.latency_ns)

    def _deliver(self, station, frame: bytes, _data) -> None:
        station.receive_frame(frame)


class Nic:
    """dom0's physical card, a port of the bridge."""
    promiscuous = True

    def __init__(self, lan: Lan, mac: str = "00:1b:21:0a:0b:0c", name: str = "peth0"):
        self.lan = lan
        self.mac = mac_bytes(mac)
        self.name = name
        self.rx_queue: list[bytes] = []
        self.interrupt = None                  # callable() raising the card's PIRQ
        self.counters = {"rx_packets": 0, "rx_bytes": 0, "tx_packets": 0, "tx_bytes": 0}
        lan.attach(self)

    def transmit(self, frame: bytes) -> None:
        self.counters["tx_packets"] += 1
        self.counters["tx_bytes"] += len(frame)
        self.lan.transmit(self, frame)

    def receive_frame(self, frame: bytes) -> None:
        self.counters["rx_packets"] += 1
        self.counters["rx_bytes"] += len(frame)
        self.rx_queue.append(frame)
        if self.interrupt is not None:
            self.interrupt()

    def __repr__(self) -> str:
        return f"<Nic {self.name} {mac_str(self.mac)} {self.counters}>"


class ExternalHost:
    """A computer on the LAN outside the Xen machine (it answers ARP and ping)."""
    promiscuous = False

    def __init__(self, lan: Lan, ip: str = "10.0.0.1", mac: str = "00:0c:29:aa:bb:cc", name: str = "gateway"):
        self.lan = lan
        self.name = name
        self.mac = mac_bytes(mac)
        self.stack = IpStack(self.mac, ip_bytes(ip), self._send, self._now)
        self.seen: list[bytes] = []
        lan.attach(self)

    def _send(self, frame: bytes) -> None:
        self.lan.transmit(self, frame)

    def _now(self) -> int:
        return self.lan.timers.now

    def receive_frame(self, frame: bytes) -> None:
        self.seen.append(frame)
        if len(self.seen) > 1000:
            del self.seen[:500]
        self.stack.receive(frame)

    def ping(self, ip: str, size: int = 56):
        return self.stack.ping(ip, size)

    def __repr__(self) -> str:
        return f"<ExternalHost {self.name} {mac_str(self.mac)}>"
