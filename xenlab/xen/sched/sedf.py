"""Simple EDF (X@RELEASE-3.0.0:xen/common/sched_sedf.c, Stephan Diestelhorst), Xen 3.0's default.

Atropos's successor. Each vcpu has a ``period`` (its relative deadline) and a ``slice`` (the time it
is guaranteed in every period), a ``latency`` hint, an ``extratime`` flag (EXTRA_AWARE: it may use
slack) and a ``weight``.

Queues (per pCPU)
- **runq**: vcpus whose period has started and that have slice left, by absolute deadline (EDF).
  The running EDF vcpu stays at its head.
- **waitq**: vcpus waiting for their next period, by period start (``deadl_abs - period``).
- **extraq[0]**, the *penalty* queue: vcpus that lost guaranteed time by blocking briefly, by score
  ``(period << 10) / time lost`` (the biggest loss relative to the period first).
- **extraq[1]**, the *utilisation* queue: every EXTRA_AWARE vcpu, by score; a vcpu that had an extra
  turn is charged ``(period << 10) / slice`` (or ``2**17 / extraweight``) and goes back behind.

Decisions
- The runq head runs until its slice is used or the next waitq vcpu's period begins.
- A vcpu whose slice is used moves to its next period (``deadl_abs += period``) on the waitq.
- With nothing on the runq, the slack until the next period start goes in ``EXTRA_QUANTUM``
  (500 us) turns to the penalty queue first, then to the utilisation queue; otherwise idle.
- Wake: before the period begins it is extra time only; within the period (short block) the rest
  of this period is forfeit, the loss goes to the penalty queue and the slice comes back at the
  next period; after the deadline (long block) a new period starts now.

Parameters (``adjust``): time-driven ``period``/``slice`` (slice > period: -EINVAL); ``weight`` with
``extratime`` and no period: an extratime-only domain with that extraweight; ``weight`` with a
period: real-time weighted, where ``sedf_adjust_weights`` sets period 100 ms and slice
``weight x (100 ms - 5 ms - time reserved by the others) / sum of weights``; period 0 and weight 0:
-EINVAL. Defaults: dom0 20 ms / 15 ms; every other domain best effort (period 100 ms, slice 0,
extraweight 1, extratime on).

Simplifications
- The latency hint is stored and reported but unused, as in the compiled 3.0 code (see the
  sedf_scheduler_mini-HOWTO).
- No migration between pCPUs (pick_cpu places a vcpu once).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.xen.public import errno as E
from xenlab.xen.sched import Scheduler, SharePool, TaskSlice, register_scheduler

MILLISECS = 1_000_000
MICROSECS = 1_000
SECONDS = 1_000_000_000

EXTRA_NONE = 0
EXTRA_AWARE = 1
EXTRA_RUN_PEN = 2
EXTRA_RUN_UTIL = 4
EXTRA_WANT_PEN_Q = 8
EXTRA_PEN_Q = 0
EXTRA_UTIL_Q = 1
SEDF_ASLEEP = 16

EXTRA_QUANTUM = 500 * MICROSECS
WEIGHT_PERIOD = 100 * MILLISECS
WEIGHT_SAFETY = 5 * MILLISECS


@dataclass(eq=False)
class SedfVcpu:
    """struct sedf_vcpu_info."""
    vcpu: object
    period: int = WEIGHT_PERIOD          # = relative deadline
    slice: int = 0                       # = worst-case execution time
    period_orig: int = WEIGHT_PERIOD
    slice_orig: int = 0
    latency: int = 0
    status: int = EXTRA_AWARE | SEDF_ASLEEP
    weight: int = 0
    extraweight: int = 1
    deadl_abs: int = 0
    sched_start_abs: int = 0
    cputime: int = 0
    block_abs: int = 0
    score: list = field(default_factory=lambda: [0, 0])
    short_block_lost_tot: int = 0
    extra_time_tot: int = 0

    @property
    def period_begin(self) -> int:
        return self.deadl_abs - self.period

    def runs_extra(self) -> int:
        return self.status & (EXTRA_RUN_PEN | EXTRA_RUN_UTIL)

    def __repr__(self) -> str:
        flags = "".join(n for b, n in ((EXTRA_AWARE, "x"), (EXTRA_WANT_PEN_Q, "P"), (SEDF_ASLEEP, "z"))
                        if self.status & b)
        return (f"<sedf {self.vcpu.label} p={self.period / 1e6:g}ms s={self.slice / 1e6:g}ms "
                f"ddl={self.deadl_abs / 1e6:.3f}ms cpu={self.cputime / 1e6:.3f}ms w={self.weight} "
                f"ew={self.extraweight} sc={self.score} [{flags}]>")


@dataclass(eq=False)
class SedfPcpu:
    runq: list = field(default_factory=list)
    waitq: list = field(default_factory=list)
    extraq: list = field(default_factory=lambda: [[], []])
    current_slice_expires: int = 0


@register_scheduler
class SEDF(Scheduler):
    name = "Simple EDF Scheduler"
    opt_name = "sedf"
    sched_id = 4                            # SCHED_SEDF

    def alloc_pdata(self, cpu: int) -> SedfPcpu:
        return SedfPcpu()

    def alloc_vdata(self, v) -> SedfVcpu:
        inf = SedfVcpu(v)
        if v.domain.domain_id == 0:
            # sedf_add_task (X@RELEASE-3.0.0:xen/common/sched_sedf.c:366-373): dom0 boots with 15 ms of
            # every 20 ms and, its info being memset to 0, extraweight 0; only domUs get extraweight 1 (:380).
            inf.period = inf.period_orig = 20 * MILLISECS
            inf.slice = inf.slice_orig = 15 * MILLISECS
            inf.extraweight = 0
        return inf

    def insert_vcpu(self, v) -> None:
        v.processor = self.pick_cpu(v)
        self._extraq_check(v.sched_priv)

    def remove_vcpu(self, v) -> None:
        inf = v.sched_priv
        for pdata in self.pdata:
            for q in (pdata.runq, pdata.waitq, *pdata.extraq):
                if inf in q:
                    q.remove(inf)

    # -- queues -----------------------------------------------------------------------------------------
    def _pc(self, inf) -> SedfPcpu:
        return self.pdata[inf.vcpu.processor]

    def _on_queue(self, inf) -> bool:
        pc = self._pc(inf)
        return inf in pc.runq or inf in pc.waitq

    def _del_from_queue(self, inf) -> None:
        pc = self._pc(inf)
        (pc.runq if inf in pc.runq else pc.waitq).remove(inf)

    @staticmethod
    def _insert_sorted(q: list, inf, key) -> None:
        k = key(inf)
        i = next((n for n, other in enumerate(q) if k < key(other)), len(q))
        q.insert(i, inf)

    def _add_to_runq(self, inf) -> None:
        self._insert_sorted(self._pc(inf).runq, inf, lambda i: i.deadl_abs)

    def _add_to_waitq(self, inf) -> None:
        self._insert_sorted(self._pc(inf).waitq, inf, lambda i: i.period_begin)

    def _extraq_on(self, inf, i: int) -> bool:
        return inf in self._pc(inf).extraq[i]

    def _extraq_del(self, inf, i: int) -> None:
        self._pc(inf).extraq[i].remove(inf)

    def _extraq_add_sort_update(self, inf, i: int, sub: int) -> None:
        """Insert by score; take ``sub`` off every other score on the way (keeps scores small)."""
        q = self._pc(inf).extraq[i]
        for other in q:
            other.score[i] -= sub
        pos = next((n for n, other in enumerate(q) if inf.score[i] < other.score[i]), len(q))
        q.insert(pos, inf)

    def _extraq_check(self, inf) -> None:
        if self._extraq_on(inf, EXTRA_UTIL_Q):
            if not inf.status & EXTRA_AWARE and not inf.runs_extra():
                self._extraq_del(inf, EXTRA_UTIL_Q)
        elif inf.status & EXTRA_AWARE and not inf.status & SEDF_ASLEEP:
            self._extraq_add_sort_update(inf, EXTRA_UTIL_Q, 0)

    # -- descheduling -----------------------------------------------------------------------------------
    def _desched_edf(self, now: int, inf) -> None:
        inf.cputime += now - inf.sched_start_abs
        asleep = inf.status & SEDF_ASLEEP
        if inf.cputime < inf.slice and not asleep:
            return                                      # stays at the head of the runq
        self._del_from_queue(inf)
        if inf.cputime >= inf.slice:
            inf.cputime -= inf.slice
            if inf.period < inf.period_orig:            # latency scaling: back towards the original
                inf.period *= 2
                inf.slice *= 2
                if inf.period > inf.period_orig or inf.slice > inf.slice_orig:
                    inf.period, inf.slice = inf.period_orig, inf.slice_orig
            inf.deadl_abs += inf.period
        if not asleep:
            self._add_to_waitq(inf)
        else:
            for i in (EXTRA_PEN_Q, EXTRA_UTIL_Q):
                if self._extraq_on(inf, i):
                    self._extraq_del(inf, i)

    def _desched_extra(self, now: int, inf) -> None:
        i = EXTRA_PEN_Q if inf.status & EXTRA_RUN_PEN else EXTRA_UTIL_Q
        inf.status &= ~(EXTRA_RUN_PEN | EXTRA_RUN_UTIL)
        inf.cputime = 0
        inf.extra_time_tot += now - inf.sched_start_abs
        self._extraq_del(inf, i)
        oldscore = inf.score[i]
        requeue = True
        if i == EXTRA_PEN_Q:
            # One penalty turn compensates the loss (3.0 gave up waiting for it to reach zero).
            inf.short_block_lost_tot = 0
            inf.status &= ~EXTRA_WANT_PEN_Q
            requeue = False
            self._extraq_check(inf)
        elif inf.extraweight:
            inf.score[EXTRA_UTIL_Q] = (1 << 17) // inf.extraweight   # 100% utilisation ~ weight 128
        else:
            inf.score[EXTRA_UTIL_Q] = (inf.period << 10) // max(1, inf.slice)
        if inf.status & SEDF_ASLEEP:
            self._del_from_queue(inf)
            for j in (EXTRA_PEN_Q, EXTRA_UTIL_Q):
                if self._extraq_on(inf, j):
                    self._extraq_del(inf, j)
        elif requeue and inf.status & EXTRA_AWARE:
            self._extraq_add_sort_update(inf, i, oldscore)

    def _update_queues(self, now: int, pc: SedfPcpu) -> None:
        while pc.waitq and pc.waitq[0].period_begin <= now:      # their next period has begun
            inf = pc.waitq.pop(0)
            self._add_to_runq(inf)
        for inf in list(pc.runq):
            if inf.slice == 0:
                # Best-effort vcpus (no slice) live on the waitq and get only extra time.
                pc.runq.remove(inf)
                inf.deadl_abs += inf.period
                if inf.period_begin < now:
                    inf.deadl_abs += -(-(now - inf.period_begin) // inf.period) * inf.period
                self._add_to_waitq(inf)
            elif inf.deadl_abs < now or inf.cputime > inf.slice:
                # A missed deadline (or a slice overrun after an adjdom): on to a fresh period.
                pc.runq.remove(inf)
                inf.deadl_abs += inf.period
                if inf.deadl_abs < now:
                    inf.deadl_abs += -(-(now - inf.deadl_abs) // inf.period) * inf.period
                inf.cputime = 0
                self.machine.trace.emit("SCHED", "sedf_miss", domid=inf.vcpu.domid, vcpu=inf.vcpu.vcpu_id,
                                        pcpu=inf.vcpu.processor, deadline=inf.deadl_abs)
                (self._add_to_waitq if inf.period_begin > now else self._add_to_runq)(inf)
            else:
                break

    # -- the decision -------------------------------------------------------------------------------------------
    def do_schedule(self, cpu: int, now: int) -> TaskSlice:
        pc = self.pdata[cpu]
        prev = self.curr(cpu)
        if not prev.is_idle:
            inf = prev.sched_priv
            if not prev.runnable():
                inf.status |= SEDF_ASLEEP
                inf.block_abs = now
            if inf.runs_extra():
                self._desched_extra(now, inf)
            else:
                self._desched_edf(now, inf)
        self._update_queues(now, pc)
        if not pc.runq and not pc.waitq:
            ts = TaskSlice(self.idle_vcpu(cpu), SECONDS, "nothing to run", {"deadline": None})
        elif pc.runq:
            run = pc.runq[0]
            end = now + run.slice - run.cputime
            if pc.waitq:
                end = min(end, pc.waitq[0].period_begin)
            ts = TaskSlice(run.vcpu, end - now, "earliest deadline (EDF)",
                           {"deadline": run.deadl_abs, "slice_left": run.slice - run.cputime, "queue": "runq"})
        else:
            ts = self._extra_schedule(now, pc.waitq[0].period_begin, pc, cpu)
        if ts.time <= 0:
            ts.time = EXTRA_QUANTUM               # seriously behind schedule
        if not ts.vcpu.is_idle:
            ts.vcpu.sched_priv.sched_start_abs = now
        pc.current_slice_expires = now + ts.time
        return ts

    def _extra_schedule(self, now: int, end_xt: int, pc: SedfPcpu, cpu: int) -> TaskSlice:
        if end_xt - now >= EXTRA_QUANTUM:
            for i, flag, label in ((EXTRA_PEN_Q, EXTRA_RUN_PEN, "penalty"), (EXTRA_UTIL_Q, EXTRA_RUN_UTIL, "utilisation")):
                if pc.extraq[i]:
                    inf = pc.extraq[i][0]
                    inf.status |= flag
                    return TaskSlice(inf.vcpu, EXTRA_QUANTUM, f"extra time ({label} queue)",
                                     {"deadline": inf.deadl_abs, "score": inf.score[i], "queue": label})
        return TaskSlice(self.idle_vcpu(cpu), end_xt - now, "idle until the next period starts",
                         {"deadline": None})

    # -- wake and sleep -------------------------------------------------------------------------------------------
    def sleep(self, v) -> None:
        inf = v.sched_priv
        inf.status |= SEDF_ASLEEP
        if v.is_running:
            self.tickle(v.processor)
            return
        if self._on_queue(inf):
            self._del_from_queue(inf)
        for i in (EXTRA_UTIL_Q, EXTRA_PEN_Q):
            if self._extraq_on(inf, i):
                self._extraq_del(inf, i)

    def wake(self, v) -> None:
        inf = v.sched_priv
        if self._on_queue(inf):
            inf.status &= ~SEDF_ASLEEP               # woken again before it was descheduled
            return
        now = self.machine.now
        inf.status &= ~SEDF_ASLEEP
        if inf.deadl_abs == 0:
            inf.deadl_abs = now + inf.slice          # first wake-up
        if now < inf.period_begin:
            kind = "extra"                           # woken in extra time
            if inf.status & EXTRA_WANT_PEN_Q:
                self._extraq_add_sort_update(inf, EXTRA_PEN_Q, 0)
        elif now < inf.deadl_abs:
            kind = "short"
            self._unblock_short(inf)
        else:
            kind = "long"
            inf.deadl_abs = now + inf.period         # the wake-up starts a new period
            inf.cputime = 0
        if inf.status & EXTRA_AWARE and not self._extraq_on(inf, EXTRA_UTIL_Q):
            self._extraq_add_sort_update(inf, EXTRA_UTIL_Q, 0)
        (self._add_to_waitq if inf.period_begin > now else self._add_to_runq)(inf)
        self.machine.trace.emit("SCHED", "sedf_unblock", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                                block=kind, deadline=inf.deadl_abs)
        if self._should_switch(self.curr(v.processor), inf):
            self.tickle(v.processor)

    def _unblock_short(self, inf) -> None:
        """The rest of this period is lost; compensate with a turn on the penalty queue."""
        inf.deadl_abs += inf.period
        if inf.block_abs:
            pen = max(0, inf.slice - inf.cputime)
            inf.short_block_lost_tot = pen
            if pen:
                inf.score[EXTRA_PEN_Q] = (inf.period << 10) // pen
                if self._extraq_on(inf, EXTRA_PEN_Q):
                    self._extraq_del(inf, EXTRA_PEN_Q)
                else:
                    inf.status |= EXTRA_WANT_PEN_Q
                self._extraq_add_sort_update(inf, EXTRA_PEN_Q, 0)
        inf.cputime = 0

    def _should_switch(self, cur, other) -> bool:
        """EDF > penalty extra time > utilisation extra time > idle."""
        pc = self._pc(other)
        if other.period_begin < pc.current_slice_expires:
            return True                              # its period starts before the next decision
        if cur.is_idle:
            return True
        cinf = cur.sched_priv
        if cinf.status & EXTRA_RUN_PEN:
            return bool(other.status & EXTRA_WANT_PEN_Q) and other.score[EXTRA_PEN_Q] < cinf.score[EXTRA_PEN_Q]
        if cinf.status & EXTRA_RUN_UTIL:
            return bool(other.status & EXTRA_WANT_PEN_Q)
        return False                                 # never interrupt a running EDF vcpu

    # -- parameters -------------------------------------------------------------------------------------------------
    def adjust(self, d, params: dict) -> int:
        """sedf_adjdom: period, slice, latency (ns), extratime (0/1), weight."""
        if set(params) - {"period", "slice", "latency", "extratime", "weight"}:
            return -E.EINVAL
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in params.values()):
            return -E.EINVAL
        cur = self.get_params(d)
        p = {**cur, **params}
        if not p["period"] and not p["weight"]:
            return -E.EINVAL
        infs = [v.sched_priv for v in d.vcpus]
        if p["weight"]:
            if p["extratime"] & EXTRA_AWARE and not p["period"]:
                for inf in infs:                      # extratime only, with that extraweight
                    inf.extraweight, inf.weight, inf.slice, inf.period = p["weight"], 0, 0, WEIGHT_PERIOD
            else:
                for inf in infs:                      # real-time, slice from the weight
                    inf.weight = p["weight"]
        else:
            if p["slice"] > p["period"]:
                return -E.EINVAL
            for inf in infs:                          # time-driven
                inf.weight = inf.extraweight = 0
                inf.period = inf.period_orig = p["period"]
                inf.slice = inf.slice_orig = p["slice"]
        self._adjust_weights()
        for inf in infs:
            inf.status = (inf.status & ~EXTRA_AWARE) | (p["extratime"] & EXTRA_AWARE)
            inf.latency = p["latency"]
            self._extraq_check(inf)
        return 0

    def _adjust_weights(self) -> None:
        """Weighted domains share what the time-driven ones leave of a 100 ms period (less 5 ms)."""
        ncpu = len(self.machine.cpus)
        sumw, sumt = [0] * ncpu, [0] * ncpu
        vcpus = [v for d in self.machine.domains.values() for v in d.vcpus]
        for v in vcpus:
            inf = v.sched_priv
            if inf.weight:
                sumw[v.processor] += inf.weight
            elif inf.period_orig:
                sumt[v.processor] += WEIGHT_PERIOD * inf.slice_orig // inf.period_orig
        for v in vcpus:
            inf = v.sched_priv
            if inf.weight:
                inf.period = inf.period_orig = WEIGHT_PERIOD
                inf.slice = inf.slice_orig = (inf.weight * (WEIGHT_PERIOD - WEIGHT_SAFETY - sumt[v.processor])
                                              // sumw[v.processor])

    def get_params(self, d) -> dict:
        inf = d.vcpus[0].sched_priv if d.vcpus else SedfVcpu(None)
        return {"period": inf.period, "slice": inf.slice, "latency": inf.latency,
                "extratime": inf.status & EXTRA_AWARE, "weight": inf.weight}

    def share_pools(self, domains) -> list:
        """slice/period reserved; the slack shared by extraweight among the EXTRA_AWARE vcpus."""
        res, ew = {}, {}
        for d in domains:
            inf = d.vcpus[0].sched_priv
            res[d.domain_id] = inf.slice / inf.period if inf.period else 0.0
            if inf.status & EXTRA_AWARE:
                # Without an extraweight the extra-queue score is (period << 10) / slice, which the source
                # equates with extraweight 128 x slice / period ("100% utilisation ~ weight 128").
                ew[d.domain_id] = inf.extraweight or (128 * inf.slice / inf.period if inf.slice else 1)
        ids = [d.domain_id for d in domains]
        return [SharePool(float(len(self.machine.cpus)), res, ew, {i: 1.0 for i in ids}, {i: 1 for i in ids})]

    def dump(self) -> str:
        lines = [f"Scheduler: {self.name} (sedf)"]
        for cpu, pc in enumerate(self.pdata):
            cur = self.curr(cpu)
            lines.append(f"  cpu{cpu}: running {'idle' if cur.is_idle else cur.label}")
            for name, q in (("RUNQ", pc.runq), ("WAITQ", pc.waitq), ("EXTRAQ (penalty)", pc.extraq[0]),
                            ("EXTRAQ (utilisation)", pc.extraq[1])):
                lines.append(f"    {name}: " + (" ".join(i.vcpu.label for i in q) or "-"))
            for inf in pc.runq + pc.waitq:
                lines.append(f"      {inf!r}")
        return "\n".join(lines)
