"""One physical host running Xen: hardware, hypervisor, domains, a virtual clock, a seeded RNG.

``Machine(...)`` boots Xen (__start_xen in X@RELEASE-3.0.0:xen/arch/x86/setup.c): it sets up the
frame table and the heap, the timers and the chosen scheduler (``sched=``), and builds Domain-0.
``step()`` performs one meaningful step (pending softirqs, or the next timer expiry with the
softirq work it raises) and returns a record of it; ``run(until=ns)`` is built on ``step()``.
Everything is deterministic for a given seed.
"""
from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass

import numpy as np

from xenlab.hw.cpu import PhysicalCPU
from xenlab.hw.memory import PAGE_SHIFT, MachineMemory
from xenlab.xen import schedule as S
from xenlab.xen.domain import Domain, RUNSTATE_offline, Vcpu, domain_relinquish_resources, maybe_destruct
from xenlab.toolstack.domain_config import DomainConfig, DomainCreateError
from xenlab.xen.domain_build import M2P_INVALID, build_domain, populate_physmap, share_xen_page_with_guest
from xenlab.xen.event import send_guest_global_virq
from xenlab.xen.evtchn import evtchn_destroy, evtchn_init
from xenlab.xen.page_alloc import FrameTable, OutOfMemory
from xenlab.xen.public.xen import SHUTDOWN_NAMES, VIRQ_DOM_EXC
from xenlab.xen.sched import get_scheduler
from xenlab.xen.setup import install_gates
from xenlab.xen.timer import (NR_SOFTIRQS, PRIO_GUEST, PRIO_SCHED, PRIO_TICK, SCHEDULE_SOFTIRQ,
                              SOFTIRQ_NAMES, TimerQueue)
from xenlab.xen.trace import TraceBus

import xenlab.xen  # noqa: F401  (registers every hypercall handler)

MILLISECS = 1_000_000
HYPERVISOR_VIRT_START = {"2level": 0xFC000000, "pae": 0xF5800000}
XEN_RESERVED_MB = 2          # Xen's text, heap, frame table and M2P at the bottom of memory


@dataclass(frozen=True)
class StepRecord:
    """What one ``Machine.step()`` did."""
    time: int                 # ns, after the step
    kind: str                 # "softirq" or "timer"
    name: str                 # the timer's name, or the softirqs run
    cpu: int | None
    switches: int             # context switches this step caused

    def __repr__(self) -> str:
        cpu = "" if self.cpu is None else f" cpu{self.cpu}"
        return f"<step {self.time / 1e6:.3f}ms {self.kind} {self.name}{cpu}, {self.switches} switches>"


class Machine:
    def __init__(self, cpus: int = 1, memory_mb: int = 256, sched: str = "credit", seed: int = 0,
                 hvm: bool = False, paging: str = "2level", tsc_mhz: int = 2000,
                 dom0_mem_mb: int | None = None, verbose: bool = False,
                 boot_wallclock: tuple[int, int] | None = None):
        if not isinstance(cpus, int) or not 1 <= cpus <= 64:
            raise ValueError(f"cpus must be 1..64, got {cpus!r}")
        if not isinstance(memory_mb, int) or memory_mb < 16:
            raise ValueError(f"memory_mb must be a whole number >= 16, got {memory_mb!r}")
        if paging not in HYPERVISOR_VIRT_START:
            raise ValueError(f"paging must be '2level' or 'pae', got {paging!r}")
        if paging == "2level" and memory_mb > 4096:
            raise ValueError(f"memory_mb={memory_mb}: without PAE, x86_32 addresses at most 4096 MiB; "
                             "use paging='pae'")
        self.seed = seed
        self.hvm = bool(hvm)
        self.paging = paging
        self.verbose = verbose
        self.hypervisor_virt_start = HYPERVISOR_VIRT_START[paging]
        self.rng = np.random.default_rng(seed)
        self.timers = TimerQueue()
        self.trace = TraceBus(self._clock)
        self.stats: dict[str, int] = {}
        self.console_ring: list[str] = []
        self.on_domain_create: list = []
        self.on_domain_destroy: list = []
        self.on_domain_shutdown: list = []

        # Hardware.
        nr_frames = memory_mb << (20 - PAGE_SHIFT)
        self.memory = MachineMemory(nr_frames)
        self.cpus = [PhysicalCPU(i, tsc_hz=tsc_mhz * 1_000_000, hvm_capable=self.hvm,
                                 tsc_offset=int(self.child_rng(f"tsc{i}").integers(0, 1 << 32)))
                     for i in range(cpus)]
        install_gates(self)                  # trap_init (and start_vmx): Xen programs the CPUs' gates
        self.frame_table = FrameTable(nr_frames, self.child_rng("heap"), (XEN_RESERVED_MB << 20) >> PAGE_SHIFT)
        self.m2p = np.full(nr_frames, M2P_INVALID, dtype=np.uint32)
        self.xen_heap_frames: set[int] = set()
        self.nr_event_channels = 1024

        # Scheduling.
        self.domains: dict[int, Domain] = {}
        self._next_domid = 1
        for pcpu in self.cpus:
            idle = Vcpu(None, pcpu.id, pcpu.id)
            idle.is_running = True
            pcpu.idle = pcpu.curr = idle
        self.s_timers = [self.timers.init_timer(f"s_timer{c}", self._s_timer, c, c, PRIO_SCHED)
                         for c in range(cpus)]
        self.periodic_period_ns = 10 * MILLISECS
        self.periodic_timers = [self.timers.init_timer(f"virq_timer{c}", self._periodic, c, c, PRIO_TICK)
                                for c in range(cpus)]
        self.scheduler = get_scheduler(sched)(self)
        self.sched_name = sched
        if self.scheduler.tick_period_ns:
            self.sched_ticks = [self.timers.init_timer(f"sched_tick{c}", self._sched_tick, c, c, PRIO_TICK)
                                for c in range(cpus)]
            for t in self.sched_ticks:
                self.timers.set_timer(t, self.scheduler.tick_period_ns)

        from xenlab.xen.console import printk
        printk(self, f"(XEN) Xen version 3.0.0-xenlab (xenlab model) seed {seed}")
        printk(self, f"(XEN) System RAM: {memory_mb}MB ({nr_frames << 2}kB), {cpus} CPU(s) @ {tsc_mhz}MHz")
        printk(self, f"(XEN) {'HVM: hardware virtualisation (VMX/SVM) available' if self.hvm else 'HVM: no hardware virtualisation support'}")
        printk(self, f"(XEN) Using scheduler: {self.scheduler.name} ({sched})")
        # Time (xen/time.py: per-CPU stamps, wall-clock; boot_wallclock=(sec, nsec), default 2005-12-05)
        # and the cost model of crossings into Xen (xen/costs.py).
        from xenlab.xen.costs import CostModel
        from xenlab.xen.time import time_init
        self.costs = CostModel()
        time_init(self, boot_wallclock)
        # Domain-0.
        if dom0_mem_mb is None:
            dom0_mem_mb = max(16, min(128, memory_mb // 4))
        self._build_dom0(dom0_mem_mb)
        self.do_softirqs()

    # -- time -------------------------------------------------------------------------------------------
    def _clock(self) -> int:
        return self.timers.now

    @property
    def now(self) -> int:
        """System time: ns since boot (Xen's NOW())."""
        return self.timers.now

    def NOW(self) -> int:  # noqa: N802 - Xen's name
        return self.timers.now

    def child_rng(self, name: str) -> np.random.Generator:
        """A generator derived from the machine seed and a stable name (no global random state)."""
        return np.random.default_rng([self.seed & 0xFFFFFFFF, zlib.crc32(name.encode())])

    # -- softirqs and steps --------------------------------------------------------------------------------
    def raise_schedule(self, cpu: int) -> None:
        self.cpus[cpu].softirq_pending |= 1 << SCHEDULE_SOFTIRQ

    def _softirqs_pending(self) -> bool:
        return any(c.softirq_pending for c in self.cpus)

    def do_softirqs(self) -> int:
        """Run pending softirqs on every CPU until none is left; returns the number of switches."""
        switches = 0
        for _ in range(10_000):
            if not self._softirqs_pending():
                return switches
            for pcpu in self.cpus:
                pending, pcpu.softirq_pending = pcpu.softirq_pending, 0
                for nr in range(NR_SOFTIRQS):
                    if pending & (1 << nr) and nr == SCHEDULE_SOFTIRQ:
                        prev, nxt = S.schedule(self, pcpu.id)
                        switches += prev is not nxt
                    elif pending & (1 << nr):
                        raise AssertionError(f"softirq {SOFTIRQ_NAMES[nr]} has no handler in the model")
        raise AssertionError("softirqs keep re-raising each other (a scheduler that never settles?)")

    def step(self, until: int | None = None) -> StepRecord | None:
        """One step: pending softirqs, or else the next timer (if due by ``until``). None when idle."""
        if self._softirqs_pending():
            switches = self.do_softirqs()
            return StepRecord(self.now, "softirq", "SCHEDULE", None, switches)
        timer = self.timers.pop_due(until)
        if timer is None:
            return None
        timer.function(timer.data)
        switches = self.do_softirqs()
        return StepRecord(self.now, "timer", timer.name, timer.cpu, switches)

    def run(self, until: int) -> int:
        """Run until system time ``until`` (ns); returns the number of steps."""
        if until < self.now:
            raise ValueError(f"run(until={until}) is in the past (now={self.now} ns)")
        steps = 0
        while self.step(until) is not None:
            steps += 1
        self.timers.now = until
        return steps

    def run_for(self, ns: int) -> int:
        return self.run(self.now + int(ns))

    def _s_timer(self, cpu: int) -> None:
        S.s_timer_fn(self, cpu)

    def _periodic(self, cpu: int) -> None:
        S.periodic_timer_fn(self, cpu)

    def _sched_tick(self, cpu: int) -> None:
        self.timers.set_timer(self.sched_ticks[cpu], self.now + self.scheduler.tick_period_ns)
        self.scheduler.tick(cpu)

    # -- accounting hooks -------------------------------------------------------------------------------------
    def vcpu_cpu_time(self, v) -> int:
        return S.vcpu_cpu_time(v, self.now)

    def charge_hypercall(self, current) -> None:
        """Cost model hook: charge one hypercall's cycles to ``current`` (xen/costs.py)."""
        from xenlab.xen.costs import charge
        charge(current, "hypercall")

    # -- domains -----------------------------------------------------------------------------------------------
    @property
    def dom0(self) -> Domain:
        return self.domains[0]

    def domain_by_name(self, name: str) -> Domain | None:
        return next((d for d in self.domains.values() if d.name == name), None)

    def raise_irq(self, pirq: int) -> None:
        """A device raises its interrupt line: Xen's do_IRQ hands it to the domain that bound the
        pirq (send_guest_pirq). The wiring between the hardware and Xen, not the toolstack's."""
        from xenlab.xen.evtchn import send_guest_pirq
        send_guest_pirq(self.dom0, pirq)

    def domain_record(self, domid: int) -> Domain | None:
        """xend's record of a domain (XendDomainInfo: its name, config, kernel, console and store pages).

        The model keeps xend's fields on the Domain object; the toolstack uses this for those fields
        only and reaches Xen's own state (memory, page tables, vcpus) by hypercall."""
        return self.domains.get(domid)

    def domain_create_empty(self, domid: int | None = None, config: DomainConfig | None = None,
                            privileged: bool = False) -> Domain:
        """domain_create(): an empty, paused domain with its shared_info page and event channels."""
        if domid is None:
            domid = self._next_domid
            while domid in self.domains:
                domid += 1
            self._next_domid = domid + 1
        config = config or DomainConfig(name=f"Domain-{domid}")
        d = Domain(self, domid, config, privileged)
        d.pause_count = 1                                  # created paused (ctrl_pause)
        d.shared_info_mfn = share_xen_page_with_guest(self, d)
        evtchn_init(d)
        self.domains[domid] = d
        for hook in self.on_domain_create:
            hook(d)
        self.trace.emit("DOM", "create", domid=domid, name=d.name)
        return d

    def alloc_vcpus(self, d: Domain, n: int) -> None:
        for i in range(n):
            v = Vcpu(d, i, 0)
            v.state_entry_time = self.now
            v.runstate = RUNSTATE_offline
            v.down = i != 0                   # alloc_vcpu: every vcpu but 0 starts down (_VCPUF_down)
            v.singleshot_timer = self.timers.init_timer(f"d{d.domain_id}v{i}.timer", S.singleshot_timer_fn,
                                                        v, 0, PRIO_GUEST)
            d.vcpus.append(v)
            v.sched_priv = self.scheduler.alloc_vdata(v)
            self.scheduler.insert_vcpu(v)

    def _build_dom0(self, mem_mb: int) -> None:
        cfg = DomainConfig(name="Domain-0", memory=mem_mb, vcpus=len(self.cpus), workload="idle",
                           kernel="/boot/vmlinuz-2.6.16-xen0")
        d = self.domain_create_empty(0, cfg, privileged=True)
        nr_pages = mem_mb << (20 - PAGE_SHIFT)
        d.max_pages = nr_pages
        self.alloc_vcpus(d, cfg.vcpus)
        build_domain(self, d, nr_pages)
        d.max_pages = 0xFFFFFFFF              # construct_dom0: d->max_pages = ~0U (no limit)
        self._attach_kernel(d)
        self.domain_unpause_by_systemcontroller(d)
        from xenlab.toolstack.xend import Xend
        self.xend = Xend(self)

    def _attach_kernel(self, d: Domain) -> None:
        from xenlab.guest import make_kernel
        if d.kind == "hvm":
            from xenlab.xen.hvm import hvm_domain_init
            hvm_domain_init(d)            # Xen's HVM set-up: virtual timer, ioreq slots and channels
        else:
            from xenlab.xen.domain_build import build_bootstrap
            build_bootstrap(self, d)      # the P2M array and bootstrap tables the kernel starts from
        d.kernel = make_kernel(d)
        d.kernel.boot()
        if d.kind == "hvm":
            from xenlab.dom0.qemu_dm import spawn
            spawn(self, d)                # xend (image.py) starts the domain's qemu-dm in dom0

    def create_domain(self, config: DomainConfig) -> Domain:
        """What ``xm create`` does, through dom0's privileged hypercalls; returns the running domain."""
        from xenlab.toolstack.xend import create_domain_from_config
        return create_domain_from_config(self, config)

    def domain_populate(self, d: Domain, nr_pages: int) -> None:
        populate_physmap(self, d, nr_pages)

    def domain_pause_by_systemcontroller(self, d: Domain) -> None:
        """xm pause: ONE flag, not a count (X@RELEASE-3.0.0:xen/common/domain.c:322: test_and_set_bit of
        _DOMF_ctrl_pause); pausing a paused domain changes nothing. ``d.pause_count`` holds that flag (0/1)."""
        if not d.pause_count:
            d.pause_count = 1
            for v in d.vcpus:
                S.vcpu_sleep_nosync(self, v)
            self.do_softirqs()                # vcpu_sleep_sync: return only once it is off the CPU
        self.trace.emit("DOM", "pause", domid=d.domain_id)

    def domain_unpause_by_systemcontroller(self, d: Domain) -> None:
        """xm unpause: test_and_clear_bit (domain.c:335); unpausing a running domain succeeds and does
        nothing, and one unpause undoes any number of pauses."""
        if d.pause_count:
            d.pause_count = 0
            for v in d.vcpus:
                S.vcpu_wake(self, v)
        self.trace.emit("DOM", "unpause", domid=d.domain_id)

    def domain_shutdown(self, d: Domain, reason: int | str) -> None:
        if isinstance(reason, str):
            names = {v: k for k, v in SHUTDOWN_NAMES.items()}
            if reason not in names:
                raise ValueError(f"shutdown reason must be one of {sorted(names)}, got {reason!r}")
            reason = names[reason]
        if d.is_shutdown:
            return
        d.is_shutdown = True
        d.shutdown_code = reason
        d.is_crashed = reason == 3
        for v in d.vcpus:
            S.vcpu_sleep_nosync(self, v)
            self.timers.stop_timer(v.singleshot_timer)
        self.trace.emit("DOM", "shutdown", domid=d.domain_id, reason=SHUTDOWN_NAMES.get(reason, reason))
        # Tell the toolstack: VIRQ_DOM_EXC to dom0, where xend decides what on_<reason> means.
        if d.domain_id != 0:
            send_guest_global_virq(self.domains.get(0), VIRQ_DOM_EXC)
        for hook in self.on_domain_shutdown:
            hook(d)

    def domain_destroy(self, d: Domain) -> None:
        """domain_kill: stop the vcpus, release every reference the domain holds (xen/domain.py,
        domain_relinquish_resources); its frames are freed as their last reference goes, and the
        domain leaves the list (domain_destruct) once its last page is gone."""
        if d.domain_id == 0:
            raise ValueError("Domain-0 cannot be destroyed")
        if self.domains.get(d.domain_id) is not d or d.is_dying:
            return
        d.is_dying = True
        for v in d.vcpus:
            S.vcpu_sleep_nosync(self, v)
        self.do_softirqs()
        for v in d.vcpus:
            self.scheduler.remove_vcpu(v)
            self.timers.kill_timer(v.singleshot_timer)
        evtchn_destroy(d)
        for hook in self.on_domain_destroy:
            hook(d)
        d.frames_at_kill = len(self.frame_table.frames_of(d.domain_id))
        domain_relinquish_resources(d)
        d.relinquished = True
        maybe_destruct(d)

    # -- text ----------------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (f"<Machine {len(self.cpus)} pCPU, {self.memory.nr_frames >> 8} MiB, sched={self.sched_name}, "
                f"{self.paging}, {'hvm' if self.hvm else 'no hvm'}, {len(self.domains)} domains, "
                f"t={self.now / 1e6:.3f} ms, seed={self.seed}>")

    def dump(self) -> str:
        lines = [repr(self)]
        for pcpu in self.cpus:
            lines.append(f"  {pcpu!r}")
        for d in self.domains.values():
            lines.append("  " + d.dump().replace("\n", "\n  "))
        lines.append(self.scheduler.dump())
        return "\n".join(lines)

    def snapshot(self) -> "Machine":
        """A deep copy (no trace subscribers), to step backwards or to compare runs."""
        return copy.deepcopy(self)


class HVMUnavailable(DomainCreateError):
    pass


__all__ = ["Machine", "StepRecord", "OutOfMemory", "HVMUnavailable"]
