"""The RTDS scheduler (X@master:xen/common/sched/rt.c): Real-Time Deferrable Server, global EDF.

Every vcpu is a *deferrable server* with a ``period`` and a ``budget`` (set in microseconds; defaults
10000 us / 4000 us): in each period it is guaranteed ``budget`` of CPU time, and its deadline is the
end of the period.

Theory of operation
- **Period start** (``rt_update_deadline``): when ``now`` reaches the vcpu's deadline, the deadline
  moves on by whole periods and the budget is refilled to ``budget``. What was left of the old budget
  is discarded; a vcpu cannot save time for later. One replenishment timer, armed for the earliest
  deadline on the replenishment queue, does this for every vcpu.
- **Global EDF**: one run queue for all pCPUs, ordered by ``(priority_level, deadline)``. A pCPU runs
  the first vcpu of the queue its affinity allows; the current vcpu keeps the pCPU only if it has a
  strictly higher priority. The slice is the vcpu's remaining budget.
- **Budget used up**: the vcpu goes to the *depleted queue* and waits for its next period, unless it
  has the **extratime** flag (``XEN_DOMCTL_SCHEDRT_extra``): then its ``priority_level`` goes up by one
  and it gets another budget's worth, so it keeps running at a priority below every vcpu that still
  has guaranteed budget. The next period start puts it back to level 0.
- **Wake**: a vcpu waking after its deadline starts a new period at once (aligned to its period
  grid); one waking within its period keeps the budget it had left. It then goes to an idle pCPU if
  there is one, otherwise preempts the runner with the latest deadline if its own is earlier.
- **Parameters** (``adjust``): period and budget >= 10 us (RTDS_MIN_PERIOD, RTDS_MIN_BUDGET) and
  budget <= period, else -EINVAL. ``{"period", "budget"[, "extratime"]}`` sets every vcpu
  (XEN_DOMCTL_SCHEDOP_putinfo); ``{"vcpus": [{"vcpuid", "period", "budget", "extratime"}, ...]}``
  sets single vcpus (XEN_DOMCTL_SCHEDOP_putvcpuinfo). A new period or budget takes effect at the
  vcpu's next period start, as in Xen.

Simplifications
- No cpupools, no per-pCPU "tickled" bookkeeping beyond a set of pCPUs asked to reschedule.
- ``get_params`` answers vcpu 0's values plus a ``vcpus`` list (Xen's getinfo returns the scheduler's
  defaults and leaves per-vcpu values to getvcpuinfo).
- The model applies putvcpuinfo's checks to putinfo too (Xen's putinfo refuses only zeros and leaves
  the rest to libxl), and takes ``extratime`` in putinfo as a convenience. RTDS_MAX_PERIOD is not
  modelled.
- New vcpus start with extratime set (Xen's rt_alloc_udata since 4.10, from memory, not checked
  against the file; xen-facts does not say).

Note: on more than one pCPU, global EDF meets every deadline only for some task sets whose total
utilisation is <= the number of pCPUs (e.g. when sum(budget/period) <= m - (m - 1) x the largest
budget/period); on one pCPU, sum <= 1 is enough.
"""
from __future__ import annotations

from dataclasses import dataclass

from xenlab.xen.public import errno as E
from xenlab.xen.sched import Scheduler, TaskSlice, register_scheduler
from xenlab.xen.timer import PRIO_TICK

MICROSECS = 1_000
MILLISECS = 1_000_000

RTDS_DEFAULT_PERIOD = 10 * MILLISECS          # ns (10000 us)
RTDS_DEFAULT_BUDGET = 4 * MILLISECS           # ns (4000 us)
RTDS_MIN_PERIOD = 10 * MICROSECS
RTDS_MIN_BUDGET = 10 * MICROSECS
XEN_DOMCTL_SCHEDRT_extra = 1 << 0             # H:domctl.h, flags of xen_domctl_sched_rtds
PARAM_KEYS = ("period", "budget", "extratime")


@dataclass(eq=False)
class RtUnit:
    """struct rt_unit. period/budget in ns here; the ABI (adjust, get_params) speaks microseconds."""
    vcpu: object
    period: int = RTDS_DEFAULT_PERIOD
    budget: int = RTDS_DEFAULT_BUDGET
    extratime: bool = True
    cur_budget: int = 0               # ns left in this period (at this priority level)
    cur_deadline: int = 0             # ns, end of the current period
    last_start: int = 0               # when it last started running or was charged
    priority_level: int = 0           # 0 = within its budget; +1 each time extratime refills it
    depleted: bool = False

    def key(self) -> tuple:
        """Smaller is more urgent: priority level first, then EDF."""
        return (self.priority_level, self.cur_deadline)

    def params(self) -> dict:
        return {"vcpuid": self.vcpu.vcpu_id, "period": self.period // MICROSECS,
                "budget": self.budget // MICROSECS, "extratime": int(self.extratime)}

    def __repr__(self) -> str:
        x = " extra" if self.extratime else ""
        return (f"<rt_unit {self.vcpu.label} {self.budget // MICROSECS}/{self.period // MICROSECS}us{x} "
                f"left={self.cur_budget / 1e3:.0f}us ddl={self.cur_deadline / 1e6:.3f}ms "
                f"lvl={self.priority_level}{' depleted' if self.depleted else ''}>")


@register_scheduler
class RTDS(Scheduler):
    name = "SMP RTDS Scheduler"
    opt_name = "rtds"
    sched_id = 8                                  # XEN_SCHEDULER_RTDS

    def __init__(self, machine):
        super().__init__(machine)
        self.runq: list[RtUnit] = []              # global, by key()
        self.depletedq: list[RtUnit] = []         # out of budget, waiting for the next period
        self.replq: list[RtUnit] = []             # every awake unit, by cur_deadline
        self.tickled: set[int] = set()
        self.repl_timer = machine.timers.init_timer("rtds_repl", self._repl_timer_fn, None, 0, PRIO_TICK)

    # -- private data ----------------------------------------------------------------------------------
    def alloc_vdata(self, v) -> RtUnit:
        return RtUnit(v)

    def insert_vcpu(self, v) -> None:
        v.processor = self.pick_cpu(v)
        svc = v.sched_priv
        if self.machine.now >= svc.cur_deadline:
            self._update_deadline(self.machine.now, svc)

    def remove_vcpu(self, v) -> None:
        svc = v.sched_priv
        self._q_remove(svc)
        self._replq_remove(svc)

    # -- queues ----------------------------------------------------------------------------------------
    @staticmethod
    def _insert_sorted(q: list, svc: RtUnit, key) -> None:
        k = key(svc)
        i = next((n for n, other in enumerate(q) if k < key(other)), len(q))
        q.insert(i, svc)

    def _runq_insert(self, svc: RtUnit) -> None:
        if svc.depleted:
            self.depletedq.append(svc)
        else:
            self._insert_sorted(self.runq, svc, RtUnit.key)

    def _q_remove(self, svc: RtUnit) -> None:
        for q in (self.runq, self.depletedq):
            if svc in q:
                q.remove(svc)

    def _on_q(self, svc: RtUnit) -> bool:
        return svc in self.runq or svc in self.depletedq

    def _replq_insert(self, svc: RtUnit) -> None:
        if svc in self.replq:
            return
        self._insert_sorted(self.replq, svc, lambda s: s.cur_deadline)
        if self.replq[0] is svc:
            self.machine.timers.set_timer(self.repl_timer, svc.cur_deadline)

    def _replq_remove(self, svc: RtUnit) -> None:
        if svc not in self.replq:
            return
        first = self.replq[0] is svc
        self.replq.remove(svc)
        if first:
            self._arm_repl_timer()

    def _arm_repl_timer(self) -> None:
        if self.replq:
            self.machine.timers.set_timer(self.repl_timer, self.replq[0].cur_deadline)
        else:
            self.machine.timers.stop_timer(self.repl_timer)

    # -- budget -----------------------------------------------------------------------------------------
    def _update_deadline(self, now: int, svc: RtUnit) -> None:
        """A new period: deadline on by whole periods, full budget, back to priority level 0."""
        count = (now - svc.cur_deadline) // svc.period + 1
        svc.cur_deadline += count * svc.period
        svc.cur_budget = svc.budget
        svc.priority_level = 0
        svc.depleted = False
        svc.last_start = now

    def _burn_budget(self, svc: RtUnit, now: int) -> None:
        delta = now - svc.last_start
        svc.last_start = now
        if delta <= 0:
            return
        svc.cur_budget -= delta
        if svc.cur_budget <= 0:
            if svc.extratime:
                svc.priority_level += 1              # keep going, below everyone with real budget
                svc.cur_budget = svc.budget
            else:
                svc.cur_budget = 0
                svc.depleted = True

    # -- the decision ----------------------------------------------------------------------------------
    def _runq_pick(self, cpu: int):
        for svc in self.runq:
            if cpu in self.allowed_cpus(svc.vcpu):
                return svc
        return None

    def do_schedule(self, cpu: int, now: int) -> TaskSlice:
        self.tickled.discard(cpu)
        prev = self.curr(cpu)
        scurr = None if prev.is_idle else prev.sched_priv
        if scurr is not None:
            self._burn_budget(scurr, now)
            if not prev.runnable():
                self._replq_remove(scurr)            # asleep: no replenishments until it wakes
        snext = self._runq_pick(cpu)
        reason = "earliest deadline (global EDF)"
        keep = scurr is not None and prev.runnable() and not scurr.depleted
        if keep and (snext is None or scurr.key() < snext.key()):
            snext, reason = scurr, "current still has the earliest deadline"
        if scurr is not None and snext is not scurr and prev.runnable():
            self._runq_insert(scurr)                 # to the depleted queue if out of budget
            if not scurr.depleted:
                self._runq_tickle(scurr, skip=cpu)
        if snext is None:
            return TaskSlice(self.idle_vcpu(cpu), -1, "no vcpu with budget to run", {"deadline": None})
        if snext is not scurr:
            self.runq.remove(snext)
            snext.vcpu.processor = cpu
        snext.last_start = now
        if snext.priority_level:
            reason = f"extratime (priority level {snext.priority_level})"
        info = {"deadline": snext.cur_deadline, "budget_left": snext.cur_budget,
                "priority_level": snext.priority_level}
        return TaskSlice(snext.vcpu, snext.cur_budget, reason, info)

    def _runq_tickle(self, new: RtUnit, skip: int | None = None) -> None:
        """An idle pCPU (its own first), else the one running the latest deadline, if new beats it."""
        allowed = [c for c in self.allowed_cpus(new.vcpu) if c != skip and c not in self.tickled]
        own = new.vcpu.processor
        for c in ([own] if own in allowed else []) + allowed:
            if self.curr(c).is_idle:
                self._tickle(c)
                return
        if skip is not None:
            return
        latest = None
        for c in allowed:
            cur = self.curr(c).sched_priv
            if latest is None or cur.key() > self.curr(latest).sched_priv.key():
                latest = c
        if latest is not None and new.key() < self.curr(latest).sched_priv.key():
            self._tickle(latest)

    def _tickle(self, cpu: int) -> None:
        self.tickled.add(cpu)
        self.tickle(cpu)

    def _repl_timer_fn(self, _data=None) -> None:
        """repl_timer_handler: start the new period of every unit whose deadline has come."""
        now = self.machine.now
        due = []
        while self.replq and self.replq[0].cur_deadline <= now:
            svc = self.replq.pop(0)
            if svc.vcpu.is_running:
                self._burn_budget(svc, now)
            self._update_deadline(now, svc)
            due.append(svc)
        trace = self.machine.trace
        for svc in due:
            self._insert_sorted(self.replq, svc, lambda s: s.cur_deadline)
            if trace.active:
                trace.emit("SCHED", "rtds_repl", domid=svc.vcpu.domid, vcpu=svc.vcpu.vcpu_id,
                           pcpu=svc.vcpu.processor, deadline=svc.cur_deadline, budget=svc.cur_budget)
            if svc.vcpu.is_running:
                # Its deadline moved on: a queued unit may now be more urgent than it.
                nxt = self._runq_pick(svc.vcpu.processor)
                if nxt is not None and nxt.key() < svc.key():
                    self._runq_tickle(nxt)
                else:
                    self.tickle(svc.vcpu.processor)  # new budget: recompute its slice
            elif self._on_q(svc):
                self._q_remove(svc)
                self._runq_insert(svc)
                self._runq_tickle(svc)
        self._arm_repl_timer()

    # -- wake and sleep ---------------------------------------------------------------------------------
    def wake(self, v) -> None:
        svc = v.sched_priv
        if v.is_running or self._on_q(svc):
            return
        now = self.machine.now
        if now >= svc.cur_deadline:
            self._update_deadline(now, svc)
        self._replq_insert(svc)
        self._runq_insert(svc)
        if not svc.depleted:
            self._runq_tickle(svc)

    def sleep(self, v) -> None:
        svc = v.sched_priv
        if v.is_running:
            self.tickle(v.processor)                 # off the replenishment queue once descheduled
        else:
            self._q_remove(svc)
            self._replq_remove(svc)

    # -- parameters --------------------------------------------------------------------------------------
    @staticmethod
    def _check(p: dict) -> bool:
        """putvcpuinfo's rule: period and budget at least 10 us, budget <= period (all in us)."""
        for k in ("period", "budget"):
            if not isinstance(p.get(k), int) or isinstance(p.get(k), bool):
                return False
        if p["period"] * MICROSECS < RTDS_MIN_PERIOD or p["budget"] * MICROSECS < RTDS_MIN_BUDGET:
            return False
        if p["budget"] > p["period"]:
            return False
        return p.get("extratime", 0) in (0, 1, True, False)

    def adjust(self, d, params: dict) -> int:
        """putinfo {period, budget[, extratime]} for every vcpu, or putvcpuinfo {vcpus: [...]}; us."""
        if "vcpus" in params:
            if set(params) != {"vcpus"} or not isinstance(params["vcpus"], (list, tuple)):
                return -E.EINVAL
            items = []
            for p in params["vcpus"]:
                vid = p.get("vcpuid") if isinstance(p, dict) else None
                if not isinstance(vid, int) or not 0 <= vid < len(d.vcpus):
                    return -E.EINVAL
                if set(p) - {"vcpuid", *PARAM_KEYS} or not self._check(p):
                    return -E.EINVAL
                items.append((d.vcpus[vid].sched_priv, p))
        else:
            if set(params) - set(PARAM_KEYS):
                return -E.EINVAL
            cur = d.vcpus[0].sched_priv.params() if d.vcpus else {}
            p = {k: params.get(k, cur.get(k)) for k in PARAM_KEYS}
            if not self._check(p):
                return -E.EINVAL
            items = [(v.sched_priv, p) for v in d.vcpus]
        for svc, p in items:                           # all checked: now apply
            svc.period = p["period"] * MICROSECS
            svc.budget = p["budget"] * MICROSECS
            if "extratime" in p:
                svc.extratime = bool(p["extratime"])
        return 0

    def get_params(self, d) -> dict:
        vcpus = [v.sched_priv.params() for v in d.vcpus]
        first = vcpus[0] if vcpus else {"period": RTDS_DEFAULT_PERIOD // MICROSECS,
                                        "budget": RTDS_DEFAULT_BUDGET // MICROSECS, "extratime": 1}
        return {"period": first["period"], "budget": first["budget"], "extratime": first["extratime"],
                "vcpus": vcpus}

    def share_pools(self, domains) -> list:
        """budget/period of each vcpu reserved; the spare time shared equally by extratime vcpus."""
        from xenlab.xen.sched import SharePool
        ncpu = len(self.machine.cpus)
        res, extra = {}, {}
        for d in domains:
            units = [v.sched_priv for v in d.vcpus]
            res[d.domain_id] = sum(u.budget / u.period for u in units)
            extra[d.domain_id] = sum(1 for u in units if u.extratime)
        return [SharePool(float(ncpu), res, extra, {d.domain_id: float(min(len(d.vcpus), ncpu)) for d in domains},
                          {d.domain_id: len(d.vcpus) for d in domains})]

    def promised_shares(self, domains) -> dict:
        """sum of budget/period over a domain's vcpus, plus spare time shared among extratime vcpus."""
        ncpu = len(self.machine.cpus)
        res, extra = {}, {}
        for d in domains:
            units = [v.sched_priv for v in d.vcpus]
            res[d.domain_id] = sum(u.budget / u.period for u in units)
            n = sum(1 for u in units if u.extratime)
            if n:
                extra[d.domain_id] = n
        slack = max(0.0, ncpu - sum(res.values()))
        total = sum(extra.values())
        for i, n in extra.items():
            res[i] += slack * n / total
        return {d.domain_id: min(float(min(len(d.vcpus), ncpu)), res[d.domain_id]) for d in domains}

    def dump(self) -> str:
        lines = [f"Scheduler: {self.name} (rtds)"]
        for cpu in range(len(self.machine.cpus)):
            cur = self.curr(cpu)
            lines.append(f"  cpu{cpu}: running {'idle' if cur.is_idle else repr(cur.sched_priv)}")
        for name, q in (("RunQueue", self.runq), ("DepletedQueue", self.depletedq), ("ReplQueue", self.replq)):
            lines.append(f"  {name}: " + (" ".join(s.vcpu.label for s in q) or "-"))
        return "\n".join(lines)
