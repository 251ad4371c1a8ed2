"""The scheduler interface and registry (X@RELEASE-3.0.0:xen/include/xen/sched-if.h, struct scheduler).

Xen's schedulers are tables of operations registered by name and chosen at boot with ``sched=``.
Here a scheduler is a subclass of :class:`Scheduler` decorated with :func:`register_scheduler`;
``Machine(sched="rrobin")`` picks it, exactly like the boot option. A student's scheduler registers
through the same decorator and plugs into the same machine.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from xenlab.xen.public import errno as E


@dataclass
class TaskSlice:
    """struct task_slice: what do_schedule returns: the next vcpu and how long it may run (ns).

    ``time < 0`` means "no slice timer" (run until something else reschedules).
    ``reason`` is free text for the trace and the Gantt chart ("why it was picked").
    """
    vcpu: Any
    time: int
    reason: str = ""
    info: dict | None = None       # the values that decided (evt, deadline, priority, credit ...)


SCHEDULERS: dict[str, type["Scheduler"]] = {}

# Built-in schedulers are imported lazily by name, so a missing one does not break the others.
BUILTIN_MODULES = {
    "rrobin": "xenlab.xen.sched.rrobin",
    "bvt": "xenlab.xen.sched.bvt",
    "atropos": "xenlab.xen.sched.atropos",
    "sedf": "xenlab.xen.sched.sedf",
    "credit": "xenlab.xen.sched.credit",
    "credit2": "xenlab.xen.sched.credit2",
    "rtds": "xenlab.xen.sched.rtds",
}


def register_scheduler(cls: type["Scheduler"]) -> type["Scheduler"]:
    """Class decorator: make ``cls`` selectable as ``Machine(sched=cls.opt_name)``."""
    if not getattr(cls, "opt_name", None):
        raise ValueError(f"{cls.__name__} needs an opt_name (the sched= boot option value)")
    for hook in ("do_schedule", "wake", "sleep", "insert_vcpu"):
        if not callable(getattr(cls, hook, None)):
            raise ValueError(f"{cls.__name__} lacks {hook}()")
    SCHEDULERS[cls.opt_name] = cls
    return cls


def get_scheduler(opt_name: str) -> type["Scheduler"]:
    if opt_name not in SCHEDULERS and opt_name in BUILTIN_MODULES:
        try:
            importlib.import_module(BUILTIN_MODULES[opt_name])
        except ModuleNotFoundError as exc:
            if exc.name != BUILTIN_MODULES[opt_name]:
                raise
    if opt_name not in SCHEDULERS:
        known = sorted(set(SCHEDULERS) | {n for n in BUILTIN_MODULES if _available(n)})
        raise ValueError(f"unknown scheduler sched={opt_name!r}; available: {', '.join(known)}")
    return SCHEDULERS[opt_name]


def _available(opt_name: str) -> bool:
    try:
        importlib.import_module(BUILTIN_MODULES[opt_name])
        return True
    except ModuleNotFoundError:
        return False


class Scheduler:
    """Base class: the operations of Xen's ``struct scheduler``. Override what your policy needs."""
    name = "abstract"
    opt_name = ""
    sched_id = -1

    def __init__(self, machine):
        self.machine = machine
        # schedule_data[cpu].sched_priv: the policy's per-pCPU data (run queues ...).
        self.pdata = [self.alloc_pdata(c) for c in range(len(machine.cpus))]

    # -- per-pCPU, per-vcpu and per-domain data ---------------------------------------------------------
    def alloc_pdata(self, cpu: int) -> Any:
        return None

    def alloc_vdata(self, v) -> Any:
        return None

    def alloc_ddata(self, d) -> Any:
        return None

    def ddata(self, d) -> Any:
        """The policy's per-domain data (``d.sched_priv``), made by alloc_ddata on first use."""
        data = getattr(d, "sched_priv", None)
        if data is None:
            data = d.sched_priv = self.alloc_ddata(d)
        return data

    def insert_vcpu(self, v) -> None:
        raise NotImplementedError

    def remove_vcpu(self, v) -> None:
        pass

    # -- state changes --------------------------------------------------------------------------------
    def sleep(self, v) -> None:
        raise NotImplementedError

    def wake(self, v) -> None:
        raise NotImplementedError

    def yield_(self, v) -> None:
        pass

    def do_schedule(self, cpu: int, now: int) -> TaskSlice:
        raise NotImplementedError

    def pick_cpu(self, v) -> int:
        """Initial placement: the allowed pCPU with the fewest vcpus assigned, lowest number first."""
        allowed = v.cpu_affinity or tuple(range(len(self.machine.cpus)))
        load = {c: 0 for c in allowed}
        for d in self.machine.domains.values():
            for other in d.vcpus:
                if other is not v and other.processor in load:
                    load[other.processor] += 1
        return min(allowed, key=lambda c: (load[c], c))

    def allowed_cpus(self, v) -> tuple[int, ...]:
        """The pCPUs vcpu ``v`` may run on (its affinity, or every pCPU)."""
        return v.cpu_affinity or tuple(range(len(self.machine.cpus)))

    # -- parameters --------------------------------------------------------------------------------------
    def adjust(self, d, params: dict) -> int:
        """Set per-domain parameters; returns 0 or -errno like sched_adjdom."""
        return -E.EINVAL

    def get_params(self, d) -> dict:
        return {}

    def sched_ctl(self, params: dict) -> int:
        """Set global parameters (DOM0_SCHEDCTL: BVT's ctx_allow, Round Robin's slice); 0 or -errno."""
        return -E.EINVAL if params else 0

    def get_ctl(self) -> dict:
        return {}

    def promised_shares(self, domains) -> dict:
        """What the policy promises each of ``domains`` (all CPU-bound), as a fraction of one pCPU.

        The default is an equal split of the pCPUs, capped at one pCPU per vcpu.
        """
        vcpus = {d.domain_id: len(d.vcpus) for d in domains}
        total = sum(vcpus.values()) or 1
        ncpu = len(self.machine.cpus)
        return {i: min(n, ncpu * n / total) for i, n in vcpus.items()}

    def tick(self, cpu: int) -> None:
        """Called by a periodic per-CPU tick if the scheduler asks for one (``tick_period_ns``)."""

    tick_period_ns: int | None = None

    def dump(self) -> str:
        return f"Scheduler: {self.name} ({self.opt_name})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} sched={self.opt_name}>"

    # -- helpers for subclasses -------------------------------------------------------------------------
    def idle_vcpu(self, cpu: int):
        return self.machine.cpus[cpu].idle

    def curr(self, cpu: int):
        return self.machine.cpus[cpu].curr

    def tickle(self, cpu: int) -> None:
        """Ask ``cpu`` to reschedule (cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ))."""
        self.machine.raise_schedule(cpu)
