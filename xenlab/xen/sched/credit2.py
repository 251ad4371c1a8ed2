"""The Credit2 scheduler (X@master:xen/common/sched/credit2.c), Xen's default from 4.12.

Credit's successor, written for latency and fairness rather than ticks. Each domain has a **weight**
(default 256) and an optional **cap** (percent of one pCPU; 0 = none). Credit is measured in ns of
CPU time, not in abstract units, and there is no accounting period.

Theory of operation
- Every unit (vcpu) starts with ``CSCHED2_CREDIT_INIT`` = 10 ms of credit. While it runs it *burns*
  credit at ``max_weight / weight`` credits per ns, where ``max_weight`` is the heaviest weight on the
  run queue: the heaviest unit burns 1 per ns, a unit with half that weight burns 2 per ns.
- The run queue (one per socket; the model has one socket, so one queue shared by all pCPUs) is
  sorted by credit, highest first. ``do_schedule`` runs the unit with the most credit: the current
  one keeps the pCPU unless the head of the queue has more (a unit last run on another pCPU must
  have ``migrate_resist`` = 500 us more, to keep caches warm).
- **Reset**: when the unit about to run has credit <= 0, every unit on the run queue (running,
  waiting or blocked) gets ``CREDIT_INIT`` more, and nobody keeps more than ``CREDIT_INIT +
  CARRYOVER_MAX`` (carryover max = ``MIN_TIMER`` = 500 us). Sleepers therefore wake with more credit
  than the CPU hogs and run first: that is how Credit2 favours interactive domains without BOOST.
- The slice is the time until the runner's credit falls to the next waiting unit's credit, never
  below ``MIN_TIMER`` (500 us) nor above ``MAX_TIMER`` (10 ms), and never cutting a unit off before
  it has run ``sched_ratelimit_us`` (1000 us).
- A waking unit goes to an idle pCPU if there is one, otherwise preempts the runner with the least
  credit if it has more (less ``migrate_resist`` when that pCPU is not its own).
- **Cap**: a capped domain gets ``cap x 10 ms / 100`` of CPU budget every 10 ms
  (``CSCHED2_BDGT_REPL_PERIOD``); units of a domain without budget are not picked until the
  replenishment.

Simplifications
- One socket, so one run queue: no per-runqueue load tracking and no load balancing between queues.
- No soft affinity, no SMT awareness, no per-pCPU "tickled" bookkeeping beyond a set of pCPUs asked
  to reschedule (so two wake-ups in a row go to two different idle pCPUs).
- Cap: the domain's budget is one pool that its running units draw from directly (Xen hands out
  per-unit quotas from it and parks units that get none); two units running at once may overdraw it
  by up to one slice each, and the debt is paid from the next period's budget.
- ``reset_credit`` charges units running on other pCPUs for their time first, so every credit is
  current when the reset adds ``CREDIT_INIT``.

Where it departs from the rest of the model
- The parameters are the modern ones (``xl sched-credit2``, XEN_SCHEDULER_CREDIT2 6); Xen 3.x never
  had Credit2. ``sched_ctl({"ratelimit_us": n})`` accepts 0 (off) or 100-500000, as
  XEN_SYSCTL_SCHED_RATELIMIT_MIN/MAX.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.xen.public import errno as E
from xenlab.xen.sched import Scheduler, TaskSlice, register_scheduler
from xenlab.xen.sched.credit import water_fill
from xenlab.xen.timer import PRIO_TICK

MICROSECS = 1_000
MILLISECS = 1_000_000

CSCHED2_DEFAULT_WEIGHT = 256
CSCHED2_CREDIT_INIT = 10 * MILLISECS            # ns of credit a reset gives
CSCHED2_MIN_TIMER = 500 * MICROSECS              # shortest slice
CSCHED2_MAX_TIMER = CSCHED2_CREDIT_INIT          # longest slice (10 ms)
CSCHED2_CARRYOVER_MAX = CSCHED2_MIN_TIMER        # credit kept over a reset, beyond CREDIT_INIT
CSCHED2_MIGRATE_RESIST = 500 * MICROSECS         # extra credit needed to pull a unit from another pCPU
CSCHED2_BDGT_REPL_PERIOD = 10 * MILLISECS        # cap: budget replenishment period
CSCHED2_IDLE_CREDIT = -(1 << 30)                 # the idle unit's credit: anyone beats it
SCHED_DEFAULT_RATELIMIT_US = 1000                # sched_ratelimit_us
XEN_SYSCTL_SCHED_RATELIMIT_MAX = 500000          # H:sysctl.h
XEN_SYSCTL_SCHED_RATELIMIT_MIN = 100


@dataclass(eq=False)
class Csched2Dom:
    """struct csched2_dom."""
    domid: int
    weight: int = CSCHED2_DEFAULT_WEIGHT
    cap: int = 0                           # % of one pCPU, 0 = none
    budget: int = 0                        # ns of CPU left in this replenishment period (cap only)
    tot_budget: int = 0                    # ns per period: cap x 10 ms / 100
    nr_units: int = 0
    repl_timer: object = None

    def __repr__(self) -> str:
        cap = f" cap={self.cap} budget={self.budget / 1e3:.0f}us" if self.cap else ""
        return f"<csched2_dom d{self.domid} weight={self.weight}{cap}>"


@dataclass(eq=False)
class Csched2Unit:
    """struct csched2_unit."""
    vcpu: object
    sdom: Csched2Dom
    credit: int = CSCHED2_CREDIT_INIT      # ns
    start_time: int = 0                    # when its credit was last burnt (ns)
    yielded: bool = False

    @property
    def weight(self) -> int:
        return self.sdom.weight

    def __repr__(self) -> str:
        return f"<csched2_unit {self.vcpu.label} credit={self.credit / 1e3:.1f}us w={self.weight}>"


@dataclass(eq=False)
class Csched2Runqueue:
    """struct csched2_runqueue_data: the queue of waiting units and every unit assigned to it."""
    id: int = 0
    runq: list = field(default_factory=list)       # waiting units, credit descending
    svc: list = field(default_factory=list)        # all units of this run queue (also running, blocked)
    max_weight: int = 1
    resets: int = 0


@register_scheduler
class Credit2(Scheduler):
    name = "SMP Credit Scheduler rev2"
    opt_name = "credit2"
    sched_id = 6                                  # XEN_SCHEDULER_CREDIT2

    def __init__(self, machine):
        super().__init__(machine)
        self.rqd = Csched2Runqueue(0)             # one socket: one run queue
        self.ratelimit_us = SCHED_DEFAULT_RATELIMIT_US
        self.tickled: set[int] = set()            # pCPUs asked to reschedule, not yet done

    # -- private data ---------------------------------------------------------------------------------
    def alloc_ddata(self, d) -> Csched2Dom:
        return Csched2Dom(d.domain_id)

    def alloc_vdata(self, v) -> Csched2Unit:
        return Csched2Unit(v, self.ddata(v.domain), start_time=self.machine.now)

    def insert_vcpu(self, v) -> None:
        v.processor = self.pick_cpu(v)
        svc = v.sched_priv
        svc.sdom.nr_units += 1
        self.rqd.svc.append(svc)
        self._update_max_weight()

    def remove_vcpu(self, v) -> None:
        svc = v.sched_priv
        if svc in self.rqd.runq:
            self.rqd.runq.remove(svc)
        if svc in self.rqd.svc:
            self.rqd.svc.remove(svc)
            svc.sdom.nr_units -= 1
            if svc.sdom.nr_units == 0 and svc.sdom.repl_timer is not None:
                self.machine.timers.stop_timer(svc.sdom.repl_timer)
        self._update_max_weight()

    def _update_max_weight(self) -> None:
        self.rqd.max_weight = max((s.weight for s in self.rqd.svc), default=1)

    # -- credit <-> time ------------------------------------------------------------------------------
    def t2c(self, time_ns: int, svc: Csched2Unit) -> int:
        """Credit burnt by running ``time_ns``: scaled by max_weight / weight."""
        return time_ns * self.rqd.max_weight // svc.weight

    def c2t(self, credit: int, svc: Csched2Unit) -> int:
        """Time it takes ``svc`` to burn ``credit``."""
        return credit * svc.weight // self.rqd.max_weight

    def _burn_credits(self, svc: Csched2Unit, now: int) -> None:
        delta = now - svc.start_time
        if delta <= 0:
            return
        svc.credit -= self.t2c(delta, svc)
        svc.start_time = now
        if svc.sdom.cap:
            svc.sdom.budget -= delta

    def _credit_of(self, v) -> int:
        return CSCHED2_IDLE_CREDIT if v.is_idle else v.sched_priv.credit

    @staticmethod
    def _has_budget(svc: Csched2Unit) -> bool:
        return not svc.sdom.cap or svc.sdom.budget > 0

    # -- the run queue --------------------------------------------------------------------------------
    def _runq_insert(self, svc: Csched2Unit) -> None:
        """Credit descending; after every unit with the same credit."""
        q = self.rqd.runq
        i = next((n for n, other in enumerate(q) if svc.credit > other.credit), len(q))
        q.insert(i, svc)

    def _tickle(self, cpu: int) -> None:
        self.tickled.add(cpu)
        self.tickle(cpu)

    def _runq_tickle(self, new: Csched2Unit, now: int, skip: int | None = None) -> None:
        """An idle pCPU (its own first), else the runner it beats by the most credit (tickle_score)."""
        allowed = [c for c in self.allowed_cpus(new.vcpu) if c != skip]
        own = new.vcpu.processor
        for c in ([own] if own in allowed else []) + allowed:
            if self.curr(c).is_idle and c not in self.tickled:
                self._tickle(c)
                return
        if skip is not None:
            return                          # a preempted unit only looks for idle pCPUs
        best, ipid = 0, None
        for c in allowed:
            cur = self.curr(c)
            if c in self.tickled or cur.is_idle:
                continue
            self._burn_credits(cur.sched_priv, now)
            score = new.credit - cur.sched_priv.credit
            if c != own:
                score -= CSCHED2_MIGRATE_RESIST
            if score > best:
                best, ipid = score, c
        if ipid is not None:
            self._tickle(ipid)

    # -- state changes --------------------------------------------------------------------------------
    def wake(self, v) -> None:
        svc = v.sched_priv
        if v.is_running or svc in self.rqd.runq:
            return
        if v.processor not in self.allowed_cpus(v):
            v.processor = self.pick_cpu(v)
        svc.start_time = self.machine.now
        self._runq_insert(svc)
        self._runq_tickle(svc, self.machine.now)

    def sleep(self, v) -> None:
        svc = v.sched_priv
        if v.is_running:
            self.tickle(v.processor)
        elif svc in self.rqd.runq:
            self.rqd.runq.remove(svc)

    def yield_(self, v) -> None:
        v.sched_priv.yielded = True

    # -- the decision ----------------------------------------------------------------------------------
    def do_schedule(self, cpu: int, now: int) -> TaskSlice:
        self.tickled.discard(cpu)
        prev = self.curr(cpu)
        scurr = None if prev.is_idle else prev.sched_priv
        if scurr is not None:
            self._burn_credits(scurr, now)
        yielded = scurr is not None and scurr.yielded
        if scurr is not None:
            scurr.yielded = False
        runnable = scurr is not None and prev.runnable() and self._has_budget(scurr)
        snext, reason = self._runq_candidate(cpu, scurr if runnable else None, yielded, now)
        reset = False
        if snext is not None and snext.credit <= 0:
            self._reset_credit(now, snext)
            reset = True
        if scurr is not None and snext is not scurr and prev.runnable():
            self._runq_insert(scurr)
            self._runq_tickle(scurr, now, skip=cpu)
        if snext is None:
            return TaskSlice(self.idle_vcpu(cpu), -1, "nothing with credit and budget to run",
                             {"credit": None})
        if snext is not scurr:
            self.rqd.runq.remove(snext)
            snext.vcpu.processor = cpu
        snext.start_time = now
        time = self._runtime(cpu, snext, now)
        info = {"credit": snext.credit, "weight": snext.weight, "max_weight": self.rqd.max_weight}
        if reset:
            info["reset"] = self.rqd.resets
            reason += "; credit <= 0: reset"
        return TaskSlice(snext.vcpu, time, reason, info)

    def _runq_candidate(self, cpu: int, scurr, yielded: bool, now: int):
        """(unit, why): the current unit, or the best waiting one if it has more credit."""
        if (scurr is not None and not yielded and self.ratelimit_us
                and now - scurr.vcpu.state_entry_time < self.ratelimit_us * MICROSECS):
            return scurr, f"ratelimit: ran < {self.ratelimit_us}us"
        best_credit = scurr.credit if scurr is not None else CSCHED2_IDLE_CREDIT
        for svc in self.rqd.runq:
            if cpu not in self.allowed_cpus(svc.vcpu):
                continue
            if svc.vcpu.processor != cpu and best_credit + CSCHED2_MIGRATE_RESIST > svc.credit:
                continue                      # not worth pulling it from its pCPU's cache
            if not self._has_budget(svc):
                continue                      # capped and out of budget until the replenishment
            if yielded or svc.credit > best_credit:
                why = "current yielded" if yielded and scurr is not None else "most credit on the run queue"
                return svc, why
            break                             # sorted: nobody further on has more credit
        if scurr is not None:
            return scurr, "current still has the most credit"
        return None, ""

    def _reset_credit(self, now: int, snext: Csched2Unit) -> None:
        """Everyone on the run queue gets CREDIT_INIT (m times, if snext is deep in debt), clipped."""
        m = 1
        if snext.credit < -CSCHED2_CREDIT_INIT:
            m += -snext.credit // CSCHED2_CREDIT_INIT
        before = [svc.credit for svc in self.rqd.svc] if self.machine.trace.active else None
        for svc in self.rqd.svc:
            if svc.vcpu.is_running and svc is not snext:
                self._burn_credits(svc, now)
            svc.credit = min(svc.credit + m * CSCHED2_CREDIT_INIT, CSCHED2_CREDIT_INIT + CSCHED2_CARRYOVER_MAX)
            svc.start_time = now
        self.rqd.resets += 1
        if before is not None:
            self.machine.trace.emit("SCHED", "credit2_reset", domid=snext.vcpu.domid, vcpu=snext.vcpu.vcpu_id,
                                    m=m, units=[s.vcpu.label for s in self.rqd.svc], before=before,
                                    after=[s.credit for s in self.rqd.svc])

    def _runtime(self, cpu: int, snext: Csched2Unit, now: int) -> int:
        """csched2_runtime: until snext's credit meets the next waiting unit's, within the limits."""
        rt_credit = snext.credit
        waiting = [s for s in self.rqd.runq if s is not snext]
        if waiting and waiting[0].credit > 0:
            rt_credit = snext.credit - waiting[0].credit
        time = self.c2t(rt_credit, snext) if rt_credit > 0 else 0
        if self.ratelimit_us:
            ratelimit_min = self.ratelimit_us * MICROSECS
            if snext.vcpu.is_running:
                ratelimit_min = snext.vcpu.state_entry_time + ratelimit_min - now
            time = max(time, ratelimit_min)
        time = min(max(time, CSCHED2_MIN_TIMER), CSCHED2_MAX_TIMER)
        if snext.sdom.cap:
            time = min(time, max(snext.sdom.budget, 1))   # never past the domain's budget
        return time

    # -- cap: budget replenishment --------------------------------------------------------------------
    def _replenish(self, domid: int) -> None:
        """replenish_domain_budget: add one period's budget (debt is paid first), wake who waited."""
        d = self.machine.domains.get(domid)
        if d is None:
            return
        sdom = self.ddata(d)
        if not sdom.cap:
            return
        now = self.machine.now
        for svc in self.rqd.svc:                       # charge the running units up to now
            if svc.sdom is sdom and svc.vcpu.is_running:
                self._burn_credits(svc, now)
        sdom.budget = min(sdom.budget + sdom.tot_budget, sdom.tot_budget)
        self.machine.timers.set_timer(sdom.repl_timer, now + CSCHED2_BDGT_REPL_PERIOD)
        for svc in list(self.rqd.runq):
            if svc.sdom is sdom:
                self._runq_tickle(svc, now)

    def _set_cap(self, d, sdom: Csched2Dom, cap: int) -> None:
        sdom.cap = cap
        timers = self.machine.timers
        if sdom.repl_timer is None:
            sdom.repl_timer = timers.init_timer(f"d{d.domain_id}.credit2_repl", self._replenish, d.domain_id,
                                                0, PRIO_TICK)
        if cap:
            sdom.tot_budget = sdom.budget = cap * CSCHED2_BDGT_REPL_PERIOD // 100
            timers.set_timer(sdom.repl_timer, self.machine.now + CSCHED2_BDGT_REPL_PERIOD)
        else:
            sdom.tot_budget = sdom.budget = 0
            timers.stop_timer(sdom.repl_timer)
            for svc in list(self.rqd.runq):            # units that waited for budget may run now
                if svc.sdom is sdom:
                    self._runq_tickle(svc, self.machine.now)

    # -- parameters -----------------------------------------------------------------------------------
    def adjust(self, d, params: dict) -> int:
        """csched2_dom_cntl putinfo: weight 0 = unchanged (1..65535); cap 0..100 x vcpus, 0 = none."""
        if set(params) - {"weight", "cap"}:
            return -E.EINVAL
        for value in params.values():
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFF:
                return -E.EINVAL
        sdom = self.ddata(d)
        if "cap" in params and params["cap"] > 100 * max(1, len(d.vcpus)):
            return -E.EINVAL
        if params.get("weight"):
            sdom.weight = params["weight"]
            self._update_max_weight()
        if "cap" in params and params["cap"] != sdom.cap:
            self._set_cap(d, sdom, params["cap"])
        return 0

    def get_params(self, d) -> dict:
        sdom = self.ddata(d)
        return {"weight": sdom.weight, "cap": sdom.cap}

    def sched_ctl(self, params: dict) -> int:
        """XEN_SYSCTL_SCHEDOP_putinfo: ratelimit_us, 0 (off) or 100..500000."""
        if set(params) - {"ratelimit_us"}:
            return -E.EINVAL
        if "ratelimit_us" in params:
            r = params["ratelimit_us"]
            if not isinstance(r, int) or isinstance(r, bool) or (
                    r and not XEN_SYSCTL_SCHED_RATELIMIT_MIN <= r <= XEN_SYSCTL_SCHED_RATELIMIT_MAX):
                return -E.EINVAL
            self.ratelimit_us = r
        return 0

    def get_ctl(self) -> dict:
        return {"ratelimit_us": self.ratelimit_us}

    def share_pools(self, domains) -> list:
        """As Credit: one pool of all pCPUs by weight, limited by vcpus and caps (sched.promise)."""
        from xenlab.xen.sched import SharePool
        ncpu = len(self.machine.cpus)
        limit = {}
        for d in domains:
            sdom = self.ddata(d)
            lim = float(min(len(d.vcpus), ncpu))
            limit[d.domain_id] = min(lim, sdom.cap / 100) if sdom.cap else lim
        return [SharePool(float(ncpu), {}, {d.domain_id: self.ddata(d).weight for d in domains}, limit,
                          {d.domain_id: len(d.vcpus) for d in domains})]

    def promised_shares(self, domains) -> dict:
        """Weight shares of all pCPUs, limited by vcpus and caps (water-filling, as for Credit)."""
        ncpu = len(self.machine.cpus)
        limit = {}
        for d in domains:
            sdom = self.ddata(d)
            lim = float(min(len(d.vcpus), ncpu))
            limit[d.domain_id] = min(lim, sdom.cap / 100) if sdom.cap else lim
        return water_fill(float(ncpu), {d.domain_id: self.ddata(d).weight for d in domains}, limit)

    def dump(self) -> str:
        rqd = self.rqd
        lines = [f"Scheduler: {self.name} (credit2)",
                 f"  ratelimit={self.ratelimit_us}us runqueue 0: max_weight={rqd.max_weight} resets={rqd.resets}"]
        for cpu in range(len(self.machine.cpus)):
            cur = self.curr(cpu)
            now = "idle" if cur.is_idle else f"{cur.label} credit={cur.sched_priv.credit / 1e3:.1f}us"
            lines.append(f"  cpu{cpu}: running {now}")
        lines.append("  runq: " + (" ".join(f"{s.vcpu.label}:{s.credit / 1e3:.1f}us" for s in rqd.runq) or "-"))
        return "\n".join(lines)
