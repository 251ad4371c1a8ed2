"""Exercise 13: xentop's STATE letters and CPU(%) from two DOM0_GETDOMAININFO samples.

Oracles:
- X@3.0.4-branched:tools/xenstat/xentop/xentop.c: the STATE column prints the letters d s b c p r in
  that order (dying, shutdown, blocked, crashed, paused, running), '-' where false; libxenstat reads
  them from DOM0_GETDOMAININFO's flags (xen/include/public/dom0_ops.h: DOMFLAGS_DYING 1<<0,
  SHUTDOWN 1<<2, PAUSED 1<<3, BLOCKED 1<<4, RUNNING 1<<5, the shutdown reason in bits 16-23).
  A domain that shut down with reason SHUTDOWN_crash (3) shows 'c', not 's' (xenstat_domain_crashed).
- get_cpu_pct(): ((cpu_ns now - cpu_ns before) / 10.0) / (microseconds between the two samples), so a
  whole busy CPU is 100.0 and an SMP domain may exceed it; 0.0 when no time passed.
The model's own xentop (xenlab/toolstack/xentop.py) implements the same rules and is compared with
these references in tests/grading/test_exercises_i12.py.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public.xen import (
    SHUTDOWN_crash,
    SHUTDOWN_poweroff,
    SHUTDOWN_reboot,
    SHUTDOWN_suspend,
)

EX = exercise("ex13", chapter=13, functions=("xentop_state", "cpu_percent"),
              title={"pl": "xentop: litery stanu i CPU(%) z dwóch próbek",
                     "en": "xentop: the state letters and CPU(%) from two samples"})

LETTERS = "dsbcpr"


def flags_of(dying=False, shutdown=None, paused=False, blocked=False, running=False) -> int:
    """DOM0_GETDOMAININFO flags; ``shutdown`` is None or the shutdown reason."""
    f = (D.DOMFLAGS_DYING if dying else 0) | (D.DOMFLAGS_PAUSED if paused else 0)
    f |= (D.DOMFLAGS_BLOCKED if blocked else 0) | (D.DOMFLAGS_RUNNING if running else 0)
    if shutdown is not None:
        f |= D.DOMFLAGS_SHUTDOWN | (shutdown << D.DOMFLAGS_SHUTDOWNSHIFT)
    return f


def reference_state(flags: int) -> str:
    shutdown = bool(flags & D.DOMFLAGS_SHUTDOWN)
    crashed = shutdown and ((flags >> D.DOMFLAGS_SHUTDOWNSHIFT) & D.DOMFLAGS_SHUTDOWNMASK) == SHUTDOWN_crash
    on = (flags & D.DOMFLAGS_DYING, shutdown and not crashed, flags & D.DOMFLAGS_BLOCKED, crashed,
          flags & D.DOMFLAGS_PAUSED, flags & D.DOMFLAGS_RUNNING)
    return "".join(ch if o else "-" for ch, o in zip(LETTERS, on))


def reference_cpu_percent(before, after) -> float:
    (t0, c0), (t1, c1) = before, after
    us = (t1 - t0) / 1000.0
    if us <= 0:
        return 0.0
    return ((c1 - c0) / 10.0) / us


def _state(ctx, flags):
    got = ctx.fn("xentop_state")(flags)
    expect(isinstance(got, str) and len(got) == 6 and all(ch in LETTERS + "-" for ch in got),
           pl=f"xentop_state powinna zwrócić 6 znaków spośród d, s, b, c, p, r i '-', a zwróciła {got!r}.",
           en=f"xentop_state should return 6 characters out of d, s, b, c, p, r and '-', but returned {got!r}.")
    return got


def _pct(ctx, before, after):
    got = ctx.fn("cpu_percent")(before, after)
    expect(isinstance(got, (int, float)) and not isinstance(got, bool),
           pl=f"cpu_percent powinna zwrócić liczbę, a zwróciła {got!r}.",
           en=f"cpu_percent should return a number, but returned {got!r}.")
    return float(got)


# --- xentop_state --------------------------------------------------------------------------------------
@EX.check(points=1, function="xentop_state", title={"pl": "domena działająca i domena zablokowana",
                                                    "en": "a running and a blocked domain"})
def state_running_blocked(ctx):
    r, b = _state(ctx, flags_of(running=True)), _state(ctx, flags_of(blocked=True))
    expect(r.count("-") == 5 and b.count("-") == 5 and r != b,
           pl="Domena z jedną flagą powinna mieć jedną literę i pięć kresek, a działająca i zablokowana różne.",
           en="A domain with one flag should show one letter and five dashes, different for running and blocked.")
    expect(r == reference_state(flags_of(running=True)) and b == reference_state(flags_of(blocked=True)),
           pl="Litery są, ale nie na swoich miejscach: xentop ma inną kolejność niż xm list (zajrzyj do xentop.c).",
           en="The letters are there but not in their places: xentop's order is not xm list's (see xentop.c).")


@EX.check(points=1, function="xentop_state", title={"pl": "wstrzymana domena po zamknięciu",
                                                    "en": "a paused domain that shut down"})
def state_paused_shutdown(ctx):
    f = flags_of(paused=True, shutdown=SHUTDOWN_poweroff)
    expect(_state(ctx, f) == reference_state(f),
           pl="Stan z dwiema flagami (wstrzymana, zamknięta) jest zły: każda flaga ma własną kolumnę.",
           en="A state with two flags (paused, shut down) is wrong: each flag has a column of its own.")


@EX.check(points=1, function="xentop_state", title={"pl": "awaria to nie zwykłe zamknięcie",
                                                    "en": "a crash is not an ordinary shutdown"})
def state_crash(ctx):
    crash = flags_of(shutdown=SHUTDOWN_crash)
    got = _state(ctx, crash)
    expect(got == reference_state(crash),
           pl="Domena zamknięta z powodem SHUTDOWN_crash: xentop pokazuje to inną literą niż zwykłe zamknięcie "
              "(powód leży w bitach 16-23 flag).",
           en="A domain shut down with reason SHUTDOWN_crash: xentop shows it with another letter than an "
              "ordinary shutdown (the reason is in bits 16-23 of the flags).")


@EX.check(points=2, function="xentop_state", hidden=True, title={"pl": "wszystkie flagi i powody",
                                                                 "en": "every flag and reason"})
def state_all(ctx):
    reasons = (None, SHUTDOWN_poweroff, SHUTDOWN_reboot, SHUTDOWN_suspend, SHUTDOWN_crash)
    cases = [flags_of(bool(m & 1), reasons[(m >> 1) % 5], bool(m & 16), bool(m & 32), bool(m & 64))
             for m in range(128)]
    extra = int(ctx.rng.integers(0, 4)) << D.DOMFLAGS_CPUSHIFT       # the CPU field must not matter
    for f in [c | extra for c in ctx.rng.permutation(cases)]:
        f = int(f)
        want, got = reference_state(f), _state(ctx, f)
        expect(got == want, pl=f"xentop_state({f:#x}): oczekiwano {want!r}, jest {got!r}.",
               en=f"xentop_state({f:#x}): expected {want!r}, got {got!r}.")


# --- cpu_percent ----------------------------------------------------------------------------------------
@EX.check(points=1, function="cpu_percent", title={"pl": "cały procesor przez sekundę",
                                                   "en": "a whole CPU for a second"})
def pct_full(ctx):
    got = _pct(ctx, (2_000_000_000, 5_000_000_000), (3_000_000_000, 6_000_000_000))
    expect(abs(got - 100.0) < 1e-6,
           pl="Domena, która przez całą sekundę zajmowała jeden procesor, nie ma dobrego wyniku "
              "(sprawdź jednostki: czas CPU w ns, odstęp próbek w µs).",
           en="A domain that kept one CPU busy for the whole second gets a wrong value "
              "(check the units: CPU time in ns, the interval in µs).")


@EX.check(points=1, function="cpu_percent", title={"pl": "domena SMP i domena prawie bezczynna",
                                                   "en": "an SMP domain and an almost idle one"})
def pct_smp_idle(ctx):
    smp = _pct(ctx, (0, 0), (500_000_000, 1_000_000_000))
    idle = _pct(ctx, (0, 7), (2_000_000_000, 40_000_007))
    expect(abs(smp - reference_cpu_percent((0, 0), (500_000_000, 1_000_000_000))) < 1e-6,
           pl="Dwa zajęte procesory wirtualne przez pół sekundy: wynik się nie zgadza (xentop nie dzieli "
              "przez liczbę procesorów).",
           en="Two busy virtual CPUs for half a second: the value is wrong (xentop does not divide by the "
              "number of CPUs).")
    expect(abs(idle - reference_cpu_percent((0, 7), (2_000_000_000, 40_000_007))) < 1e-6,
           pl="Domena prawie bezczynna: wynik się nie zgadza (liczy się różnica czasów CPU, nie ich suma).",
           en="An almost idle domain: the value is wrong (what counts is the difference of CPU times).")


@EX.check(points=1, function="cpu_percent", hidden=True, title={"pl": "bez upływu czasu",
                                                                "en": "no time between the samples"})
def pct_zero_interval(ctx):
    got = _pct(ctx, (10**9, 10**9), (10**9, 10**9))
    expect(got == 0.0, pl=f"Dwie próbki z tej samej chwili: oczekiwano 0.0, jest {got!r}.",
           en=f"Two samples at the same instant: expected 0.0, got {got!r}.")


@EX.check(points=2, function="cpu_percent", hidden=True, title={"pl": "losowe próbki", "en": "random samples"})
def pct_random(ctx):
    for _ in range(200):
        t0 = int(ctx.rng.integers(0, 10**12))
        dt = int(ctx.rng.integers(1, 5 * 10**9))
        c0 = int(ctx.rng.integers(0, 10**12))
        dc = int(ctx.rng.integers(0, 4 * dt))
        before, after = (t0, c0), (t0 + dt, c0 + dc)
        want, got = reference_cpu_percent(before, after), _pct(ctx, before, after)
        expect(abs(got - want) <= 1e-6 * max(1.0, abs(want)),
               pl=f"cpu_percent({before}, {after}): oczekiwano {want:.4f}, jest {got:.4f}.",
               en=f"cpu_percent({before}, {after}): expected {want:.4f}, got {got:.4f}.")
