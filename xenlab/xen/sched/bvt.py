"""Borrowed Virtual Time (X@RELEASE-2.0.0:xen/common/sched_bvt.c; Duda & Cheriton, SOSP'99).

Xen 2.0's default scheduler: fair shares by virtual time. Each domain has an ``mcu_advance``, the
inverse of its weight. While it runs, its **actual virtual time** ``avt`` grows by ``mcu_advance`` for
every started minimum charging unit (MCU, 100 us) of real time, so a domain with half the advance
gets twice the CPU. The runnable domain with the lowest **effective virtual time** runs next, where
``evt = avt - warp_value`` while the domain is *warped* (borrowing against its future to get a low
wake-up latency) and ``evt = avt`` otherwise. Warping lasts at most ``warpl`` of running; after it
the domain must wait ``warpu`` before it may warp again.

Each pCPU keeps a **scheduler virtual time** ``svt``: the lowest avt on its run queue. A domain that
wakes with ``avt < svt`` is moved up to ``svt``, so sleeping earns no credit. The **context-switch
allowance** ``ctx_allow`` (5 ms) is the least a domain runs before a peer with a slightly lower evt
takes over. Xen's avt is a 32-bit number: when ``svt`` reaches 0xF0000000, 0xE0000000 is taken off
every avt, evt and svt of that pCPU (wrap-around).

The slice: ``ctx_allow`` for the idle domain, ``10 x ctx_allow`` when one domain is runnable, else
``(evt of the runner-up - evt of the winner) / mcu_advance + ctx_allow``. That adds a virtual-time
difference divided by mcu_advance (a count of MCUs) to nanoseconds, so in practice the slice is
about ``ctx_allow``; the model keeps Xen's formula.

Simplifications
- Xen 2.0 schedules domains (one vcpu each); the model keeps BVT state per vcpu, with the
  parameters set per domain.
- The warp limit counts the domain's warped *running* time (summed over its runs); Xen 2.0 re-armed
  the warp timer at every scheduling decision.
- At wrap-around a blocked vcpu's avt is clamped at 0 instead of wrapping as an unsigned number.
- No migration between pCPUs: a vcpu stays where it was placed, as in 2.0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.xen.public import errno as E
from xenlab.xen.sched import Scheduler, SharePool, TaskSlice, register_scheduler
from xenlab.xen.timer import PRIO_SCHED

MILLISECS = 1_000_000
MCU = 100_000                     # ns: the minimum charging unit (100 us)
MCU_ADVANCE = 10                  # default mcu_advance (inverse weight)
CTX_ALLOW = 5 * MILLISECS         # context-switch allowance
TIME_SLOP = 50_000                # ns
WARPL_DEFAULT = 2000 * MILLISECS
WARPU_DEFAULT = 1000 * MILLISECS
SVT_WRAP_LIMIT = 0xF0000000
SVT_WRAP_SUB = 0xE0000000
IDLE_EVT = 0xFFFFFFFF             # the idle domain's avt/evt: ~0


@dataclass(eq=False)
class BvtVcpu:
    """struct bvt_dom_info (per vcpu)."""
    vcpu: object
    mcu_advance: int = MCU_ADVANCE
    avt: int = 0
    evt: int = 0
    warpback: int = 0               # may warp
    warp: int = 0                   # currently warped
    warp_value: int = 0             # virtual-time units
    warpl: int = WARPL_DEFAULT      # ns of warped running allowed
    warpu: int = WARPU_DEFAULT      # ns to wait unwarped before warping again
    lastschd: int = 0               # ns, when it last started running
    warped_ran: int = 0             # ns run while warped since it last warped
    warp_timer: object = None
    unwarp_timer: object = None

    def calc_evt(self) -> int:
        return self.avt - self.warp_value if self.warp else self.avt

    def __repr__(self) -> str:
        w = f" warp={self.warp_value}" if self.warp else ""
        return f"<bvt {self.vcpu.label} mcu_adv={self.mcu_advance} avt={self.avt} evt={self.evt}{w}>"


@dataclass(eq=False)
class BvtPcpu:
    runq: list = field(default_factory=list)
    svt: int = 0


@register_scheduler
class BVT(Scheduler):
    name = "Borrowed Virtual Time"
    opt_name = "bvt"
    sched_id = 0                          # SCHED_BVT

    def __init__(self, machine):
        super().__init__(machine)
        self.ctx_allow = CTX_ALLOW

    def alloc_pdata(self, cpu: int) -> BvtPcpu:
        return BvtPcpu()

    def alloc_vdata(self, v) -> BvtVcpu:
        inf = BvtVcpu(v)
        t = self.machine.timers
        inf.warp_timer = t.init_timer(f"{v.label}.warp", self._warp_timer_fn, inf, 0, PRIO_SCHED)
        inf.unwarp_timer = t.init_timer(f"{v.label}.unwarp", self._unwarp_timer_fn, inf, 0, PRIO_SCHED)
        return inf

    def insert_vcpu(self, v) -> None:
        v.processor = self.pick_cpu(v)
        inf = v.sched_priv
        inf.avt = inf.evt = self.pdata[v.processor].svt       # a new domain starts at svt
        inf.lastschd = self.machine.now

    def remove_vcpu(self, v) -> None:
        inf = v.sched_priv
        q = self.pdata[v.processor].runq
        if inf in q:
            q.remove(inf)
        self.machine.timers.kill_timer(inf.warp_timer)
        self.machine.timers.kill_timer(inf.unwarp_timer)

    # -- virtual time -------------------------------------------------------------------------------------
    def calc_avt(self, inf: BvtVcpu, now: int) -> int:
        """avt as if charged now: every started MCU of this run costs mcu_advance."""
        ranfor = now - inf.lastschd
        return inf.avt + -(-ranfor // MCU) * inf.mcu_advance

    def _charge(self, inf: BvtVcpu, now: int) -> None:
        ranfor = now - inf.lastschd
        inf.avt = self.calc_avt(inf, now)
        if inf.warp:
            inf.warped_ran += ranfor
        self.machine.timers.stop_timer(inf.warp_timer)
        inf.evt = inf.calc_evt()
        inf.lastschd = now

    # -- wake and sleep ---------------------------------------------------------------------------------------
    def wake(self, v) -> None:
        inf = v.sched_priv
        cpu = v.processor
        pdata = self.pdata[cpu]
        if v.is_running or inf in pdata.runq:
            return
        now = self.machine.now
        if inf.avt < pdata.svt:
            inf.avt = pdata.svt                 # sleeping earns no credit
        inf.evt = inf.calc_evt()
        # __add_to_runqueue_head (X@RELEASE-2.0.0:xen/common/sched_bvt.c:234): the woken domain is
        # scanned first, so it wins a tie on evt (the scan at :399 replaces the winner only on a strict <).
        pdata.runq.insert(0, inf)
        curr = self.curr(cpu)
        if curr.is_idle:
            self.tickle(cpu)
            return
        cinf = curr.sched_priv
        curr_avt = self.calc_avt(cinf, now)
        curr_evt = curr_avt - cinf.warp_value if cinf.warp else curr_avt
        if inf.evt <= curr_evt:
            self.tickle(cpu)
        else:
            # Let the current one run until the newcomer would be ahead by ctx_allow.
            r_time = cinf.lastschd + (inf.evt - curr_evt) // cinf.mcu_advance + self.ctx_allow
            s_timer = self.machine.s_timers[cpu]
            if s_timer.active and s_timer.expires > r_time:
                self.machine.timers.set_timer(s_timer, r_time)

    def sleep(self, v) -> None:
        inf = v.sched_priv
        if v.is_running:
            self.tickle(v.processor)
        elif inf in self.pdata[v.processor].runq:
            self.pdata[v.processor].runq.remove(inf)

    # -- warping ----------------------------------------------------------------------------------------------
    def _warp_timer_fn(self, inf: BvtVcpu) -> None:
        """The warp limit is used up: unwarp, and allow warping again only after warpu."""
        v = inf.vcpu
        if v.is_running:
            self._charge(inf, self.machine.now)
        inf.warp = 0
        inf.warped_ran = 0
        inf.evt = inf.calc_evt()
        if inf.warpu == 0:
            inf.warpback = 0                    # warpu 0 stops warping altogether
        else:
            self.machine.timers.set_timer(inf.unwarp_timer, self.machine.now + inf.warpu)
        self.machine.trace.emit("SCHED", "unwarp", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                                avt=inf.avt, evt=inf.evt)
        self.tickle(v.processor)

    def _unwarp_timer_fn(self, inf: BvtVcpu) -> None:
        v = inf.vcpu
        if not inf.warpback:
            return
        if v.is_running:
            self._charge(inf, self.machine.now)
        inf.warp = 1
        inf.evt = inf.calc_evt()
        self.machine.trace.emit("SCHED", "warp", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                                avt=inf.avt, evt=inf.evt)
        self.tickle(v.processor)

    # -- the decision -------------------------------------------------------------------------------------------
    def do_schedule(self, cpu: int, now: int) -> TaskSlice:
        pdata = self.pdata[cpu]
        prev = self.curr(cpu)
        if not prev.is_idle:
            inf = prev.sched_priv
            self._charge(inf, now)
            if prev.runnable() and inf not in pdata.runq:
                pdata.runq.append(inf)
        q = pdata.runq
        if not q:
            return TaskSlice(self.idle_vcpu(cpu), self.ctx_allow, "run queue empty",
                             {"evt": IDLE_EVT, "svt": pdata.svt})
        pdata.svt = min(i.avt for i in q)
        if pdata.svt >= SVT_WRAP_LIMIT:
            self._wrap(cpu)
        nxt, second, r_time, why = self.pick(q)
        q.remove(nxt)
        nxt.lastschd = now
        if nxt.warp and nxt.warpback and nxt.warpl > 0:
            self.machine.timers.set_timer(nxt.warp_timer, now + max(0, nxt.warpl - nxt.warped_ran))
        info = {"evt": nxt.evt, "avt": nxt.avt, "svt": pdata.svt, "warp": nxt.warp,
                "runner_up_evt": None if second is None else second.evt}
        return TaskSlice(nxt.vcpu, r_time, why, info)

    def pick(self, q: list) -> tuple:
        """(winner, runner-up or None, slice ns, why) from a non-empty run queue (kept as it is).

        Lowest evt wins; ties go to the one queued first."""
        order = sorted(range(len(q)), key=lambda n: (q[n].evt, n))
        nxt = q[order[0]]
        second = q[order[1]] if len(q) > 1 else None
        if second is None:
            return nxt, None, 10 * self.ctx_allow, "only runnable domain"
        r_time = (second.evt - nxt.evt) // nxt.mcu_advance + self.ctx_allow
        return nxt, second, r_time, f"lowest evt ({nxt.evt} < {second.vcpu.label}'s {second.evt})"

    def _wrap(self, cpu: int) -> None:
        """svt near the top of 32 bits: shift every virtual time on this pCPU down."""
        for d in self.machine.domains.values():
            for v in d.vcpus:
                inf = v.sched_priv
                if v.processor == cpu and isinstance(inf, BvtVcpu):
                    inf.avt = max(0, inf.avt - SVT_WRAP_SUB)
                    inf.evt = inf.calc_evt()
        self.pdata[cpu].svt -= SVT_WRAP_SUB
        self.machine.trace.emit("SCHED", "svt_wrap", pcpu=cpu, svt=self.pdata[cpu].svt)

    # -- parameters -------------------------------------------------------------------------------------------------
    def adjust(self, d, params: dict) -> int:
        """bvt_adjdom: mcu_adv, warpback, warpvalue, warpl (ms), warpu (ms)."""
        known = {"mcu_adv", "warpback", "warpvalue", "warpl", "warpu"}
        if set(params) - known:
            return -E.EINVAL
        if any(not isinstance(v, int) or isinstance(v, bool) for v in params.values()):
            return -E.EINVAL
        if params.get("mcu_adv", 1) <= 0 or params.get("warpl", 0) < 0 or params.get("warpu", 0) < 0:
            return -E.EINVAL
        for v in d.vcpus:
            inf = v.sched_priv
            if "mcu_adv" in params:
                inf.mcu_advance = params["mcu_adv"]
            if "warpvalue" in params:
                inf.warp_value = params["warpvalue"]
            if "warpl" in params:
                inf.warpl = params["warpl"] * MILLISECS
            if "warpu" in params:
                inf.warpu = params["warpu"] * MILLISECS
            if "warpback" in params:
                inf.warpback = int(bool(params["warpback"]))
                inf.warp = inf.warpback
                inf.warped_ran = 0
            inf.evt = inf.calc_evt()
        return 0

    def get_params(self, d) -> dict:
        inf = d.vcpus[0].sched_priv if d.vcpus else BvtVcpu(None)
        return {"mcu_adv": inf.mcu_advance, "warpback": inf.warpback, "warpvalue": inf.warp_value,
                "warpl": inf.warpl // MILLISECS, "warpu": inf.warpu // MILLISECS}

    def sched_ctl(self, params: dict) -> int:
        """bvt_ctl: the global context-switch allowance (ns)."""
        if set(params) - {"ctx_allow"}:
            return -E.EINVAL
        value = params.get("ctx_allow", self.ctx_allow)
        if not isinstance(value, int) or value <= 0:
            return -E.EINVAL
        self.ctx_allow = value
        return 0

    def get_ctl(self) -> dict:
        return {"ctx_allow": self.ctx_allow}

    def share_pools(self, domains) -> list:
        """One pool per pCPU (no migration): shares in proportion to 1/mcu_advance of the vcpus there."""
        pools = []
        for cpu in range(len(self.machine.cpus)):
            here = [(d, v) for d in domains for v in d.vcpus if v.processor == cpu]
            if not here:
                continue
            weights, vcpus = {}, {}
            for d, v in here:
                weights[d.domain_id] = weights.get(d.domain_id, 0.0) + 1 / v.sched_priv.mcu_advance
                vcpus[d.domain_id] = vcpus.get(d.domain_id, 0) + 1
            pools.append(SharePool(1.0, {}, weights, {i: float(n) for i, n in vcpus.items()}, vcpus))
        return pools

    def promised_shares(self, domains) -> dict:
        shares = super().promised_shares(domains)
        return {d.domain_id: shares.get(d.domain_id, 0.0) for d in domains}

    def dump(self) -> str:
        lines = [f"Scheduler: {self.name} (bvt), ctx_allow {self.ctx_allow / 1e6:g} ms"]
        for cpu, pdata in enumerate(self.pdata):
            cur = self.curr(cpu)
            now = "idle" if cur.is_idle else repr(cur.sched_priv)
            lines.append(f"  cpu{cpu}: svt={pdata.svt} running {now}")
            for inf in sorted(pdata.runq, key=lambda i: i.evt):
                lines.append(f"    {inf!r}")
        return "\n".join(lines)
