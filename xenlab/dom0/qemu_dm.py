"""The device model: qemu-dm in dom0 emulating an HVM guest's PC devices (tools/ioemu in Xen 3.0).

For each HVM domain xend starts one qemu-dm process in dom0 (``device_model`` in the config). It binds
to the domain's per-vcpu ioreq event channels; when Xen forwards a port access (a VM exit with reason
IO_INSTRUCTION), dom0 gets an event, qemu-dm reads the ioreq, emulates the device, writes the answer,
marks it STATE_IORESP_READY and notifies back, and the guest vcpu resumes.

Devices: a 16550 UART at 0x3f8 (what the guest writes appears on its console), the CMOS RTC at
0x70/0x71 (read from the domain's wall-clock time, in BCD), and the POST port 0x80. Anything else
reads as 0xff and ignores writes, like an empty ISA bus.

Simplifications:
- No PCI, IDE, VGA, keyboard or network card; one byte per access.
- qemu-dm runs inside dom0's event handler instead of as a process scheduled by dom0's kernel.
"""
from __future__ import annotations

from xenlab.xen.evtchn import ECS_INTERDOMAIN, ECS_UNBOUND, get_free_port
from xenlab.xen.event import evtchn_set_pending
from xenlab.xen.hvm import IOREQ_READ, STATE_IOREQ_INPROCESS, STATE_IOREQ_READY, STATE_IORESP_READY

COM1 = 0x3F8
UART_LSR = COM1 + 5
LSR_THRE_TEMT = 0x60            # transmitter empty: the guest may write the next byte
CMOS_INDEX, CMOS_DATA = 0x70, 0x71
POST_PORT = 0x80


def _bcd(n: int) -> int:
    return ((n // 10) << 4) | (n % 10)


class QemuDM:
    """One device model for one HVM domain."""

    def __init__(self, machine, d):
        self.machine = machine
        self.d = d
        self.dom0_ports: list[int] = []
        self.cmos_index = 0
        self.serial_line = ""
        self.post_codes: list[int] = []
        self.handled = 0
        self.log: list[tuple[int, str, int, int]] = []     # (time, dir, port, data)
        dom0 = machine.dom0
        for v, gport in zip(d.vcpus, d.hvm.ports):
            # bind_interdomain on behalf of qemu-dm (the privcmd/evtchn device in dom0).
            lport = get_free_port(dom0)
            lchn, gchn = dom0.evtchn[lport], d.evtchn[gport]
            assert gchn.state == ECS_UNBOUND and gchn.remote_domid == 0
            lchn.state, lchn.remote_domid, lchn.remote_port = ECS_INTERDOMAIN, d.domain_id, gport
            gchn.state, gchn.remote_domid, gchn.remote_port = ECS_INTERDOMAIN, 0, lport
            self.dom0_ports.append(lport)
            if dom0.kernel is not None:
                dom0.kernel.port_handlers[lport] = self.on_event

    def __repr__(self) -> str:
        return f"<qemu-dm for d{self.d.domain_id}: {self.handled} ioreqs, dom0 ports {self.dom0_ports}>"

    def on_event(self, v0, port: int) -> None:
        """dom0 took the event: serve the vcpu's ioreq and notify it back."""
        if self.d.domain_id not in self.machine.domains:
            return
        i = self.dom0_ports.index(port)
        req = self.d.hvm.ioreqs[i]
        if req.state != STATE_IOREQ_READY:
            return
        req.state = STATE_IOREQ_INPROCESS
        if req.dir == IOREQ_READ:
            req.data = self.read(req.addr)
        else:
            self.write(req.addr, req.data)
        self.handled += 1
        self.log.append((self.machine.now, "in" if req.dir == IOREQ_READ else "out", req.addr, req.data))
        self.machine.trace.emit("IO", "qemu_dm", domid=0, port=req.addr, target=self.d.domain_id,
                                dir="in" if req.dir == IOREQ_READ else "out", data=req.data)
        req.state = STATE_IORESP_READY
        v = self.d.vcpus[i]
        evtchn_set_pending(v, req.vp_eport)

    # -- devices ---------------------------------------------------------------------------------------
    def read(self, port: int) -> int:
        if port == UART_LSR:
            return LSR_THRE_TEMT
        if port == CMOS_DATA:
            return self._cmos(self.cmos_index)
        return 0xFF

    def write(self, port: int, value: int) -> None:
        if port == COM1:
            ch = chr(value & 0xFF)
            if ch == "\n":
                self.d.console_output.append(self.serial_line)
                self.serial_line = ""
            else:
                self.serial_line += ch
        elif port == CMOS_INDEX:
            self.cmos_index = value & 0x7F
        elif port == POST_PORT:
            self.post_codes.append(value & 0xFF)

    def _cmos(self, index: int) -> int:
        """RTC registers 0 (seconds), 2 (minutes), 4 (hours) from the wall-clock, in BCD."""
        from xenlab.xen.time import NSEC_PER_SEC
        t = self.machine.time
        secs = t.wc_sec + (t.wc_nsec + self.machine.now) // NSEC_PER_SEC
        day = secs % 86400
        return {0: _bcd(day % 60), 2: _bcd(day // 60 % 60), 4: _bcd(day // 3600)}.get(index, 0)


def spawn(machine, d) -> QemuDM:
    """What xend does for ``device_model = '/usr/lib/xen/bin/qemu-dm'``: start one for the domain."""
    dms = getattr(machine, "device_models", None)
    if dms is None:
        dms = machine.device_models = {}
    dm = dms[d.domain_id] = QemuDM(machine, d)
    machine.trace.emit("IO", "qemu_dm_start", domid=0, target=d.domain_id, ports=tuple(dm.dom0_ports))
    return dm
