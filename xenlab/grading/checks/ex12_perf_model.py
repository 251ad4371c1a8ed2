"""Exercise 12: a platform's price from the micro-benchmarks, a benchmark's relative score from its mix.

Oracles: the paper's lmbench tables (SOSP'03 Tables 3-5: a row on a platform less the native row, over
how many times the row sets the mechanism off, is the mechanism's price; UML's null call 24.7 us less
native 0.45 us is one ptrace round trip), and the cost model of chapter 12 (xenlab/perf/predict.py): a
relative score is the time of a unit of work on L over its time on P, each time being the user-mode work
plus the sum of count x cost over the operations. The hidden checks draw other mixes, costs and rows
per student, and recompute the model's own predicted Figure 3 from the frozen mixes.
"""
from __future__ import annotations

import math

from xenlab.grading.registry import exercise, expect

EX = exercise("ex12", chapter=12, functions=("mechanism_price", "relative_score"),
              title={"pl": "Model kosztów: cena mechanizmu i wynik względny",
                     "en": "The cost model: a mechanism's price and a relative score"})


def reference_price(native_us, platform_us, times):
    return (platform_us - native_us) / times


def reference_score(mix, native_costs, platform_costs, compute_us):
    t_l = compute_us + sum(n * native_costs[op] for op, n in mix.items())
    t_p = compute_us + sum(n * platform_costs[op] for op, n in mix.items())
    return t_l / t_p


def _close(a, b, rel=1e-6):
    try:
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


@EX.check(points=1, function="mechanism_price", title={"pl": "ptrace w UML", "en": "ptrace on UML"})
def price_ptrace(ctx):
    got = ctx.fn("mechanism_price")(0.45, 24.7, 1)
    expect(_close(got, reference_price(0.45, 24.7, 1)),
           pl="Wywołanie null call w UML (24,7 µs) to wywołanie natywne (0,45 µs) plus jedno przechwycenie "
              "przez ptrace; cena przechwycenia się nie zgadza.",
           en="A null call on UML (24.7 us) is the native call (0.45 us) plus one ptrace interception; "
              "the interception's price does not match.")


@EX.check(points=1, function="mechanism_price", title={"pl": "dwa hiperwywołania", "en": "two hypercalls"})
def price_two(ctx):
    got = ctx.fn("mechanism_price")(0.77, 1.97, 2)
    expect(_close(got, reference_price(0.77, 1.97, 2)),
           pl="Przełączenie kontekstu w XenLinuksie to dwa hiperwywołania (mmuext_op i wielowywołanie); "
              "dodatkowy czas dzieli się na oba.",
           en="A context switch on XenLinux is two hypercalls (mmuext_op and a multicall); the extra time "
              "is shared by both.")


@EX.check(points=1, function="relative_score", title={"pl": "mała mieszanka", "en": "a small mix"})
def score_small(ctx):
    got = ctx.fn("relative_score")({"syscall": 10}, {"syscall": 1.0}, {"syscall": 3.0}, 20.0)
    expect(_close(got, 0.6),
           pl="Wynik względny to czas jednostki pracy na L podzielony przez czas na P; praca w trybie "
              "użytkownika liczy się w obu.",
           en="The relative score is a unit of work's time on L over its time on P; the user-mode work "
              "counts in both.")


@EX.check(points=1, function="relative_score", title={"pl": "bez obliczeń", "en": "no computation"})
def score_no_compute(ctx):
    got = ctx.fn("relative_score")({"fault": 4, "switch": 2}, {"fault": 1.5, "switch": 1.0},
                                   {"fault": 12.0, "switch": 18.0}, 0.0)
    expect(_close(got, reference_score({"fault": 4, "switch": 2}, {"fault": 1.5, "switch": 1.0},
                                       {"fault": 12.0, "switch": 18.0}, 0.0)),
           pl="Każda operacja mieszanki liczy się tyle razy, ile wystąpiła, po cenie danej platformy.",
           en="Each operation of the mix counts as many times as it occurs, at the platform's price.")


@EX.check(points=2, function="mechanism_price", hidden=True, title={"pl": "losowe wiersze", "en": "random rows"})
def price_random(ctx):
    for _ in range(200):
        native = float(ctx.rng.uniform(0.1, 1000))
        platform = native + float(ctx.rng.uniform(0, 30000))
        times = int(ctx.rng.integers(1, 2049))
        want = reference_price(native, platform, times)
        got = ctx.fn("mechanism_price")(native, platform, times)
        expect(_close(got, want), pl=f"Dla ({native:.3g}, {platform:.3g}, {times}) wynik się nie zgadza.",
               en=f"For ({native:.3g}, {platform:.3g}, {times}) the result does not match.")


@EX.check(points=2, function="relative_score", hidden=True, title={"pl": "losowe mieszanki", "en": "random mixes"})
def score_random(ctx):
    ops = ("syscall", "fault", "switch", "fork", "exec", "disk", "packet")
    for _ in range(200):
        k = int(ctx.rng.integers(1, len(ops) + 1))
        chosen = [ops[i] for i in ctx.rng.permutation(len(ops))[:k]]
        mix = {op: float(ctx.rng.uniform(0, 500)) for op in chosen}
        native = {op: float(ctx.rng.uniform(0.3, 600)) for op in chosen}
        platform = {op: native[op] * float(ctx.rng.uniform(1.0, 50.0)) for op in chosen}
        compute = float(ctx.rng.uniform(0, 1e6))
        want = reference_score(mix, native, platform, compute)
        got = ctx.fn("relative_score")(dict(mix), dict(native), dict(platform), compute)
        expect(_close(got, want), pl="Dla jednej z losowych mieszanek wynik się nie zgadza.",
               en="For one of the random mixes the result does not match.")


@EX.check(points=2, function="relative_score", hidden=True, timeout=10,
          title={"pl": "rysunek 3 modelu", "en": "the model's Figure 3"})
def score_model(ctx):
    from xenlab.perf import costs as C
    from xenlab.perf import predict as P
    from xenlab.perf.workloads import BENCHMARKS, frozen
    units = dict(C.calibrate())
    name = list(units)[int(ctx.rng.integers(0, len(units)))]
    units[name] *= float(ctx.rng.uniform(0.3, 3.0))             # a price moved, as with a slider
    table = C.op_costs(units)
    pred = P.predict(units)
    for bench in BENCHMARKS:
        parts = P.unit_times(frozen()[bench], table)
        mix = dict(frozen()[bench]["mix"])
        mix["irq"] = parts["L"]["irq"] / table["L"]["irq"]
        mix = {op: n for op, n in mix.items() if op in table["L"]}
        for i, p in enumerate(C.PLATFORMS):
            got = ctx.fn("relative_score")(dict(mix), dict(table["L"]), dict(table[p]), parts["L"]["compute"])
            expect(_close(got, pred[bench][i]),
                   pl=f"{bench} na {p}: wynik różni się od przewidywania modelu.",
                   en=f"{bench} on {p}: the score differs from the model's prediction.")
