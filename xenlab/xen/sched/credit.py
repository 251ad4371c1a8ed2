"""The Credit scheduler (X@3.0.4-branched:xen/common/sched_credit.c), Xen's default from 3.0.3.

A proportional fair-share scheduler built to be work-conserving on SMP hosts. Each domain has a
**weight** (default 256: a domain with 512 gets twice the CPU of one with 256 when they compete) and
a **cap** (percent of one pCPU it may use even on an idle host; 0 = no cap).

Theory of operation
- Every 10 ms tick takes 100 credits from the vcpu running on that pCPU. A vcpu found running by a
  tick joins its domain's *active* list (and the domain joins the active domains).
- Every 3 ticks (30 ms) the master pCPU does the accounting: the system's credit for one period,
  300 per pCPU, is shared among the active domains in proportion to their weights, limited by a
  domain's peak (300 per active vcpu) and its cap; what a domain cannot use goes to the others.
  After the deposit a vcpu with credit < 0 is OVER, with credit >= 0 UNDER. A capped domain far in
  debt is *parked* (paused) until its credit is positive again; a vcpu above +300 stops earning.
- Each pCPU's run queue is ordered BOOST > UNDER > OVER, FIFO inside a priority. ``do_schedule``
  puts the current vcpu back, takes the head and gives it a 30 ms slice. If the head is only OVER
  (or nothing), it first looks at its peers and *steals* a waiting vcpu of strictly higher priority.
- A vcpu that wakes while UNDER (and not parked) is BOOSTed: it preempts a running UNDER/OVER vcpu
  at once, which is what makes I/O-bound domains responsive. The next tick that finds it running
  drops it back to UNDER.

Where modern Xen (X@master:xen/common/sched/credit.c) differs
- Credit is burnt continuously (10 credits per ms actually run), not 100 per tick found running.
- A vcpu above the peak has its credit halved instead of reset to 0; ``sched_ratelimit_us``
  (default 1000) stops a vcpu from being preempted before it has run that long.
- The slice (``tslice_ms``) is tunable (1-1000 ms), the tick is a third of it, a yield flag lets a
  yielding vcpu step behind its peers, and migration takes cache-affinity and SMT into account.

Simplifications
- The accounting's "negative balance" term is modelled as the sum of the active vcpus' credit
  after the previous accounting (when it is negative, the next deposit is bigger by that much).
- Locks and ``trylock`` do not exist here: stealing always gets the peer's run queue.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.xen.public import errno as E
from xenlab.xen.sched import (  # noqa: F401 (water_fill: credit2)
    Scheduler,
    SharePool,
    TaskSlice,
    register_scheduler,
    water_fill,
)

MILLISECS = 1_000_000

CSCHED_DEFAULT_WEIGHT = 256
CSCHED_MSECS_PER_TICK = 10
CSCHED_TICKS_PER_TSLICE = 3
CSCHED_TICKS_PER_ACCT = 3
CSCHED_CREDITS_PER_TICK = 100
CSCHED_CREDITS_PER_TSLICE = CSCHED_CREDITS_PER_TICK * CSCHED_TICKS_PER_TSLICE    # 300
CSCHED_CREDITS_PER_ACCT = CSCHED_CREDITS_PER_TICK * CSCHED_TICKS_PER_ACCT        # 300
CSCHED_TSLICE_NS = CSCHED_MSECS_PER_TICK * CSCHED_TICKS_PER_TSLICE * MILLISECS   # 30 ms

CSCHED_PRI_TS_BOOST = 0
CSCHED_PRI_TS_UNDER = -1
CSCHED_PRI_TS_OVER = -2
CSCHED_PRI_IDLE = -64
PRI_NAMES = {CSCHED_PRI_TS_BOOST: "BOOST", CSCHED_PRI_TS_UNDER: "UNDER", CSCHED_PRI_TS_OVER: "OVER",
             CSCHED_PRI_IDLE: "IDLE"}


def _div_up(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(eq=False)
class CschedDom:
    """struct csched_dom."""
    domid: int
    weight: int = CSCHED_DEFAULT_WEIGHT
    cap: int = 0                                   # % of one pCPU, 0 = none
    active_vcpus: list = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<csched_dom d{self.domid} weight={self.weight} cap={self.cap} active={len(self.active_vcpus)}>"


@dataclass(eq=False)
class CschedVcpu:
    """struct csched_vcpu."""
    vcpu: object
    sdom: CschedDom
    credit: int = 0
    pri: int = CSCHED_PRI_TS_UNDER
    parked: bool = False
    active: bool = False

    def __repr__(self) -> str:
        park = " parked" if self.parked else ""
        return f"<csched_vcpu {self.vcpu.label} {PRI_NAMES[self.pri]} credit={self.credit}{park}>"


@dataclass(eq=False)
class CschedPcpu:
    """struct csched_pcpu: the run queue of one pCPU."""
    runq: list = field(default_factory=list)
    runq_sort_last: int = 0
    tick: int = 0


@register_scheduler
class Credit(Scheduler):
    name = "SMP Credit Scheduler"
    opt_name = "credit"
    sched_id = 5                      # XEN_SCHEDULER_CREDIT
    tick_period_ns = CSCHED_MSECS_PER_TICK * MILLISECS

    def __init__(self, machine):
        super().__init__(machine)
        ncpus = len(machine.cpus)
        self.credit = CSCHED_CREDITS_PER_ACCT * ncpus   # the system's credit per accounting period
        self.active_sdom: list[CschedDom] = []
        self.weight_total = 0
        self.credit_balance = 0
        self.runq_sort = 0
        self.master = 0
        self.acct_count = 0

    # -- private data ------------------------------------------------------------------------------------
    def alloc_pdata(self, cpu: int) -> CschedPcpu:
        return CschedPcpu()

    def alloc_ddata(self, d) -> CschedDom:
        return CschedDom(d.domain_id)

    def alloc_vdata(self, v) -> CschedVcpu:
        return CschedVcpu(v, self.ddata(v.domain))

    def insert_vcpu(self, v) -> None:
        v.processor = self.pick_cpu(v)

    def remove_vcpu(self, v) -> None:
        svc = v.sched_priv
        self._runq_remove(svc)
        if svc.active:
            self._deactivate(svc)

    # -- the run queue ------------------------------------------------------------------------------------
    def _runq(self, cpu: int) -> list:
        return self.pdata[cpu].runq

    def _on_runq(self, svc) -> bool:
        return svc in self._runq(svc.vcpu.processor)

    def _runq_insert(self, cpu: int, svc: CschedVcpu) -> None:
        """After every vcpu of the same or higher priority (FIFO inside one priority)."""
        q = self._runq(cpu)
        i = len(q)
        for n, other in enumerate(q):
            if svc.pri > other.pri:
                i = n
                break
        q.insert(i, svc)

    def _runq_remove(self, svc) -> None:
        for pdata in self.pdata:
            if svc in pdata.runq:
                pdata.runq.remove(svc)

    def _pri_of(self, v) -> int:
        return CSCHED_PRI_IDLE if v.is_idle else v.sched_priv.pri

    def _tickle(self, cpu: int, svc: CschedVcpu) -> None:
        """__runq_tickle: preempt ``cpu`` if the newcomer is better; wake idle pCPUs to come and steal."""
        cur_pri = self._pri_of(self.curr(cpu))
        if svc.pri > cur_pri:
            self.tickle(cpu)
        if cur_pri > CSCHED_PRI_IDLE:
            for other in self.allowed_cpus(svc.vcpu):
                if other != cpu and self.curr(other).is_idle:
                    self.tickle(other)

    # -- active vcpus and domains -------------------------------------------------------------------------
    def _activate(self, svc: CschedVcpu) -> None:
        sdom = svc.sdom
        svc.active = True
        # __csched_vcpu_acct_start uses list_add: the newcomer goes to the HEAD of both lists
        # (X@3.0.4-branched:xen/common/sched_credit.c:497-501), so csched_acct visits it first.
        if not sdom.active_vcpus:
            self.active_sdom.insert(0, sdom)
            self.weight_total += sdom.weight
        sdom.active_vcpus.insert(0, svc)

    def _deactivate(self, svc: CschedVcpu) -> None:
        sdom = svc.sdom
        svc.active = False
        sdom.active_vcpus.remove(svc)
        if not sdom.active_vcpus:
            self.active_sdom.remove(sdom)
            self.weight_total -= sdom.weight

    # -- state changes --------------------------------------------------------------------------------------
    def wake(self, v) -> None:
        svc = v.sched_priv
        if v.is_running or self._on_runq(svc):
            return
        if v.processor not in self.allowed_cpus(v):
            v.processor = self.pick_cpu(v)
        # An UNDER vcpu waking from a block is probably doing I/O: let it go first (3.0.4's BOOST).
        if svc.pri == CSCHED_PRI_TS_UNDER and not svc.parked:
            svc.pri = CSCHED_PRI_TS_BOOST
        self._runq_insert(v.processor, svc)
        self._tickle(v.processor, svc)

    def sleep(self, v) -> None:
        svc = v.sched_priv
        if v.is_running:
            self.tickle(v.processor)
        elif self._on_runq(svc):
            self._runq(v.processor).remove(svc)

    # -- the tick and the accounting ------------------------------------------------------------------------
    def tick(self, cpu: int) -> None:
        """csched_tick: burn the running vcpu's credit; the master pCPU does the accounting."""
        pdata = self.pdata[cpu]
        pdata.tick += 1
        cur = self.curr(cpu)
        if not cur.is_idle:
            self._vcpu_acct(cur.sched_priv)
        if cpu == self.master and pdata.tick % CSCHED_TICKS_PER_ACCT == 0:
            self.acct()
        self._runq_sort(cpu)

    def _vcpu_acct(self, svc: CschedVcpu) -> None:
        if svc.pri == CSCHED_PRI_TS_BOOST:        # it runs for a whole tick: no longer an I/O burst
            svc.pri = CSCHED_PRI_TS_UNDER
        if not svc.active:
            self._activate(svc)
        svc.credit -= CSCHED_CREDITS_PER_TICK

    def acct(self) -> None:
        """csched_acct: share the period's credit among the active domains by weight."""
        self.acct_count += 1
        if self.weight_total == 0:
            # Nobody is active: the balance is forgotten, not carried into a later period (sched_credit.c:850-856).
            self.credit_balance = 0
            return
        weight_total = self.weight_total
        credit_total = self.credit
        if self.credit_balance < 0:             # converge a negative balance towards 0
            credit_total -= self.credit_balance
        weight_left = weight_total
        credit_balance = 0
        credit_xtra = False
        trace = self.machine.trace
        for sdom in list(self.active_sdom):
            nvcpus = len(sdom.active_vcpus)
            weight_left -= sdom.weight
            credit_peak = nvcpus * CSCHED_CREDITS_PER_ACCT
            if self.credit_balance < 0:
                credit_peak += _div_up(-self.credit_balance * sdom.weight, weight_total)
            credit_cap = 0
            if sdom.cap:
                credit_cap = _div_up(sdom.cap * CSCHED_CREDITS_PER_ACCT, 100)
                credit_peak = min(credit_peak, credit_cap)
                credit_cap = _div_up(credit_cap, nvcpus)          # per vcpu
            credit_fair = _div_up(credit_total * sdom.weight, weight_total)
            if credit_fair < credit_peak:
                credit_xtra = True
            else:
                if weight_left:
                    # Give the excess to the domains still to come, in proportion to their weights.
                    credit_total += _div_up((credit_fair - credit_peak) * weight_total, weight_left)
                if credit_xtra:
                    # Handle peaked domains first next time, so their excess reaches everyone.
                    self.active_sdom.remove(sdom)
                    self.active_sdom.insert(0, sdom)
                credit_fair = credit_peak
            credit_fair = _div_up(credit_fair, nvcpus)             # per vcpu
            for svc in list(sdom.active_vcpus):
                credit_balance += self._deposit(svc, credit_fair, credit_cap)
            if trace.active:
                trace.emit("SCHED", "credit_acct", domid=sdom.domid, weight=sdom.weight, cap=sdom.cap,
                           credit_fair=credit_fair, credits=[s.credit for s in sdom.active_vcpus])
        self.credit_balance = credit_balance
        self.runq_sort += 1

    def _deposit(self, svc: CschedVcpu, credit_fair: int, credit_cap: int) -> int:
        credit = svc.credit + credit_fair
        if credit < 0:
            svc.pri = CSCHED_PRI_TS_OVER
            if svc.sdom.cap and credit < -credit_cap and not svc.parked:
                self._park(svc)
            credit = max(credit, -CSCHED_CREDITS_PER_TSLICE)
        else:
            svc.pri = CSCHED_PRI_TS_UNDER
            if svc.parked:
                self._unpark(svc)
            if credit > CSCHED_CREDITS_PER_TSLICE:
                # It does not use what it is given: stop earning (modern Xen halves instead).
                self._deactivate(svc)
                credit = 0
        svc.credit = credit
        return credit

    def _park(self, svc: CschedVcpu) -> None:
        """A capped domain over its cap: pause the vcpu until its credit is positive again."""
        from xenlab.xen.schedule import vcpu_sleep_nosync
        v = svc.vcpu
        svc.parked = True
        v.pause_count += 1
        vcpu_sleep_nosync(self.machine, v)
        self.machine.trace.emit("SCHED", "park", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                                credit=svc.credit)

    def _unpark(self, svc: CschedVcpu) -> None:
        from xenlab.xen.schedule import vcpu_wake
        v = svc.vcpu
        v.pause_count -= 1
        if v.pause_count == 0:
            vcpu_wake(self.machine, v)              # still flagged parked: no BOOST for this wake
        svc.parked = False
        self.machine.trace.emit("SCHED", "unpark", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor)

    def _runq_sort(self, cpu: int) -> None:
        """csched_runq_sort: once per accounting period, move every UNDER (or BOOST) vcpu ahead of the OVER
        ones, keeping the order inside each group: BOOST is NOT moved ahead of UNDER here
        (X@3.0.4-branched:xen/common/sched_credit.c:777-816 tests ``pri >= CSCHED_PRI_TS_UNDER``)."""
        pdata = self.pdata[cpu]
        if pdata.runq_sort_last == self.runq_sort:
            return
        pdata.runq_sort_last = self.runq_sort
        pdata.runq.sort(key=lambda s: 0 if s.pri >= CSCHED_PRI_TS_UNDER else 1)   # stable

    # -- the decision ------------------------------------------------------------------------------------------
    def do_schedule(self, cpu: int, now: int) -> TaskSlice:
        prev = self.curr(cpu)
        if not prev.is_idle and prev.runnable():
            self._runq_insert(cpu, prev.sched_priv)
        q = self._runq(cpu)
        snext = q[0] if q else None
        pri = snext.pri if snext is not None else CSCHED_PRI_IDLE
        reason = f"head of cpu{cpu}'s run queue"
        if pri <= CSCHED_PRI_TS_OVER:
            stolen = self._load_balance(cpu, pri)
            if stolen is not None:
                snext, reason = stolen
        if snext is None:
            return TaskSlice(self.idle_vcpu(cpu), CSCHED_TSLICE_NS, "nothing runnable here or to steal",
                             {"pri": "IDLE"})
        if snext in q:
            q.remove(snext)
        info = {"pri": PRI_NAMES[snext.pri], "credit": snext.credit}
        return TaskSlice(snext.vcpu, CSCHED_TSLICE_NS, f"{PRI_NAMES[snext.pri]}, {reason}", info)

    def _load_balance(self, cpu: int, pri: int):
        """csched_load_balance: visit busy peers from the neighbour on; steal a better waiting vcpu."""
        ncpus = len(self.machine.cpus)
        for step in range(1, ncpus):
            peer = (cpu + step) % ncpus
            if self.curr(peer).is_idle:
                continue                                  # an idle peer has nothing queued
            for svc in self._runq(peer):
                if svc.pri <= pri:
                    break                                 # sorted: nothing better further on
                v = svc.vcpu
                if not v.is_running and cpu in self.allowed_cpus(v):
                    self._runq(peer).remove(svc)
                    v.processor = cpu
                    self.machine.trace.emit("SCHED", "steal", domid=v.domid, vcpu=v.vcpu_id, pcpu=cpu,
                                            peer=peer, pri=PRI_NAMES[svc.pri])
                    return svc, f"stolen from cpu{peer}"
        return None

    # -- parameters ------------------------------------------------------------------------------------------------
    def adjust(self, d, params: dict) -> int:
        """csched_dom_cntl putinfo: weight 0 or cap 0xFFFF leave the value unchanged."""
        weight = params.get("weight", 0)
        cap = params.get("cap", 0xFFFF)
        for value in (weight, cap):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFF:
                return -E.EINVAL
        unknown = set(params) - {"weight", "cap"}
        if unknown:
            return -E.EINVAL
        sdom = self.ddata(d)
        if weight:
            if sdom.active_vcpus:
                self.weight_total += weight - sdom.weight
            sdom.weight = weight
        if cap != 0xFFFF:
            sdom.cap = cap
        return 0

    def get_params(self, d) -> dict:
        sdom = self.ddata(d)
        return {"weight": sdom.weight, "cap": sdom.cap}

    def share_pools(self, domains) -> list:
        """One pool of all pCPUs, by weight, each domain limited by its vcpus and its cap (water-filling)."""
        ncpu = len(self.machine.cpus)
        limit = {}
        for d in domains:
            sdom = self.ddata(d)
            lim = float(min(len(d.vcpus), ncpu))
            if sdom.cap:
                lim = min(lim, sdom.cap / 100)
            limit[d.domain_id] = lim
        weights = {d.domain_id: self.ddata(d).weight for d in domains}
        return [SharePool(float(ncpu), {}, weights, limit, {d.domain_id: len(d.vcpus) for d in domains})]

    def dump(self) -> str:
        lines = [f"Scheduler: {self.name} (credit)",
                 f"  credit={self.credit} weight_total={self.weight_total} acct={self.acct_count} "
                 f"balance={self.credit_balance}",
                 "  active domains: " + (" ".join(f"d{s.domid}(w{s.weight},c{s.cap})"
                                                   for s in self.active_sdom) or "-")]
        for cpu, pdata in enumerate(self.pdata):
            cur = self.curr(cpu)
            now = "idle" if cur.is_idle else f"{cur.label} {PRI_NAMES[cur.sched_priv.pri]} {cur.sched_priv.credit}"
            lines.append(f"  cpu{cpu}: running {now}; runq: "
                         + (" ".join(f"{s.vcpu.label}:{PRI_NAMES[s.pri]}:{s.credit}" for s in pdata.runq) or "-"))
        return "\n".join(lines)
