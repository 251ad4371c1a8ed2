"""Exercise 07: the heart of four schedulers, as pure functions.

Oracles (reference/xen-facts.md section 9):
- Round Robin (2.0 sched_rrobin.c): the current vcpu, if still runnable, goes to the tail; the head
  runs for rr_slice; an empty queue runs idle.
- BVT (2.0 sched_bvt.c): avt += ceil(ranfor / MCU) x mcu_advance (MCU = 100 us); pick the lowest evt
  (first queued wins ties); slice 10 x ctx_allow when alone, else (evt2 - evt1) // mcu_advance + ctx_allow.
- Atropos (2.0 sched_atropos.c): RUNQ head for its remain; else the first UNBLOCKED on WAITQ for its
  remain; else round robin over WAITQ domains with xtratime from rr_index, 5 ms each; cut at the WAITQ
  head's deadline; never below 5 ms.
- Credit (3.0.4 sched_credit.c csched_acct, without the negative-balance term): fair =
  ceil(total x w / W); peak = 300 x nvcpus, capped at ceil(cap x 300 / 100); the excess of a peaked
  domain raises the total for those after it; per vcpu ceil(fair / n); < 0 OVER (floor -300), >= 0
  UNDER (above 300: reset to 0).
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect

EX = exercise("ex07", chapter=7,
              functions=("rr_do_schedule", "bvt_charge", "bvt_pick", "atropos_pick", "credit_acct"),
              title={"pl": "Serce czterech planistów", "en": "The heart of four schedulers"})

MS = 1_000_000
MCU = 100_000
BESTEFFORT_QUANTUM = 5 * MS


# -- reference implementations -------------------------------------------------------------------------
def ref_rr(runq, prev, prev_runnable, rr_slice):
    if prev is not None and prev_runnable:
        runq.append(prev)
    return (runq.pop(0) if runq else None), rr_slice


def ref_bvt_charge(avt, ranfor_ns, mcu_advance):
    return avt + -(-ranfor_ns // MCU) * mcu_advance


def ref_bvt_pick(runq, ctx_allow):
    order = sorted(range(len(runq)), key=lambda i: (runq[i]["evt"], i))
    best = runq[order[0]]
    if len(runq) == 1:
        return best["name"], 10 * ctx_allow
    second = runq[order[1]]
    return best["name"], (second["evt"] - best["evt"]) // best["mcu_advance"] + ctx_allow


def ref_atropos_pick(runq, waitq, now, rr_index):
    name, end = None, now + BESTEFFORT_QUANTUM
    if runq:
        name, end = runq[0]["name"], now + runq[0]["remain"]
    elif waitq:
        unblocked = [d for d in waitq if d["state"] == "UNBLOCKED"]
        if unblocked:
            name, end = unblocked[0]["name"], now + unblocked[0]["remain"]
        else:
            if rr_index >= len(waitq):
                rr_index = 0
            for i, d in enumerate(waitq):
                if d["xtratime"] and i >= rr_index:
                    name, end, rr_index = d["name"], now + BESTEFFORT_QUANTUM, i + 1
                    break
    if waitq:
        end = min(end, waitq[0]["deadline"])
    end = max(end, now + BESTEFFORT_QUANTUM)
    return name, end - now, rr_index


def _up(a, b):
    return -(-a // b)


def ref_credit_acct(domains, credit_total):
    weight_total = sum(d["weight"] for d in domains)
    weight_left = weight_total
    out = {}
    for d in domains:
        n = len(d["credits"])
        weight_left -= d["weight"]
        peak = 300 * n
        if d["cap"]:
            peak = min(peak, _up(d["cap"] * 300, 100))
        fair = _up(credit_total * d["weight"], weight_total)
        if fair >= peak:
            if weight_left:
                credit_total += _up((fair - peak) * weight_total, weight_left)
            fair = peak
        fair = _up(fair, n)
        res = []
        for c in d["credits"]:
            c += fair
            if c < 0:
                res.append((max(c, -300), "OVER"))
            else:
                res.append((0 if c > 300 else c, "UNDER"))
        out[d["name"]] = res
    return out


# -- Round Robin ----------------------------------------------------------------------------------------------
@EX.check(points=1, function="rr_do_schedule",
          title={"pl": "Round Robin: bieżąca domena na koniec kolejki", "en": "Round Robin: the current one to the tail"})
def rr_tail(ctx):
    q = ["b", "c"]
    got = ctx.fn("rr_do_schedule")(q, "a", True, 10 * MS)
    expect(tuple(got) == ("b", 10 * MS), pl="Po zużyciu kwantu powinna ruszyć głowa kolejki, na pełny kwant.",
           en="After a used slice the head of the queue should run, for a whole slice.")
    expect(q == ["c", "a"], pl="Bieżąca (wciąż gotowa) domena powinna trafić na koniec kolejki.",
           en="The current (still runnable) domain should go to the tail of the queue.")


@EX.check(points=1, function="rr_do_schedule",
          title={"pl": "Round Robin: zablokowana domena i pusta kolejka", "en": "Round Robin: a blocked domain, an empty queue"})
def rr_blocked_idle(ctx):
    q = []
    got = ctx.fn("rr_do_schedule")(q, "a", False, 10 * MS)
    expect(got[0] is None and q == [], pl="Zablokowana domena nie wraca do kolejki; pusta kolejka to bezczynność (None).",
           en="A blocked domain does not go back to the queue; an empty queue means idle (None).")
    got = ctx.fn("rr_do_schedule")(["x"], None, False, 5 * MS)
    expect(tuple(got) == ("x", 5 * MS), pl="Gdy procesor był bezczynny (prev=None), rusza głowa kolejki.",
           en="When the CPU was idle (prev=None), the head of the queue runs.")


@EX.check(points=2, function="rr_do_schedule", hidden=True,
          title={"pl": "Round Robin: losowe kolejki", "en": "Round Robin: random queues"})
def rr_random(ctx):
    for _ in range(50):
        n = int(ctx.rng.integers(0, 5))
        q = [f"d{i}" for i in range(n)]
        prev = None if ctx.rng.random() < 0.2 else "cur"
        runnable = bool(ctx.rng.random() < 0.7)
        q2 = list(q)
        want = ref_rr(q2, prev, runnable, 10 * MS)
        got = ctx.fn("rr_do_schedule")(q, prev, runnable, 10 * MS)
        expect(tuple(got) == tuple(want) and q == q2, pl=f"Dla kolejki {q2} i prev={prev!r} oczekiwano {want}.",
               en=f"For queue {q2} and prev={prev!r} expected {want}.")


# -- BVT ------------------------------------------------------------------------------------------------------
@EX.check(points=1, function="bvt_charge",
          title={"pl": "BVT: opłata w pełnych MCU", "en": "BVT: charging whole MCUs"})
def bvt_charge_mcu(ctx):
    f = ctx.fn("bvt_charge")
    expect(f(1000, 200_000, 10) == 1020, pl="200 µs to 2 MCU po 10.", en="200 µs is 2 MCUs at 10 each.")
    expect(f(1000, 250_000, 10) == 1030, pl="Każda rozpoczęta jednostka MCU kosztuje pełne mcu_advance.",
           en="Every started MCU costs a whole mcu_advance.")


@EX.check(points=1, function="bvt_pick",
          title={"pl": "BVT: najmniejszy evt i kwant", "en": "BVT: lowest evt and the slice"})
def bvt_pick_basic(ctx):
    f = ctx.fn("bvt_pick")
    q = [{"name": "a", "evt": 500, "mcu_advance": 10}, {"name": "b", "evt": 300, "mcu_advance": 10}]
    got = f(q, 5 * MS)
    expect(got[0] == "b", pl="Wygrywa domena o najmniejszym efektywnym czasie wirtualnym.",
           en="The domain with the lowest effective virtual time wins.")
    expect(got[1] == 5 * MS + 20, pl="Kwant to różnica evt podzielona przez mcu_advance zwycięzcy plus ctx_allow.",
           en="The slice is the evt difference over the winner's mcu_advance, plus ctx_allow.")
    expect(tuple(f(q[:1], 5 * MS)) == ("a", 50 * MS), pl="Jedyna gotowa domena dostaje 10 x ctx_allow.",
           en="The only runnable domain gets 10 x ctx_allow.")


@EX.check(points=2, function="bvt_pick", hidden=True, title={"pl": "BVT: losowe kolejki", "en": "BVT: random queues"})
def bvt_pick_random(ctx):
    for _ in range(50):
        n = int(ctx.rng.integers(1, 6))
        q = [{"name": f"d{i}", "evt": int(ctx.rng.integers(0, 50)), "mcu_advance": int(ctx.rng.integers(1, 30))}
             for i in range(n)]
        want = ref_bvt_pick(q, 5 * MS)
        got = ctx.fn("bvt_pick")(q, 5 * MS)
        expect(tuple(got) == want, pl=f"Dla {q} oczekiwano {want}.", en=f"For {q} expected {want}.")


@EX.check(points=1, function="bvt_charge", hidden=True, title={"pl": "BVT: losowe opłaty", "en": "BVT: random charges"})
def bvt_charge_random(ctx):
    for _ in range(50):
        a, r, m = (int(x) for x in (ctx.rng.integers(0, 10**6), ctx.rng.integers(0, 10**8), ctx.rng.integers(1, 50)))
        expect(ctx.fn("bvt_charge")(a, r, m) == ref_bvt_charge(a, r, m),
               pl=f"bvt_charge({a}, {r}, {m}) powinno dać {ref_bvt_charge(a, r, m)}.",
               en=f"bvt_charge({a}, {r}, {m}) should be {ref_bvt_charge(a, r, m)}.")


# -- Atropos --------------------------------------------------------------------------------------------------
def _w(name, deadline, remain, state="WAIT", xtratime=1):
    return {"name": name, "deadline": deadline, "remain": remain, "state": state, "xtratime": xtratime}


@EX.check(points=1, function="atropos_pick",
          title={"pl": "Atropos: EDF z RUNQ, przycięty do terminu z WAITQ",
                 "en": "Atropos: EDF from RUNQ, cut at the WAITQ deadline"})
def atropos_runq(ctx):
    f = ctx.fn("atropos_pick")
    got = f([{"name": "v", "deadline": 40 * MS, "remain": 15 * MS}], [_w("a", 10 * MS, -1)], 0, 0)
    expect(tuple(got) == ("v", 10 * MS, 0), pl="Głowa RUNQ działa do końca przydziału, ale nie dłużej niż do "
           "najbliższego początku okresu z WAITQ.", en="The RUNQ head runs for its remain, but not past the next "
           "period start on the WAITQ.")


@EX.check(points=1, function="atropos_pick",
          title={"pl": "Atropos: czas wolny dla domen xtratime", "en": "Atropos: slack for xtratime domains"})
def atropos_slack(ctx):
    f = ctx.fn("atropos_pick")
    wq = [_w("a", 50 * MS, -1, xtratime=0), _w("b", 60 * MS, -1), _w("c", 70 * MS, -1)]
    got = f([], wq, 0, 0)
    expect(tuple(got) == ("b", 5 * MS, 2), pl="Bez domen w RUNQ czas wolny dostaje kolejna domena z xtratime, na 5 ms.",
           en="With nothing on RUNQ the next xtratime domain gets the slack, for 5 ms.")
    got = f([], wq + [_w("u", 80 * MS, 2 * MS, "UNBLOCKED")], 0, 0)
    expect(got[0] == "u", pl="Niedawno odblokowana domena (UNBLOCKED) ma pierwszeństwo.",
           en="A recently unblocked domain (UNBLOCKED) goes first.")
    expect(got[1] == 5 * MS, pl="Czas nigdy nie jest krótszy niż 5 ms.", en="The time is never below 5 ms.")


@EX.check(points=2, function="atropos_pick", hidden=True,
          title={"pl": "Atropos: losowe kolejki", "en": "Atropos: random queues"})
def atropos_random(ctx):
    for _ in range(60):
        now = int(ctx.rng.integers(0, 100)) * MS
        runq = sorted(({"name": f"r{i}", "deadline": now + int(ctx.rng.integers(1, 50)) * MS,
                        "remain": int(ctx.rng.integers(1, 20)) * MS} for i in range(int(ctx.rng.integers(0, 3)))),
                      key=lambda d: d["deadline"])
        waitq = sorted((_w(f"w{i}", now + int(ctx.rng.integers(1, 50)) * MS, int(ctx.rng.integers(-5, 5)) * MS,
                           "UNBLOCKED" if ctx.rng.random() < 0.2 else "WAIT", int(ctx.rng.integers(0, 2)))
                        for i in range(int(ctx.rng.integers(0, 5)))), key=lambda d: d["deadline"])
        rr = int(ctx.rng.integers(0, 5))
        want = ref_atropos_pick(runq, waitq, now, rr)
        got = ctx.fn("atropos_pick")(runq, waitq, now, rr)
        expect(tuple(got) == want, pl=f"Dla RUNQ={runq}, WAITQ={waitq}, now={now}, rr={rr} oczekiwano {want}.",
               en=f"For RUNQ={runq}, WAITQ={waitq}, now={now}, rr={rr} expected {want}.")


# -- Credit ---------------------------------------------------------------------------------------------------
@EX.check(points=1, function="credit_acct",
          title={"pl": "Credit: podział według wag", "en": "Credit: shares by weight"})
def credit_weights(ctx):
    got = ctx.fn("credit_acct")([{"name": "a", "weight": 256, "cap": 0, "credits": [0]},
                                 {"name": "b", "weight": 512, "cap": 0, "credits": [-250]}], 300)
    expect(list(got["a"][0]) == [100, "UNDER"], pl="Domena z wagą 256 z 768 powinna dostać trzecią część z 300.",
           en="A domain with weight 256 of 768 should get a third of 300.")
    expect(list(got["b"][0]) == [-50, "OVER"], pl="Ujemne saldo po wpłacie oznacza priorytet OVER.",
           en="A balance still negative after the deposit means OVER.")


@EX.check(points=1, function="credit_acct",
          title={"pl": "Credit: górny limit i nadwyżka", "en": "Credit: the cap and the excess"})
def credit_cap(ctx):
    got = ctx.fn("credit_acct")([{"name": "a", "weight": 256, "cap": 10, "credits": [0]},
                                 {"name": "b", "weight": 256, "cap": 0, "credits": [0]}], 300)
    expect(got["a"][0][0] == 30, pl="Limit 10% to co najwyżej 30 kredytów na okres rozliczeniowy.",
           en="A 10% cap is at most 30 credits per accounting period.")
    expect(got["b"][0][0] == 270, pl="Nadwyżki domeny ograniczonej nie wolno zmarnować: trafia do kolejnych domen.",
           en="The capped domain's excess must not be wasted: it goes to the domains after it.")


@EX.check(points=2, function="credit_acct", hidden=True,
          title={"pl": "Credit: losowe domeny", "en": "Credit: random domains"})
def credit_random(ctx):
    for _ in range(40):
        doms = [{"name": f"d{i}", "weight": int(ctx.rng.integers(1, 1024)),
                 "cap": int(ctx.rng.choice([0, 0, 10, 50, 150])),
                 "credits": [int(x) for x in ctx.rng.integers(-400, 400, size=int(ctx.rng.integers(1, 4)))]}
                for i in range(int(ctx.rng.integers(1, 5)))]
        want = ref_credit_acct([dict(d, credits=list(d["credits"])) for d in doms], 600)
        got = ctx.fn("credit_acct")(doms, 600)
        got = {k: [tuple(x) for x in v] for k, v in got.items()}
        expect(got == want, pl=f"Dla {doms} oczekiwano {want}.", en=f"For {doms} expected {want}.")
