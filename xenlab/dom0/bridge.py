"""The Linux bridge in dom0 (xenbr0): it switches Ethernet frames between the guests' interfaces
(vif<domid>.<devid>, served by netback) and the physical card (peth0), so that guests are hosts on
the LAN (tools/examples/network-bridge, Xen 3.0).

A learning switch: it remembers on which port each source MAC was seen; a frame for a known MAC goes
out of that port only, a broadcast or unknown destination is flooded to every other port.

Simplifications:
- No STP, no ageing of the MAC table, no VLANs; forwarding takes ``FORWARD_NS`` per frame (a timer),
  so a frame never crosses the machine in zero simulated time.
"""
from __future__ import annotations

import functools

from xenlab.hw.ethernet import BROADCAST, describe, mac_str, parse_eth
from xenlab.hw.clock import PRIO_DEFAULT

FORWARD_NS = 2_000


class Bridge:
    def __init__(self, machine, name: str = "xenbr0"):
        self.machine = machine
        self.name = name
        self.ports: dict[str, object] = {}       # name -> port (has .deliver(frame))
        self.fdb: dict[bytes, str] = {}          # forwarding database: MAC -> port name
        self.forwarded = 0
        self.flooded = 0

    def add_port(self, name: str, port) -> None:
        self.ports[name] = port

    def del_port(self, name: str) -> None:
        self.ports.pop(name, None)
        self.fdb = {mac: p for mac, p in self.fdb.items() if p != name}

    def receive(self, in_port: str, frame: bytes) -> None:
        """A frame entered through ``in_port``: learn its source, forward it after FORWARD_NS."""
        t = self.machine.timers
        timer = t.init_timer("bridge", functools.partial(self._forward, in_port, frame), None, 0, PRIO_DEFAULT)
        t.set_timer(timer, t.now + FORWARD_NS)

    def _forward(self, in_port: str, frame: bytes, _data) -> None:
        dst, src, _, _ = parse_eth(frame)
        self.fdb[src] = in_port
        out = self.fdb.get(dst) if dst != BROADCAST else None
        if out is not None:
            targets = [out] if out != in_port and out in self.ports else []
            self.forwarded += 1
        else:
            targets = [p for p in self.ports if p != in_port]
            self.flooded += 1
        trace = self.machine.trace
        if trace.active:
            trace.emit("IO", "bridge_forward", bridge=self.name, in_port=in_port, out_ports=targets,
                       src=mac_str(src), dst=mac_str(dst), what=describe(frame), length=len(frame))
        for name in targets:
            self.ports[name].deliver(frame)

    def show_macs(self) -> str:
        """Like ``brctl showmacs xenbr0``."""
        lines = ["port name     mac addr"]
        for mac, port in sorted(self.fdb.items()):
            lines.append(f"{port:<12} {mac_str(mac)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Bridge {self.name} ports {list(self.ports)}, {len(self.fdb)} MACs learnt>"


class NicPort:
    """peth0 as a bridge port: frames out go onto the LAN."""

    def __init__(self, nic):
        self.nic = nic

    def deliver(self, frame: bytes) -> None:
        self.nic.transmit(frame)
