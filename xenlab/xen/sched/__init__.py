"""The scheduler interface and registry (X@RELEASE-3.0.0:xen/include/xen/sched-if.h, struct scheduler).

Xen's schedulers are tables of operations registered by name and chosen at boot with ``sched=``.
Here a scheduler is a subclass of :class:`Scheduler` decorated with :func:`register_scheduler`;
``Machine(sched="rrobin")`` picks it, exactly like the boot option. A student's scheduler registers
through the same decorator and plugs into the same machine.
"""
from __future__ import annotations

import abc
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
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        raise ValueError(f"{cls.__name__} must define {', '.join(m + '()' for m in missing)} "
                         "(the operations every Xen scheduler provides)")
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


class Scheduler(abc.ABC):
    """Base class: the operations of Xen's ``struct scheduler``. Override what your policy needs."""
    name = "abstract"
    opt_name = ""
    sched_id = -1
    # A variant of a built-in policy (a student's BVT whose pick is their function ...) names it here:
    # it takes the built-in's parameters, and the scheduler lab gives it the built-in's sliders.
    variant_of = ""

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

    @abc.abstractmethod
    def insert_vcpu(self, v) -> None:
        """Place a new vcpu (set v.processor, queue it if runnable)."""

    def remove_vcpu(self, v) -> None:
        pass

    # -- state changes --------------------------------------------------------------------------------
    @abc.abstractmethod
    def sleep(self, v) -> None:
        """v can no longer run: take it off the run queue (tickle its pCPU if it is running)."""

    @abc.abstractmethod
    def wake(self, v) -> None:
        """v became runnable: queue it and tickle a pCPU if it should preempt."""

    def yield_(self, v) -> None:
        pass

    @abc.abstractmethod
    def do_schedule(self, cpu: int, now: int) -> TaskSlice:
        """Pick the next vcpu for ``cpu`` and the slice it may run (every policy must say)."""

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

    def share_pools(self, domains) -> list[SharePool] | None:
        """How the policy divides the pCPUs among ``domains``: a list of :class:`SharePool`.

        None (the default) means the rule is not known to the model (a student's scheduler, say): the
        lab then shows :meth:`promised_shares` labelled "entitlement if CPU-bound".
        """
        return None

    def promised_shares(self, domains) -> dict:
        """What the policy promises each of ``domains`` if all are CPU-bound, as a fraction of one pCPU.

        From :meth:`share_pools` when the policy has them; otherwise an equal split of the pCPUs,
        capped at one pCPU per vcpu. :func:`promise` caps it at what each domain asks for.
        """
        pools = self.share_pools(domains)
        if pools is not None:
            return fill_pools(pools, {})
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


# -- what a policy promises ------------------------------------------------------------------------------
@dataclass
class SharePool:
    """pCPU time that one rule divides: ``capacity`` pCPUs among some domains.

    Per domain (domid keys): ``reserved`` is time set aside whatever the others do (Atropos's and
    SEDF's slice/period), ``weights`` divides what is left (Credit's weight, BVT's 1/mcu_advance, SEDF's
    extraweight; no weight = no part of the rest), ``limits`` is the most it may use here (its vcpus,
    a cap), ``vcpus`` how many of its vcpus the pool holds (a domain's demand scales with them).
    A scheduler with one run queue per pCPU (BVT) has one pool per pCPU.
    """
    capacity: float
    reserved: dict
    weights: dict
    limits: dict
    vcpus: dict


def water_fill(total: float, weights: dict, limit: dict) -> dict:
    """Share ``total`` by weight, never giving anyone more than its limit; the excess goes to the rest."""
    share = {k: 0.0 for k in weights}
    left = {k: w for k, w in weights.items() if w > 0 and limit[k] > 1e-12}
    remaining = total
    while left and remaining > 1e-12:
        wsum = sum(left.values())
        offer = {k: remaining * w / wsum for k, w in left.items()}
        capped = [k for k in left if share[k] + offer[k] >= limit[k] - 1e-12]
        if not capped:
            for k in left:
                share[k] += offer[k]
            break
        for k in capped:
            remaining -= limit[k] - share[k]
            share[k] = limit[k]
            del left[k]
    return share


def fill_pools(pools: list, demand: dict) -> dict:
    """Each domain's share summed over ``pools``, none above its demand.

    ``demand``: domid -> the fraction of one pCPU each of its vcpus asks for (1.0 = CPU-bound; a
    missing or None entry is CPU-bound too, which gives the "entitlement"). In a pool a domain first
    gets its reservation, up to its demand; the rest of the pool is then water-filled by weight, nobody
    above the smaller of its limit and its demand: what a domain does not want goes to the others by
    the same rule.
    """
    out: dict = {}
    for pool in pools:
        want = {}
        for i, lim in pool.limits.items():
            f = demand.get(i)
            f = 1.0 if f is None else f
            want[i] = min(lim, f * pool.vcpus.get(i, 1))
        got = {i: min(pool.reserved.get(i, 0.0), want[i]) for i in want}
        spare = max(0.0, pool.capacity - sum(got.values()))
        extra = water_fill(spare, {i: pool.weights.get(i, 0) for i in want},
                           {i: want[i] - got[i] for i in want})
        for i in want:
            out[i] = out.get(i, 0.0) + got[i] + extra.get(i, 0.0)
    return out


@dataclass
class Promise:
    """What a scheduler promises: ``shares`` (domid -> fraction of one pCPU) and what they assume.

    ``kind`` is "demand" when each share is capped at the domain's demand and the rest handed on by
    the scheduler's rule, or "cpu-bound" when the scheduler has no rule the model knows
    (``share_pools`` is None): then the shares are the entitlement if every domain were CPU-bound.
    """
    shares: dict
    kind: str
    demand: dict


def promise(scheduler, domains, demand: dict | None = None) -> Promise:
    """``scheduler``'s promise to ``domains``, each asking for ``demand[domid]`` of a pCPU per vcpu.

    ``demand`` comes from the workloads (``guest.workload.compute_fraction``); a missing or None
    entry is a CPU-bound domain.
    """
    demand = {d.domain_id: (demand or {}).get(d.domain_id) for d in domains}
    pools = scheduler.share_pools(domains)
    if pools is None:
        return Promise(scheduler.promised_shares(domains), "cpu-bound", demand)
    shares = fill_pools(pools, demand)
    return Promise({i: shares.get(i, 0.0) for i in demand}, "demand", demand)
