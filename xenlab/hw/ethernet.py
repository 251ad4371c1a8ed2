"""Ethernet frames and the little of IPv4 a ping needs: ARP (RFC 826) and ICMP echo (RFC 792).

Frames are real bytes: destination MAC, source MAC, EtherType, payload. ``IpStack`` is the network
layer of one host (a guest kernel, or a host outside the machine): it answers ARP requests for its
address and ICMP echo requests, resolves addresses before sending, and completes a ``Ping`` when the
echo reply carries the same identifier, sequence and payload.

Simplifications:
- One subnet, no routing, no fragmentation, no IP options; ARP entries never expire.
- A frame waiting for ARP resolution is held (one per destination) and sent when the reply arrives.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_HLEN = 14
BROADCAST = b"\xff" * 6
ICMP_ECHOREPLY, ICMP_ECHO = 0, 8
XEN_OUI = b"\x00\x16\x3e"             # MAC prefix xend gives virtual interfaces


def mac_bytes(mac: str | bytes) -> bytes:
    if isinstance(mac, bytes):
        return mac
    parts = mac.split(":")
    if len(parts) != 6:
        raise ValueError(f"a MAC address is six hex bytes like 00:16:3e:01:02:03, got {mac!r}")
    return bytes(int(p, 16) for p in parts)


def mac_str(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


def ip_bytes(ip: str | bytes) -> bytes:
    if isinstance(ip, bytes):
        return ip
    return bytes(int(p) for p in ip.split("."))


def ip_str(ip: bytes) -> str:
    return ".".join(str(b) for b in ip)


def checksum(data: bytes) -> int:
    """The Internet checksum: one's complement of the one's-complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth_frame(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> bytes:
    frame = dst + src + struct.pack("!H", ethertype) + payload
    return frame.ljust(60, b"\0")         # minimum Ethernet frame without the FCS


def parse_eth(frame: bytes) -> tuple[bytes, bytes, int, bytes]:
    return frame[0:6], frame[6:12], struct.unpack("!H", frame[12:14])[0], frame[14:]


def arp_packet(op: int, sha: bytes, spa: bytes, tha: bytes, tpa: bytes) -> bytes:
    return struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, op) + sha + spa + tha + tpa


def ipv4_packet(src: bytes, dst: bytes, proto: int, payload: bytes, ident: int = 0, ttl: int = 64) -> bytes:
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, ttl, proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + payload


def icmp_echo(kind: int, ident: int, seq: int, payload: bytes) -> bytes:
    hdr = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
    return hdr[:2] + struct.pack("!H", checksum(hdr + payload)) + hdr[4:] + payload


def describe(frame: bytes) -> str:
    """One line, tcpdump style."""
    dst, src, et, p = parse_eth(frame)
    if et == ETH_P_ARP:
        op = struct.unpack("!H", p[6:8])[0]
        if op == 1:
            return f"ARP who-has {ip_str(p[24:28])} tell {ip_str(p[14:18])}"
        return f"ARP reply {ip_str(p[14:18])} is-at {mac_str(p[8:14])}"
    if et == ETH_P_IP and p[9] == 1:
        kind, _, _, ident, seq = struct.unpack("!BBHHH", p[20:28])
        name = {0: "echo reply", 8: "echo request"}.get(kind, f"icmp {kind}")
        return f"IP {ip_str(p[12:16])} > {ip_str(p[16:20])}: ICMP {name}, id {ident}, seq {seq}, length {len(p) - 28}"
    return f"{mac_str(src)} > {mac_str(dst)} ethertype {et:#06x}, length {len(frame)}"


@dataclass
class Ping:
    """One ICMP echo in flight."""
    dst: str
    ident: int
    seq: int
    payload: bytes
    sent_at: int
    deadline: int | None = None
    reply: bytes | None = None
    replied_at: int | None = None
    timed_out: bool = False

    @property
    def done(self) -> bool:
        return self.reply is not None or self.timed_out

    @property
    def ok(self) -> bool:
        return self.reply == self.payload

    @property
    def rtt_ns(self) -> int | None:
        return None if self.replied_at is None else self.replied_at - self.sent_at

    def timeout(self) -> None:
        self.timed_out = True

    def __repr__(self) -> str:
        if self.reply is not None:
            return f"<Ping {self.dst} seq {self.seq}: {len(self.reply)} bytes, rtt {self.rtt_ns / 1000:.1f} us>"
        return f"<Ping {self.dst} seq {self.seq}: {'timed out' if self.timed_out else 'waiting'}>"


@dataclass
class IpStack:
    """ARP and ICMP echo for one host; ``send(frame)`` is how it reaches its network card."""
    mac: bytes
    ip: bytes
    send: object                                    # callable(frame: bytes)
    clock: object                                   # callable() -> ns
    arp_cache: dict[bytes, bytes] = field(default_factory=dict)
    held: dict[bytes, bytes] = field(default_factory=dict)     # ip -> IP packet waiting for ARP
    pings: dict[tuple[int, int], Ping] = field(default_factory=dict)
    ident: int = 0x1234
    next_seq: int = 1
    counters: dict[str, int] = field(default_factory=dict)

    def _count(self, key: str) -> None:
        self.counters[key] = self.counters.get(key, 0) + 1

    def send_ip(self, dst: bytes, packet: bytes) -> None:
        mac = self.arp_cache.get(dst)
        if mac is None:
            self.held[dst] = packet
            self._count("arp_requests")
            self.send(eth_frame(BROADCAST, self.mac, ETH_P_ARP, arp_packet(1, self.mac, self.ip, b"\0" * 6, dst)))
            return
        self.send(eth_frame(mac, self.mac, ETH_P_IP, packet))

    def ping(self, dst: str, size: int = 56, timeout_ns: int | None = None) -> Ping:
        seq = self.next_seq
        self.next_seq = (seq + 1) & 0xFFFF
        payload = bytes((seq + i) & 0xFF for i in range(size))
        p = Ping(dst, self.ident, seq, payload, self.clock())
        if timeout_ns is not None:
            p.deadline = p.sent_at + timeout_ns
        self.pings[(self.ident, seq)] = p
        self._count("echo_requests_sent")
        self.send_ip(ip_bytes(dst), ipv4_packet(self.ip, ip_bytes(dst), 1,
                                                icmp_echo(ICMP_ECHO, self.ident, seq, payload), ident=seq))
        return p

    def receive(self, frame: bytes) -> None:
        dst, src, et, p = parse_eth(frame)
        if dst not in (self.mac, BROADCAST):
            return
        if et == ETH_P_ARP:
            self._arp(p)
        elif et == ETH_P_IP and p[9] == 1 and p[16:20] == self.ip:
            self._icmp(p)

    def _arp(self, p: bytes) -> None:
        op = struct.unpack("!H", p[6:8])[0]
        sha, spa, tpa = p[8:14], p[14:18], p[24:28]
        self.arp_cache[spa] = sha                  # learn the sender either way
        if op == 1 and tpa == self.ip:
            self._count("arp_replies_sent")
            self.send(eth_frame(sha, self.mac, ETH_P_ARP, arp_packet(2, self.mac, self.ip, sha, spa)))
        held = self.held.pop(spa, None)
        if held is not None:
            self.send(eth_frame(sha, self.mac, ETH_P_IP, held))

    def _icmp(self, p: bytes) -> None:
        ihl = (p[0] & 0xF) * 4
        total = struct.unpack("!H", p[2:4])[0]
        icmp = p[ihl:total]
        if checksum(icmp) != 0:
            self._count("bad_checksum")
            return
        kind, _, _, ident, seq = struct.unpack("!BBHHH", icmp[:8])
        data = icmp[8:]
        src = p[12:16]
        if kind == ICMP_ECHO:
            self._count("echo_replies_sent")
            self.send_ip(src, ipv4_packet(self.ip, src, 1, icmp_echo(ICMP_ECHOREPLY, ident, seq, data), ident=seq))
        elif kind == ICMP_ECHOREPLY:
            ping = self.pings.pop((ident, seq), None)
            if ping is not None and not ping.done:
                ping.reply, ping.replied_at = bytes(data), self.clock()
                self._count("echo_replies_received")
