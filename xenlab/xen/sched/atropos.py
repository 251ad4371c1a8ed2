"""Atropos (X@RELEASE-2.0.0:xen/common/sched_atropos.c, from Nemesis; ported by Mark Williamson).

Absolute shares: each domain asks for ``slice`` ns of CPU in every ``period`` (a soft real-time
reservation, as a multimedia domain needs), gives a ``latency`` hint (how soon after waking it
should run) and an ``xtratime`` flag (whether it wants a part of the slack).

Theory of operation (per pCPU)
- **RUNQ**, ordered by deadline (EDF), holds the domains with guaranteed time left in this period;
  the idle domain is always at its end. **WAITQ**, also by deadline, holds the domains with no
  guaranteed time left (state WAIT) and those recently unblocked (state UNBLOCKED). Blocked domains
  are on neither.
- **Deschedule**: ``remain -= ranfor``; at ``remain <= 0`` the domain goes to WAIT.
- **Period start**: every WAITQ (or RUNQ) domain whose deadline has passed starts a new period:
  a period shortened by a long block doubles (with its slice) back towards the natural values;
  ``remain = slice`` (unused time is not carried over) or, if the domain overran, ``remain += slice``
  (the debt is); ``deadline += period``.
- **Unblock**: a *long* block (the deadline passed while blocked) restarts the domain with
  ``deadline = now + latency``, ``period = latency`` and the slice scaled to the same fraction; a
  *short* block keeps ``remain`` and waits on WAITQ as UNBLOCKED (or WAIT if nothing is left).
- **Pick**: the head of RUNQ for its ``remain``. If that is the idle domain, first an UNBLOCKED
  domain from WAITQ (for its remain), else a round robin over the WAITQ domains with ``xtratime``,
  ``BESTEFFORT_QUANTUM`` (5 ms) each: the slack. The run time is cut at the next WAITQ deadline
  (a period start) and is never below 5 ms.

Defaults: dom0 period 20 ms, slice 15 ms, latency 5 ms, xtratime 1; every other domain period 10 s,
slice 10 ms, latency 10 s, xtratime 1 (in effect best effort: it lives on slack time).

Simplifications (deviations from the 2.0 code, each a bug there)
- 2.0 never set the state back to runnable at a period start, so a domain once in WAIT stayed on
  WAITQ (and lived on slack) until it blocked for long; the model puts it back on RUNQ.
- 2.0 did not charge the run that ended in a block; the model charges every run.
- A RUNQ domain whose deadline passes unserved (overload) also starts its next period.
- No migration between pCPUs; the slack round-robin counter is global, as 2.0's static was.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.xen.public import errno as E
from xenlab.xen.sched import Scheduler, SharePool, TaskSlice, register_scheduler

MILLISECS = 1_000_000
SECONDS = 1_000_000_000
BESTEFFORT_QUANTUM = 5 * MILLISECS

ATROPOS_TASK_RUN = 0            # the model's name for "on RUNQ" (2.0 left the field as it was)
ATROPOS_TASK_UNBLOCKED = 16
ATROPOS_TASK_WAIT = 32
ATROPOS_TASK_BLOCKED = 48
STATE_NAMES = {0: "RUN", 16: "UNBLOCKED", 32: "WAIT", 48: "BLOCKED"}


@dataclass(eq=False)
class AtDomInfo:
    """struct at_dom_info (per vcpu)."""
    vcpu: object
    deadline: int = 0
    prevddln: int = 0
    remain: int = 0
    period: int = 10 * SECONDS
    nat_period: int = 10 * SECONDS
    slice: int = 10 * MILLISECS
    nat_slice: int = 10 * MILLISECS
    latency: int = 10 * SECONDS
    xtratime: int = 1
    state: int = ATROPOS_TASK_RUN
    lastschd: int = 0

    def __repr__(self) -> str:
        return (f"<atropos {self.vcpu.label} {STATE_NAMES.get(self.state, self.state)} "
                f"p={self.period / 1e6:g}ms s={self.slice / 1e6:g}ms remain={self.remain / 1e6:.3f}ms "
                f"deadline={self.deadline / 1e6:.3f}ms x={self.xtratime}>")


@dataclass(eq=False)
class AtCpuInfo:
    runq: list = field(default_factory=list)      # EDF; the idle domain is implicit at the end
    waitq: list = field(default_factory=list)


@register_scheduler
class Atropos(Scheduler):
    name = "Atropos Soft Real Time Scheduler"
    opt_name = "atropos"
    sched_id = 2                          # SCHED_ATROPOS

    def __init__(self, machine):
        super().__init__(machine)
        self.waitq_rrobin = 0

    def alloc_pdata(self, cpu: int) -> AtCpuInfo:
        return AtCpuInfo()

    def alloc_vdata(self, v) -> AtDomInfo:
        now = self.machine.now
        inf = AtDomInfo(v, deadline=now, lastschd=now)
        if v.domain.domain_id == 0:       # dom0 must be able to boot the system
            inf.remain = inf.slice = inf.nat_slice = 15 * MILLISECS
            inf.period = inf.nat_period = 20 * MILLISECS
            inf.latency = 5 * MILLISECS
            inf.prevddln = now
        return inf

    def insert_vcpu(self, v) -> None:
        v.processor = self.pick_cpu(v)

    def remove_vcpu(self, v) -> None:
        self._dequeue(v.sched_priv)

    # -- queues -------------------------------------------------------------------------------------------
    def _cpu(self, inf) -> AtCpuInfo:
        return self.pdata[inf.vcpu.processor]

    def _dequeue(self, inf: AtDomInfo) -> None:
        for pdata in self.pdata:
            for q in (pdata.runq, pdata.waitq):
                if inf in q:
                    q.remove(inf)

    def _requeue(self, inf: AtDomInfo) -> None:
        """WAIT and UNBLOCKED go on WAITQ, the others on RUNQ; both ordered by deadline."""
        if not inf.vcpu.runnable():
            return
        pdata = self._cpu(inf)
        q = pdata.waitq if inf.state in (ATROPOS_TASK_WAIT, ATROPOS_TASK_UNBLOCKED) else pdata.runq
        i = next((n for n, other in enumerate(q) if other.deadline > inf.deadline), len(q))
        q.insert(i, inf)

    # -- wake and sleep ---------------------------------------------------------------------------------------
    def wake(self, v) -> None:
        """unblock(): long and short blocks."""
        inf = v.sched_priv
        if not v.is_running and any(inf in q for q in (self._cpu(inf).runq, self._cpu(inf).waitq)):
            return
        now = self.machine.now
        self._dequeue(inf)
        if inf.deadline < now:
            # Long block: a short period (the latency hint) and a slice of the same proportion.
            inf.prevddln = now
            inf.deadline = now + inf.latency
            inf.slice = inf.nat_slice // max(1, inf.nat_period // inf.latency)
            inf.period = inf.latency
            inf.remain = inf.slice
            inf.state = ATROPOS_TASK_RUN
            kind = "long"
        else:
            inf.state = ATROPOS_TASK_UNBLOCKED if inf.remain > 0 else ATROPOS_TASK_WAIT
            kind = "short"
        self.machine.trace.emit("SCHED", "atropos_unblock", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                                block=kind, deadline=inf.deadline, remain=inf.remain)
        if v.is_running:
            return                               # do_schedule requeues it
        self._requeue(inf)
        if self.curr(v.processor).is_idle:
            self.tickle(v.processor)

    def sleep(self, v) -> None:
        inf = v.sched_priv
        inf.state = ATROPOS_TASK_BLOCKED
        if v.is_running:
            self.tickle(v.processor)
        else:
            self._dequeue(inf)

    # -- the decision -------------------------------------------------------------------------------------------
    def do_schedule(self, cpu: int, now: int) -> TaskSlice:
        pdata = self.pdata[cpu]
        prev = self.curr(cpu)
        if not prev.is_idle:
            inf = prev.sched_priv
            self._dequeue(inf)
            inf.remain -= now - inf.lastschd
            if prev.runnable() and inf.remain <= 0:
                inf.state = ATROPOS_TASK_WAIT
            self._requeue(inf)
        self._period_starts(pdata, now)
        nxt, newtime, why = self.pick(pdata, now)
        if nxt is None:
            return TaskSlice(self.idle_vcpu(cpu), newtime - now, why, {"deadline": None})
        nxt.lastschd = now
        self._dequeue(nxt)
        info = {"deadline": nxt.deadline, "remain": nxt.remain, "state": STATE_NAMES[nxt.state],
                "period": nxt.period, "slice": nxt.slice}
        return TaskSlice(nxt.vcpu, newtime - now, why, info)

    def pick(self, pdata: AtCpuInfo, now: int) -> tuple:
        """(at_dom_info or None for idle, end time ns, why) from the queues after the period starts."""
        if pdata.runq:
            nxt = pdata.runq[0]
            newtime = now + nxt.remain
            why = "earliest deadline on RUNQ"
        else:
            nxt, newtime, why = None, now + BESTEFFORT_QUANTUM, "nothing with guaranteed time"
            if pdata.waitq:
                nxt, newtime, why = self._slack(pdata, now)
        if pdata.waitq:
            newtime = min(newtime, pdata.waitq[0].deadline)      # wake for the next period start
        newtime = max(newtime, now + BESTEFFORT_QUANTUM)         # no pointlessly small slices
        return nxt, newtime, why

    def _period_starts(self, pdata: AtCpuInfo, now: int) -> None:
        overdue = [i for i in pdata.runq if i.deadline <= now]           # unserved (overload)
        for inf in overdue:
            pdata.runq.remove(inf)
            inf.state = ATROPOS_TASK_WAIT
            self._requeue(inf)
        while pdata.waitq and pdata.waitq[0].deadline <= now:
            inf = pdata.waitq.pop(0)
            if inf.period != inf.nat_period:
                # Shortened by a long block: double back towards the natural period and slice.
                inf.period *= 2
                inf.slice *= 2
                if inf.period > inf.nat_period:
                    inf.period, inf.slice = inf.nat_period, inf.nat_slice
            inf.remain = inf.slice if inf.remain > 0 else inf.remain + inf.slice
            inf.prevddln = inf.deadline
            inf.deadline += inf.period
            inf.state = ATROPOS_TASK_WAIT if inf.remain <= 0 else ATROPOS_TASK_RUN
            self._requeue(inf)

    def _slack(self, pdata: AtCpuInfo, now: int):
        """The RUNQ holds only idle: an UNBLOCKED domain first, else round robin over xtratime ones."""
        for inf in pdata.waitq:
            if inf.state == ATROPOS_TASK_UNBLOCKED:
                return inf, now + inf.remain, "recently unblocked (WAITQ)"
        if self.waitq_rrobin >= len(pdata.waitq):
            self.waitq_rrobin = 0
        for i, inf in enumerate(pdata.waitq):
            if inf.xtratime and i >= self.waitq_rrobin:
                self.waitq_rrobin = i + 1
                return inf, now + BESTEFFORT_QUANTUM, "slack time, round robin over xtratime domains"
        return None, now + BESTEFFORT_QUANTUM, "nothing runnable"

    # -- parameters -------------------------------------------------------------------------------------------------
    def adjust(self, d, params: dict) -> int:
        """at_adjdom: nat_period, nat_slice, latency (ns), xtratime. Applies from the next period start."""
        if set(params) - {"period", "slice", "latency", "xtratime"}:
            return -E.EINVAL
        if any(not isinstance(v, int) or isinstance(v, bool) for v in params.values()):
            return -E.EINVAL
        cur = d.vcpus[0].sched_priv if d.vcpus else AtDomInfo(None)
        period = params.get("period", cur.nat_period)
        slc = params.get("slice", cur.nat_slice)
        latency = params.get("latency", cur.latency)
        if latency > period or latency <= 0 or slc > period or slc < 0 or period <= 0:
            return -E.EINVAL
        for v in d.vcpus:
            inf = v.sched_priv
            inf.nat_period, inf.nat_slice, inf.latency = period, slc, latency
            inf.xtratime = int(bool(params.get("xtratime", inf.xtratime)))
        return 0

    def get_params(self, d) -> dict:
        inf = d.vcpus[0].sched_priv if d.vcpus else AtDomInfo(None)
        return {"period": inf.nat_period, "slice": inf.nat_slice, "latency": inf.latency,
                "xtratime": inf.xtratime}

    def share_pools(self, domains) -> list:
        """Each domain's slice/period reserved; the slack round-robin (equal parts) to xtratime domains."""
        ids = [d.domain_id for d in domains]
        params = {d.domain_id: self.get_params(d) for d in domains}
        return [SharePool(float(len(self.machine.cpus)),
                          {i: params[i]["slice"] / params[i]["period"] for i in ids},
                          {i: 1 for i in ids if params[i]["xtratime"]},
                          {i: 1.0 for i in ids}, {i: 1 for i in ids})]

    def dump(self) -> str:
        lines = [f"Scheduler: {self.name} (atropos)"]
        for cpu, pdata in enumerate(self.pdata):
            cur = self.curr(cpu)
            lines.append(f"  cpu{cpu}: running {'idle' if cur.is_idle else repr(cur.sched_priv)}")
            lines.append("    RUNQ:  " + (" ".join(i.vcpu.label for i in pdata.runq) + " idle").strip())
            lines.append("    WAITQ: " + (" ".join(i.vcpu.label for i in pdata.waitq) or "-"))
            for inf in pdata.runq + pdata.waitq:
                lines.append(f"      {inf!r}")
        return "\n".join(lines)
