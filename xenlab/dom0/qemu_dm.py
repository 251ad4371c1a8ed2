"""The device model: qemu-dm in dom0 emulating an HVM guest's PC devices (tools/ioemu in Xen 3.0).

For each HVM domain xend starts one qemu-dm process in dom0 (``device_model`` in the config). It binds
to the domain's per-vcpu ioreq event channels; when Xen forwards a port access (a VM exit with reason
IO_INSTRUCTION), dom0 gets an event, qemu-dm reads the ioreq, emulates the device, writes the answer,
marks it STATE_IORESP_READY and notifies back, and the guest vcpu resumes.

Devices: a 16550 UART at 0x3f8 (what the guest writes appears on its console), the CMOS RTC at
0x70/0x71 (read from the domain's wall-clock time, in BCD), and the POST port 0x80. Anything else
reads as 0xff and ignores writes, like an empty ISA bus.

qemu-dm sees Xen only as a dom0 process does: it binds each ioreq channel with
``EVTCHNOP_bind_interdomain`` and notifies with ``EVTCHNOP_send`` (hypercalls from dom0, through
/dev/xen/evtchn in reality), reads and writes the shared ioreq page (public/hvm/ioreq.h), and reads
the time from dom0's shared_info.

Simplifications:
- No PCI, IDE, VGA, keyboard or network card; one byte per access.
- qemu-dm runs inside dom0's event handler instead of as a process scheduled by dom0's kernel.
- The ioreq page is the list ``d.hvm.ioreqs`` of ioreq records (mapped by reference, not as bytes).
"""
from __future__ import annotations

from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.hvm.ioreq import IOREQ_READ, STATE_IOREQ_INPROCESS, STATE_IOREQ_READY, STATE_IORESP_READY
from xenlab.xen.public.shared import read_wallclock

NSEC_PER_SEC = 1_000_000_000

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
        for gport in d.hvm.ports:
            # bind_interdomain from dom0 (what qemu-dm asks of /dev/xen/evtchn): Xen left each ioreq
            # port unbound for dom0.
            bind = ev.evtchn_bind_interdomain(remote_dom=d.domain_id, remote_port=gport)
            rc = dom0.kernel.hypercall(dom0.vcpus[0], "event_channel_op",
                                       ev.evtchn_op(ev.EVTCHNOP_bind_interdomain, bind))
            if rc != 0:
                raise RuntimeError(f"qemu-dm: cannot bind d{d.domain_id}'s ioreq port {gport}: {rc}")
            self.dom0_ports.append(bind.local_port)
            dom0.kernel.port_handlers[bind.local_port] = self.on_event

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
        v0.domain.kernel.hypercall(v0, "event_channel_op", ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(port)))

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
        """RTC registers 0 (seconds), 2 (minutes), 4 (hours) from dom0's wall-clock, in BCD."""
        _, wc_sec, wc_nsec = read_wallclock(self.machine.dom0)
        secs = wc_sec + (wc_nsec + self.machine.now) // NSEC_PER_SEC
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
