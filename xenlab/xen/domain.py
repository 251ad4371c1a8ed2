"""Domains and virtual CPUs (X@RELEASE-3.0.0:xen/common/domain.c, xen/include/xen/sched.h).

A domain owns machine frames, a shared_info page and one or more vcpus. Its life follows Xen's:
created paused, unpaused by the toolstack, running/blocked while it works, shut down with a reason
(poweroff, reboot, suspend, crash), then destroyed (dying) by the toolstack, which frees every frame.

Simplifications:
- No domain pools, no NUMA affinity, no vcpu hot-plug beyond ``vcpus`` at creation.
- "dying" lasts only while destroy() runs: the model releases all references at once.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from xenlab.xen.public.xen import SHUTDOWN_NAMES

# Runstates (public/vcpu.h, 3.0.2+).
RUNSTATE_running = 0
RUNSTATE_runnable = 1
RUNSTATE_blocked = 2
RUNSTATE_offline = 3
RUNSTATE_NAMES = ("running", "runnable", "blocked", "offline")

ON_ACTIONS = ("destroy", "restart", "preserve", "rename-restart")


class DomainState(enum.Enum):
    RUNNING = "running"      # at least one vcpu on a pCPU
    RUNNABLE = "runnable"    # ready, waiting for a pCPU (xm list shows neither r nor b: "------")
    BLOCKED = "blocked"      # every vcpu waiting for an event
    PAUSED = "paused"
    SHUTDOWN = "shutdown"
    CRASHED = "crashed"
    DYING = "dying"


class DomainCreateError(ValueError):
    """A domain cannot be built as configured (no HVM support, no memory, bad parameters)."""


@dataclass
class DomainConfig:
    """What ``xm create`` reads from a config file (X@RELEASE-3.0.0:tools/examples/xmexample1)."""
    name: str
    memory: int = 128                     # MiB (xm's default)
    maxmem: int | None = None             # MiB; defaults to memory
    vcpus: int = 1
    kind: str = "pv"                      # "pv" (paravirtualised) or "hvm" (hardware-assisted)
    kernel: str = "/boot/vmlinuz-2.6.16-xen"
    ramdisk: str = ""
    extra: str = ""                       # appended to the kernel command line
    root: str = ""
    workload: Any = "idle"                # a preset name or a guest.workload.Program
    on_poweroff: str = "destroy"
    on_reboot: str = "restart"
    on_crash: str = "restart"
    weight: int = 256                     # Credit scheduler weight
    cap: int = 0                          # Credit cap, percent of one pCPU (0 = none)
    sched_params: dict = field(default_factory=dict)   # other schedulers' parameters
    cpus: str | None = None               # affinity, e.g. "0-1"
    disk: list = field(default_factory=list)
    vif: list = field(default_factory=list)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or any(c.isspace() for c in self.name):
            raise DomainCreateError(f"name must be a non-empty word, got {self.name!r}")
        if self.kind not in ("pv", "hvm"):
            raise DomainCreateError(f"kind must be 'pv' or 'hvm', got {self.kind!r}")
        for key in ("memory", "vcpus"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise DomainCreateError(f"{key} must be a positive whole number, got {value!r}")
        if self.vcpus > 32:
            raise DomainCreateError(f"vcpus={self.vcpus}: Xen 3.0 allows at most 32 (MAX_VIRT_CPUS)")
        if self.maxmem is None:
            self.maxmem = self.memory
        if self.maxmem < self.memory:
            raise DomainCreateError(f"maxmem ({self.maxmem} MiB) is below memory ({self.memory} MiB)")
        for key in ("on_poweroff", "on_reboot", "on_crash"):
            if getattr(self, key) not in ON_ACTIONS:
                raise DomainCreateError(f"{key}={getattr(self, key)!r}: must be one of {', '.join(ON_ACTIONS)}")

    @property
    def cmdline(self) -> str:
        return " ".join(s for s in (f"root={self.root}" if self.root else "", self.extra) if s)


class Vcpu:
    """struct vcpu: one virtual CPU of a domain (or the idle vcpu of a pCPU when domain is None)."""

    def __init__(self, domain: "Domain | None", vcpu_id: int, processor: int):
        self.domain = domain
        self.vcpu_id = vcpu_id
        self.processor = processor              # the pCPU it runs on or is queued on
        self.cpu_affinity: tuple[int, ...] | None = None
        self.runstate = RUNSTATE_offline
        self.state_entry_time = 0               # ns, when the runstate last changed
        self.runstate_time = [0, 0, 0, 0]       # ns spent in each runstate
        self.cpu_time = 0                       # ns of CPU consumed (running)
        self.is_running = False
        self.pause_count = 0
        self.blocked = False                    # _VPF_blocked
        self.down = False                       # _VPF_down
        self.initialised = False                # _VCPUF_initialised: has a context (builder or VCPUOP_initialise)
        self.sched_priv: Any = None             # the scheduler's per-vcpu data
        self.guest: Any = None                  # guest execution state (guest.xenlinux.VcpuContext)
        self.singleshot_timer = None            # set_timer_op timer
        self.periodic_timer = None              # 10 ms VIRQ_TIMER tick while running
        self.virq_to_evtchn = [0] * 24
        self.poll_ports: tuple[int, ...] = ()
        self.nr_switches = 0

    @property
    def is_idle(self) -> bool:
        return self.domain is None

    @property
    def domid(self) -> int | None:
        return None if self.domain is None else self.domain.domain_id

    @property
    def label(self) -> str:
        return f"idle{self.processor}" if self.domain is None else f"d{self.domain.domain_id}v{self.vcpu_id}"

    def runnable(self) -> bool:
        """vcpu_runnable(): not blocked, not paused, not down, domain alive and unpaused."""
        if self.domain is None:
            return True
        d = self.domain
        return not (self.blocked or self.down or self.pause_count or d.pause_count
                    or d.is_shutdown or d.is_dying)

    @property
    def cpu_time_now(self) -> int:
        """CPU time in ns including the run in progress (``cpu_time`` is updated at each switch)."""
        if self.domain is None:
            return self.cpu_time
        return self.domain.machine.vcpu_cpu_time(self)

    def __repr__(self) -> str:
        return (f"<Vcpu {self.label} on cpu{self.processor} {RUNSTATE_NAMES[self.runstate]}"
                f" cpu_time={self.cpu_time_now / 1e6:.3f}ms>")

    def dump(self) -> str:
        times = ", ".join(f"{n} {t / 1e6:.3f}ms" for n, t in zip(RUNSTATE_NAMES, self.runstate_time))
        flags = [f for f, on in (("blocked", self.blocked), ("down", self.down),
                                 (f"paused x{self.pause_count}", self.pause_count)) if on]
        return "\n".join([repr(self),
                          f"  runstate times: {times}",
                          f"  flags: {', '.join(flags) or '-'}; switches in: {self.nr_switches}",
                          f"  cr3: {getattr(self, 'cr3', 0):#x}; affinity: {self.cpu_affinity or 'any'}",
                          f"  scheduler data: {self.sched_priv!r}"])


class Domain:
    """struct domain."""

    def __init__(self, machine, domid: int, config: DomainConfig, privileged: bool = False):
        self.machine = machine
        self.domain_id = domid
        self.config = config
        self.name = config.name
        self.kind = config.kind
        self.is_privileged = privileged
        self.vcpus: list[Vcpu] = []
        self.tot_pages = 0
        self.max_pages = 0
        self.pause_count = 0                  # _DOMF_ctrl_pause (xm pause) as 0/1, not a count; vcpus count their own
        self.is_shutdown = False
        self.shutdown_code: int | None = None
        self.is_dying = False
        self.is_crashed = False
        self.p2m: list[int] = []              # pfn -> mfn (the guest's own table for PV)
        self.shared_info_mfn = -1
        self.start_info_mfn = -1
        self.console_mfn = -1
        self.console_output: list[str] = []   # lines read out by the console daemon (xm console)
        self.kernel: Any = None               # the guest kernel model
        # Exercise sandboxes (None: Xen's own logic). A function given here replaces one decision of
        # Xen's for this domain only; returning NotImplemented leaves that call to Xen (xen/traps.py,
        # xen/event.py). Exercises 05 and 06 plug the student's answers in here.
        self.trap_route: Any = None           # (table, vector, from_ring, software) -> (handler, rings) | None
        self.evtchn_logic: Any = None         # .set_pending(pending, mask, sel, upcall, port), .unmask(...)
        self.created_at = machine.now
        self.hypercall_counts: dict[str, int] = {}
        self.restart_count = 0

    # -- derived --------------------------------------------------------------------------------------
    @property
    def cpu_time(self) -> int:
        """Total CPU time of all vcpus in ns, including the current run (the domain's virtual time)."""
        return sum(self.machine.vcpu_cpu_time(v) for v in self.vcpus)

    @property
    def shutdown_reason(self) -> str | None:
        return None if self.shutdown_code is None else SHUTDOWN_NAMES.get(self.shutdown_code, "?")

    @property
    def memory_kib(self) -> int:
        return self.tot_pages * 4

    @property
    def state(self) -> DomainState:
        if self.is_dying:
            return DomainState.DYING
        if self.is_shutdown:
            return DomainState.CRASHED if self.is_crashed else DomainState.SHUTDOWN
        if self.pause_count:
            return DomainState.PAUSED
        if any(v.is_running for v in self.vcpus):
            return DomainState.RUNNING
        if self.vcpus and all(v.blocked for v in self.vcpus):
            return DomainState.BLOCKED
        return DomainState.RUNNABLE

    # -- lifecycle (thin wrappers; the work is in Machine) --------------------------------------------
    def pause(self) -> None:
        self.machine.domain_pause_by_systemcontroller(self)

    def unpause(self) -> None:
        self.machine.domain_unpause_by_systemcontroller(self)

    def shutdown(self, reason: int | str = "poweroff") -> None:
        self.machine.domain_shutdown(self, reason)

    def destroy(self) -> None:
        self.machine.domain_destroy(self)

    def hypercall(self, name_or_number, *args, vcpu: int = 0):
        """Make a hypercall from vcpu ``vcpu`` of this domain, as the guest kernel would."""
        from xenlab.xen.hypercall import hypercall_from_guest
        return hypercall_from_guest(self.vcpus[vcpu], name_or_number, *args)

    def __repr__(self) -> str:
        return (f"<Domain {self.domain_id} {self.name!r} {self.kind} {self.state.value} "
                f"{self.tot_pages} pages, {len(self.vcpus)} vcpus, cpu {self.cpu_time / 1e9:.3f}s>")

    def dump(self) -> str:
        lines = [repr(self)]
        for v in self.vcpus:
            lines.append(f"  {v!r}")
        runs = contiguous_runs(self.p2m)
        lines.append(f"  p2m: {len(self.p2m)} pfns in {len(runs)} contiguous machine runs")
        lines.append(f"  shared_info mfn {self.shared_info_mfn:#x}, start_info mfn {self.start_info_mfn:#x}")
        return "\n".join(lines)


def contiguous_runs(mfns) -> list[tuple[int, int]]:
    """[(first_mfn, length), ...] of consecutive machine frames in pfn order."""
    runs: list[tuple[int, int]] = []
    for m in mfns:
        if runs and runs[-1][0] + runs[-1][1] == m:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((m, 1))
    return runs
