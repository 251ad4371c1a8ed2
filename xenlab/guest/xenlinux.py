"""A paravirtualised guest kernel in the manner of XenLinux (linux-2.6-xen-sparse, Xen 3.0).

The kernel runs in ring 1 and reaches Xen only by hypercalls. At boot it binds VIRQ_TIMER (and, in
dom0, VIRQ_DOM_EXC), says hello on its console, and then runs its workload. Events arrive as an
upcall: the kernel clears ``evtchn_upcall_pending``, swaps out the selector word and scans each
selected word of ``evtchn_pending`` (skipping masked ports), as ``evtchn_do_upcall`` does.

Each vcpu executes its workload program through a :class:`VcpuContext`: a program counter and the
time left in the current computation, advanced by a per-vcpu "guest progress" timer.

Simplifications:
- No processes, no Linux scheduler inside the guest: the workload is the guest's only activity.
- Boot takes no simulated time; console output is one line per write.
"""
from __future__ import annotations

from xenlab.guest.cpu import CPU_OPS, hvm_cpu_op, pv_boot, pv_cpu_op
from xenlab.guest.dirty import dirty_op, flush_writes
from xenlab.guest.time import guest_system_time
from xenlab.guest.workload import Program, resolve
from xenlab.hw import idt, vmx
from xenlab.hw.clock import PRIO_GUEST
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.xen import (BITS_PER_LONG, CONSOLEIO_write, SCHEDOP_block, SCHEDOP_shutdown,
                                   SCHEDOP_yield, SHUTDOWN_NAMES, SI_EVTCHN_MASK, SI_EVTCHN_PENDING,
                                   VCPU_INFO_SIZE, VI_EVTCHN_PENDING_SEL, VIRQ_DOM_EXC, VIRQ_TIMER,
                                   sched_shutdown)

MAX_ZERO_TIME_OPS = 10_000


class VcpuContext:
    """The guest side of one vcpu: where it is in its program."""

    def __init__(self, kernel: "XenLinux", v, program: Program):
        self.kernel = kernel
        self.v = v
        self.program = program
        self.pc = 0
        self.remaining = None          # ns left in the current compute op, None when not computing
        self.run_start = 0
        self.loop_counts: dict[int, int] = {}
        self.sleep_deadline: int | None = None
        self.timer_fired = False
        self.marks: list[tuple[str, int]] = []      # ("release"/"done", time) for periodic workloads
        self.overhead_ns = 0           # time spent in Xen on our behalf (xen/costs.py), owed to the next compute
        machine = v.domain.machine
        self.progress = machine.timers.init_timer(f"{v.label}.guest", self._progress_fn, None,
                                                  v.processor, PRIO_GUEST)

    @property
    def machine(self):
        return self.v.domain.machine

    def __repr__(self) -> str:
        op = self.program.ops[self.pc] if self.pc < len(self.program.ops) else ("end",)
        return f"<VcpuContext {self.v.label} {self.program.name} pc={self.pc} {op}>"

    # -- called by the scheduler ----------------------------------------------------------------------
    def switch_in(self, now: int) -> None:
        self.run_start = now
        self.kernel.deliver_upcall(self.v)
        if not self.progress.active:
            self.advance()

    def switch_out(self, now: int) -> None:
        if self.progress.active:
            flush_writes(self, now)                  # the writes of this slice ("dirty" op, guest/dirty.py)
            self.machine.timers.stop_timer(self.progress)
            if self.remaining is not None:
                self.remaining = max(0, self.remaining - (now - self.run_start))

    def events_pending(self) -> None:
        if self.v.is_running:
            self.kernel.deliver_upcall(self.v)

    # -- execution -----------------------------------------------------------------------------------------
    def _progress_fn(self, _data) -> None:
        flush_writes(self, self.machine.now)
        self.remaining = None
        self.pc += 1
        self.advance()

    def advance(self) -> None:
        """Execute operations until one takes time, blocks, or ends the domain."""
        v, machine = self.v, self.machine
        for _ in range(MAX_ZERO_TIME_OPS):
            if not v.is_running or v.blocked or not v.runnable():
                return
            if getattr(v, "waiting_ioreq", False):             # HVM: the device model has not answered
                if vmx.vm_entry(v):                            # Xen's resume path keeps it waiting
                    return
            if self.pc >= len(self.program.ops):
                self.kernel.hypercall(v, "sched_op", SCHEDOP_shutdown, sched_shutdown(0))
                return
            op = self.program.ops[self.pc]
            kind = op[0]
            if kind == "compute":
                if self.remaining is None:
                    self.remaining = op[1]
                    if machine.costs.charge_time:              # crossings into Xen delay the work
                        self.remaining += self.overhead_ns
                    self.overhead_ns = 0
                self.run_start = machine.now
                self.progress.cpu = v.processor
                machine.timers.set_timer(self.progress, machine.now + self.remaining)
                return
            if kind == "sleep":
                if self.sleep_deadline is None:
                    self.sleep_deadline = machine.now + op[1]
                    self.kernel.hypercall(v, "set_timer_op", self.sleep_deadline)
                if machine.now >= self.sleep_deadline:
                    self.sleep_deadline = None
                    self.pc += 1
                    continue
                self.kernel.hypercall(v, "sched_op", SCHEDOP_block)
                continue
            self.pc += 1
            if kind == "block":
                self.kernel.hypercall(v, "sched_op", SCHEDOP_block)
            elif kind == "yield":
                self.kernel.hypercall(v, "sched_op", SCHEDOP_yield)
                return
            elif kind == "hypercall":
                self.kernel.hypercall(v, op[1], *op[2:])
            elif kind == "console":
                self.kernel.console_write(v, op[1])
            elif kind == "shutdown":
                reason = {n: c for c, n in SHUTDOWN_NAMES.items()}.get(op[1], op[1])
                self.kernel.hypercall(v, "sched_op", SCHEDOP_shutdown, sched_shutdown(reason))
                return
            elif kind == "mark":
                self.marks.append((op[1], machine.now))
                machine.trace.emit("SCHED", "mark", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, mark=op[1])
            elif kind == "loop":
                target, count = op[1], (op[2] if len(op) > 2 else None)
                done = self.loop_counts.get(self.pc - 1, 0)
                if count is None or done < count:
                    self.loop_counts[self.pc - 1] = done + 1
                    self.pc = target
                else:
                    self.loop_counts[self.pc - 1] = 0
            elif kind == "dirty":
                dirty_op(self, op)
            elif kind == "io":
                if self.kernel.do_io(v, op):      # finished at once (or already done): go on
                    continue
                return
            elif kind in CPU_OPS:
                self.kernel.cpu_op(v, op)
        self.kernel.panic(v, f"workload {self.program.name!r} ran {MAX_ZERO_TIME_OPS} operations without "
                             "taking any time")


class XenLinux:
    """The PV kernel of one domain."""
    kind = "pv"
    banner = "Linux version 2.6.16-xen (xenlab) #1 SMP"

    def __init__(self, d):
        self.d = d
        self.program = resolve(d.config.workload, d.config)
        self.port_handlers: dict[int, callable] = {}
        self.virq_ports: dict[int, int] = {}
        self.contexts = []
        self.upcalls = 0
        self.cpu_stats: dict[int, dict[str, int]] = {}     # vcpu -> {"syscall": n, "#PF": n, ...}
        for v in d.vcpus:
            v.guest = VcpuContext(self, v, self.program)
            self.contexts.append(v.guest)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} d{self.d.domain_id} workload={self.program.name}>"

    @property
    def p2m(self):
        """phys_to_machine_mapping: the kernel's P2M array in its own memory (guest/p2m.py)."""
        return self.mm.p2m

    def hypercall(self, v, name, *args) -> int:
        """``int $0x82`` on the CPU vcpu ``v`` runs on (hw/idt.py): the only way into Xen."""
        return idt.hypercall(v, name, *args)

    # -- boot ----------------------------------------------------------------------------------------------
    def boot(self) -> None:
        """start_kernel(): page tables through Xen, trap table and callbacks, timer VIRQs, hello."""
        from xenlab.guest.mm import GuestMM
        self.mm = GuestMM(self.d)
        self.mm.boot()
        pv_boot(self)
        for v in self.d.vcpus:
            bind = ev.evtchn_bind_virq(virq=VIRQ_TIMER, vcpu=v.vcpu_id)
            if self.hypercall(v, "event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_virq, bind)) == 0:
                self.port_handlers[bind.port] = self._timer_interrupt
                self.virq_ports[(VIRQ_TIMER, v.vcpu_id)] = bind.port
        if self.d.is_privileged:
            bind = ev.evtchn_bind_virq(virq=VIRQ_DOM_EXC, vcpu=0)
            if self.hypercall(self.d.vcpus[0], "event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_virq, bind)) == 0:
                self.port_handlers[bind.port] = lambda v, port: None   # xend looks at the domains itself
        self.console_write(self.d.vcpus[0], self.banner)
        self.console_write(self.d.vcpus[0], f"Kernel command line: {self.d.config.cmdline}")
        self._xenbus_init()

    def _xenbus_init(self) -> None:
        """xenbus: watch control/shutdown in our XenStore home; the store channel brings the events."""
        xs = getattr(self.d, "xs", None)
        port = getattr(self.d, "store_port", 0)
        if xs is None or not port:
            return
        self.port_handlers[port] = self._xenbus_event
        self.xenbus_watch("control/shutdown", "shutdown", self._on_shutdown_watch)
        if not self.d.is_privileged:              # xenbus_probe_frontend: watch "device", probe what appears
            from xenlab.guest.blkfront import BlkfrontDriver
            from xenlab.guest.netfront import NetfrontDriver
            from xenlab.guest.xenbus import XenbusProbe
            self.xenbus_frontend = XenbusProbe(self, "device", {"vbd": BlkfrontDriver(), "vif": NetfrontDriver()},
                                               depth=2, who="frontend", otherend_key="backend").start()

    def xenbus_watch(self, path: str, token: str, handler) -> None:
        """register_xenbus_watch(): ``handler(v, path)`` runs when the watch fires (a bound method or
        functools.partial, so snapshots copy cleanly)."""
        self.xenbus_handlers = getattr(self, "xenbus_handlers", {})
        self.xenbus_handlers[token] = handler
        self.d.xs.watch(path, token)

    def _xenbus_event(self, v, port: int) -> None:
        """xenwatch: deliver each queued watch event to the handler registered for its token."""
        for path, token in self.d.xs.pop_events():
            handler = getattr(self, "xenbus_handlers", {}).get(token)
            if handler is not None:
                handler(v, path)

    def _on_shutdown_watch(self, v, path: str) -> None:
        self._shutdown_handler(v)

    def _shutdown_handler(self, v) -> None:
        """drivers/xen/core/reboot.c: read control/shutdown, clear it, and act."""
        value = self.d.xs.read("control/shutdown")
        if not isinstance(value, str) or not value:
            return
        reasons = {"poweroff": 0, "halt": 0, "reboot": 1, "suspend": 2, "crash": 3}
        if value not in reasons:
            self.console_write(v, f"Ignoring shutdown request: {value}")
            return
        self.d.xs.write("control/shutdown", "")
        if value == "suspend":                    # reboot.c: __do_suspend, not a plain shutdown
            from xenlab.guest.suspend import request_suspend
            request_suspend(self)
            return
        self.request_shutdown(reasons[value])

    # -- the guest-level memory API notebooks use (guest/mm.py does the work) ---------------------------
    def map_page(self, va: int, pfn: int, writable: bool = True, user: bool = True) -> int:
        return self.mm.map_page(va, pfn, writable=writable, user=user)

    def unmap_page(self, va: int) -> None:
        self.mm.unmap_page(va)

    def translate(self, va: int, access: str = "r", user: bool = False) -> int:
        return self.mm.translate(va, access, user)

    def new_process(self, pages: int = 0, base: int | None = None, writable: bool = True, shared=()):
        """A new address space (guest/process.py): built in batches through Xen, pinned, not yet running."""
        return self.mm.new_process(pages, base, writable, shared)

    def _timer_interrupt(self, v, port: int) -> None:
        v.guest.timer_fired = True

    # -- CPU: system calls, faults, privileged operations, time (guest/cpu.py) ---------------------------------
    def cpu_op(self, v, op) -> None:
        pv_cpu_op(self, v, op)

    # Exercise 08's sandbox: (tsc, system_time, tsc_timestamp, mul, shift) -> ns replacing the
    # formula of get_nsec_offset for this kernel only (None: the formula; see guest_system_time).
    system_time_fn = None

    def get_system_time(self, v) -> int:
        return guest_system_time(v)

    # -- events ----------------------------------------------------------------------------------------------
    def deliver_upcall(self, v) -> None:
        """evtchn_do_upcall(): called on return to the guest when an upcall is pending and unmasked.

        Xen enters the event callback with events masked (bounce frame); the kernel clears
        upcall_pending, scans, runs the handlers, and unmasks on its way out, looking again in case
        more events arrived meanwhile (entry-xen.S restore path).
        """
        mem = self.d.machine.memory
        base = self.d.shared_info_mfn << 12
        vi = base + v.vcpu_id * VCPU_INFO_SIZE
        for _ in range(64):
            if not mem.read_u8(vi) or mem.read_u8(vi + 1):
                return
            self._enter_event_callback(v)                            # upcall_mask = 1
            self._scan_and_dispatch(v, mem, base, vi)
            mem.write_u8(vi + 1, 0)                                   # restore the saved mask (0)

    def _enter_event_callback(self, v) -> None:
        idt.event_upcall(v)                       # Xen's exit path bounces us into the callback

    def _scan_and_dispatch(self, v, mem, base: int, vi: int) -> None:
        self.upcalls += 1
        mem.write_u8(vi, 0)                                       # clear upcall_pending first
        sel = mem.read_u32(vi + VI_EVTCHN_PENDING_SEL)
        mem.write_u32(vi + VI_EVTCHN_PENDING_SEL, 0)              # xchg(&pending_sel, 0)
        ports = []
        while sel:
            word = (sel & -sel).bit_length() - 1
            sel &= sel - 1
            pend_addr = base + SI_EVTCHN_PENDING + 4 * word
            pending = mem.read_u32(pend_addr) & ~mem.read_u32(base + SI_EVTCHN_MASK + 4 * word)
            while pending:
                bit = (pending & -pending).bit_length() - 1
                pending &= pending - 1
                mem.write_u32(pend_addr, mem.read_u32(pend_addr) & ~(1 << bit) & 0xFFFFFFFF)
                ports.append(word * BITS_PER_LONG + bit)
        if self.d.machine.trace.active:
            self.d.machine.trace.emit("EVTCHN", "upcall", domid=self.d.domain_id, vcpu=v.vcpu_id,
                                      pcpu=v.processor, ports=ports)
        for port in ports:
            handler = self.port_handlers.get(port)
            if handler is not None:
                handler(v, port)

    # -- console -------------------------------------------------------------------------------------------------
    def console_write(self, v, text: str) -> None:
        """dom0 writes to Xen's console with console_io; a domU writes to its console ring page."""
        line = text + "\n"
        if self.d.is_privileged:
            self.hypercall(v, "console_io", CONSOLEIO_write, len(line), line)
        else:
            from xenlab.guest.console import xencons_write
            xencons_write(self, v, line)

    def request_shutdown(self, reason: int) -> None:
        """The guest's control/shutdown handler: xend asked it to power off or reboot."""
        self.console_write(self.d.vcpus[0], f"Received request to {SHUTDOWN_NAMES.get(reason, reason)}")
        self.hypercall(self.d.vcpus[0], "sched_op", SCHEDOP_shutdown, sched_shutdown(reason))

    def panic(self, v, why: str) -> None:
        self.console_write(v, f"Kernel panic - not syncing: {why}")
        self.hypercall(v, "sched_op", SCHEDOP_shutdown, sched_shutdown(3))

    def do_io(self, v, op) -> bool:
        """An ("io", ...) workload op: start it, or wait for it; True once it has finished."""
        from xenlab.guest.io import do_io
        return do_io(self, v, op)

    # -- the kernel's page allocator (frames for rings, I/O buffers, packets) -------------------------------
    def alloc_page(self) -> int:
        """A free pfn for a driver buffer (from the page-table code's free list when there is one)."""
        from xenlab.guest.pages import take_page
        return take_page(self)

    def free_page(self, pfn: int) -> None:
        from xenlab.guest.pages import put_page
        put_page(self, pfn)


class HVMGuest(XenLinux):
    """An unmodified kernel on hardware-assisted virtualisation: it does not know it runs on Xen.

    It makes no hypercalls of its own at boot; its timer and console are emulated devices (the CPU
    chapter adds VM exits for them).
    """
    kind = "hvm"
    banner = "Linux version 2.6.16 (unmodified, HVM) #1 SMP"

    def boot(self) -> None:
        # The virtual platform timer is bound by Xen's HVM code (hvm_domain_init), not by the guest:
        # to this kernel it is just the timer interrupt; so is the ioreq channel's completion.
        for port in self.d.hvm.timer_ports:
            if port:
                self.port_handlers[port] = self._timer_interrupt
        for port in self.d.hvm.ports:
            self.port_handlers[port] = self._ioreq_done
        self.d.console_output.append(self.banner)

    def _ioreq_done(self, v, port: int) -> None:
        vmx.io_assist(v)                          # Xen completes the I/O qemu-dm answered

    def _enter_event_callback(self, v) -> None:
        """No upcall into an unmodified kernel: Xen consumes these events itself (interrupt injection)."""
        self.d.machine.memory.write_u8((self.d.shared_info_mfn << 12) + v.vcpu_id * VCPU_INFO_SIZE + 1, 1)

    def cpu_op(self, v, op) -> None:
        hvm_cpu_op(self, v, op)

    def console_write(self, v, text: str) -> None:
        self.d.console_output.append(text)
