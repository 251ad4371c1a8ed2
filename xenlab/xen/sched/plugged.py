"""Built-in policies with one step replaced by a given function: how exercise 07 plugs in.

``plug_scheduler("bvt", "ex07-bvt", charge=..., pick=...)`` registers a subclass of Xen's BVT whose
virtual-time charging and pick call the functions, so ``Machine(sched="ex07-bvt")`` and the scheduler
lab run it like any scheduler; everything else (queues, wake-up rules, warping, timers) stays Xen's.
The steps and the shapes the functions see (plain lists and dicts, as in the exercise):

- ``bvt``:     ``charge(avt, ranfor_ns, mcu_advance) -> avt`` (BVT.calc_avt) and
               ``pick(runq, ctx_allow) -> (name, slice_ns)`` with runq items
               ``{"name", "evt", "mcu_advance"}`` in queue order (BVT.pick);
- ``atropos``: ``pick(runq, waitq, now, rr_index) -> (name or None, time_ns, rr_index)`` with RUNQ items
               ``{"name", "deadline", "remain"}`` and WAITQ items adding ``"state"`` ("WAIT" or
               "UNBLOCKED") and ``"xtratime"`` (Atropos.pick);
- ``credit``:  ``acct(domains, credit_total) -> {name: [(credit, "UNDER"|"OVER"), ...]}`` with domains
               ``{"name", "weight", "cap", "credits"}`` in the active list's order (Credit.acct).

Names are vcpu labels (``d1v0``) for BVT and Atropos, domain names for Credit. A function returning
NotImplemented leaves that step to Xen's code; an answer of the wrong shape (an unknown name, a slice
that is not a positive number of ns ...) is recorded in the class's ``problems`` and Xen's code decides
that step instead, so a broken function never stops the machine.

Deviations of the Credit variant (the exercise's step is simpler than csched_acct): no negative-balance
term and no reordering of peaked domains; a vcpu whose credit the function reset to 0 from a positive
value stops earning (deactivated, as Xen does above 300); parking compares the clamped credit.
"""
from __future__ import annotations

from xenlab.xen.sched import get_scheduler, register_scheduler
from xenlab.xen.sched.atropos import ATROPOS_TASK_UNBLOCKED, Atropos
from xenlab.xen.sched.bvt import BVT
from xenlab.xen.sched.credit import (
    CSCHED_CREDITS_PER_ACCT,
    CSCHED_PRI_TS_OVER,
    CSCHED_PRI_TS_UNDER,
    Credit,
    _div_up,
)

STEPS = {"bvt": ("charge", "pick"), "atropos": ("pick",), "credit": ("acct",)}
MAX_PROBLEMS = 20


def _positive_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x > 0


class _Plugged:
    """Mixin: the given functions (class attributes) and the problems met with their answers."""
    functions: dict = {}    # noqa: RUF012  (replaced per registered class by plug_scheduler)
    problems: list = []     # noqa: RUF012

    def _fn(self, step: str):
        return self.functions.get(step)

    def _problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


class PluggedBVT(_Plugged, BVT):
    def calc_avt(self, inf, now: int) -> int:
        fn = self._fn("charge")
        if fn is not None:
            got = fn(inf.avt, now - inf.lastschd, inf.mcu_advance)
            if got is not NotImplemented:
                if isinstance(got, int) and not isinstance(got, bool):
                    return got
                self._problem(f"charge returned {got!r}, not an integer avt")
        return super().calc_avt(inf, now)

    def pick(self, q: list) -> tuple:
        fn = self._fn("pick")
        if fn is not None:
            got = fn([{"name": i.vcpu.label, "evt": i.evt, "mcu_advance": i.mcu_advance} for i in q], self.ctx_allow)
            if got is not NotImplemented:
                chosen = self._check_pick(q, got)
                if chosen is not None:
                    nxt, r_time = chosen
                    others = sorted((i for i in q if i is not nxt), key=lambda i: i.evt)
                    return nxt, (others[0] if others else None), r_time, "your bvt_pick"
        return super().pick(q)

    def _check_pick(self, q, got):
        try:
            name, r_time = got
        except (TypeError, ValueError):
            self._problem(f"pick returned {got!r}, not a pair (name, slice)")
            return None
        nxt = next((i for i in q if i.vcpu.label == name), None)
        if nxt is None:
            self._problem(f"pick chose {name!r}, which is not on the run queue")
        elif not _positive_int(r_time):
            self._problem(f"pick gave {name} a slice of {r_time!r}: it must be a positive number of ns")
        else:
            return nxt, r_time
        return None


class PluggedAtropos(_Plugged, Atropos):
    def pick(self, pdata, now: int) -> tuple:
        fn = self._fn("pick")
        if fn is not None:
            runq = [{"name": i.vcpu.label, "deadline": i.deadline, "remain": i.remain} for i in pdata.runq]
            waitq = [{"name": i.vcpu.label, "deadline": i.deadline, "remain": i.remain,
                      "state": "UNBLOCKED" if i.state == ATROPOS_TASK_UNBLOCKED else "WAIT", "xtratime": bool(i.xtratime)}
                     for i in pdata.waitq]
            got = fn(runq, waitq, now, self.waitq_rrobin)
            if got is not NotImplemented:
                chosen = self._check_pick(pdata, got)
                if chosen is not None:
                    nxt, time, rr_index = chosen
                    self.waitq_rrobin = rr_index
                    return nxt, now + time, "your atropos_pick" if nxt is not None else "idle (your atropos_pick)"
        return super().pick(pdata, now)

    def _check_pick(self, pdata, got):
        try:
            name, time, rr_index = got
        except (TypeError, ValueError):
            self._problem(f"pick returned {got!r}, not (name or None, time, rr_index)")
            return None
        nxt = None
        if name is not None:
            nxt = next((i for i in pdata.runq + pdata.waitq if i.vcpu.label == name), None)
            if nxt is None:
                self._problem(f"pick chose {name!r}, which is on neither queue")
                return None
        if not _positive_int(time):
            self._problem(f"pick gave a time of {time!r}: it must be a positive number of ns")
        elif not isinstance(rr_index, int) or rr_index < 0:
            self._problem(f"pick returned rr_index {rr_index!r}")
        else:
            return nxt, time, rr_index
        return None


class PluggedCredit(_Plugged, Credit):
    def acct(self) -> None:
        fn = self._fn("acct")
        if fn is None or self.weight_total == 0:
            return super().acct()
        sdoms = list(self.active_sdom)
        names = {s: self.machine.domains[s.domid].name for s in sdoms}
        vcpus = {s: list(s.active_vcpus) for s in sdoms}
        domains = [{"name": names[s], "weight": s.weight, "cap": s.cap, "credits": [c.credit for c in vcpus[s]]}
                   for s in sdoms]
        got = fn(domains, self.credit)
        if got is NotImplemented or not self._check_acct(got, sdoms, names, vcpus):
            return super().acct()
        self.acct_count += 1
        balance = 0
        for sdom in sdoms:
            nvcpus = len(vcpus[sdom])
            credit_cap = _div_up(_div_up(sdom.cap * CSCHED_CREDITS_PER_ACCT, 100), nvcpus) if sdom.cap else 0
            for svc, (credit, pri) in zip(vcpus[sdom], got[names[sdom]]):
                balance += self._apply(svc, int(credit), pri, credit_cap)
            if self.machine.trace.active:
                self.machine.trace.emit("SCHED", "credit_acct", domid=sdom.domid, weight=sdom.weight, cap=sdom.cap,
                                        credit_fair=None, credits=[c for c, _ in got[names[sdom]]])
        self.credit_balance = 0          # the exercise's step has no negative-balance term
        self.runq_sort += 1

    def _apply(self, svc, credit: int, pri: str, credit_cap: int) -> int:
        """The function's (credit, priority) for one vcpu, with Xen's side effects (park, stop earning)."""
        old = svc.credit
        if pri == "OVER":
            svc.pri = CSCHED_PRI_TS_OVER
            if svc.sdom.cap and credit < -credit_cap and not svc.parked:
                self._park(svc)
        else:
            svc.pri = CSCHED_PRI_TS_UNDER
            if svc.parked:
                self._unpark(svc)
            if credit == 0 and old > 0 and svc.active:
                self._deactivate(svc)            # reset from above the limit: it stops earning
        svc.credit = credit
        return credit

    def _check_acct(self, got, sdoms, names, vcpus) -> bool:
        if not isinstance(got, dict):
            self._problem(f"acct returned {type(got).__name__}, not a dict name -> [(credit, priority), ...]")
            return False
        for s in sdoms:
            rows = got.get(names[s])
            if not isinstance(rows, (list, tuple)) or len(rows) != len(vcpus[s]):
                self._problem(f"acct gave {names[s]} {rows!r}: one (credit, priority) per active vcpu expected "
                              f"({len(vcpus[s])})")
                return False
            for row in rows:
                ok = (isinstance(row, (list, tuple)) and len(row) == 2 and isinstance(row[0], int)
                      and not isinstance(row[0], bool) and row[1] in ("UNDER", "OVER"))
                if not ok:
                    self._problem(f"acct gave {names[s]} the entry {row!r}, not (credit, 'UNDER' or 'OVER')")
                    return False
        return True


PLUGGABLE = {"bvt": PluggedBVT, "atropos": PluggedAtropos, "credit": PluggedCredit}


def plug_scheduler(base: str, opt_name: str, name: str | None = None, **functions):
    """Register ``opt_name``: Xen's ``base`` policy with the given steps (see STEPS) replaced.

    Registering the same opt_name again replaces the earlier one (a notebook cell run twice)."""
    if base not in PLUGGABLE:
        raise ValueError(f"no pluggable steps for sched={base!r}; pluggable: {', '.join(sorted(PLUGGABLE))}")
    unknown = set(functions) - set(STEPS[base])
    if unknown:
        raise ValueError(f"{base} has no step {', '.join(sorted(unknown))}; its steps: {', '.join(STEPS[base])}")
    builtin = get_scheduler(base)
    cls = type(f"Plugged_{opt_name.replace('-', '_')}", (PLUGGABLE[base],), {
        "opt_name": opt_name, "variant_of": base, "name": name or f"{builtin.name} ({opt_name})",
        "functions": {k: f for k, f in functions.items() if f is not None}, "problems": []})
    return register_scheduler(cls)


__all__ = ["STEPS", "PluggedAtropos", "PluggedBVT", "PluggedCredit", "plug_scheduler"]
