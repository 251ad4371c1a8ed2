"""Exercise 14: the pre-copy stop rule and the adaptive rate of xc_linux_save.

Oracles: reference/xen-facts.md section 11 (DEF_MAX_ITERS 29, DEF_MAX_FACTOR 3, < 50 pages,
MAX_MBIT_RATE 500) and the model's own implementation of X@RELEASE-3.0.0:tools/libxc/xc_linux_save.c
(xenlab.toolstack.save.precopy_should_stop and next_rate), which the migration tests exercise.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect

EX = exercise("ex14", chapter=14, functions=("last_iteration", "next_rate"),
              title={"pl": "Kiedy skończyć kopiowanie wstępne", "en": "When to stop pre-copying"})

MAX_MBIT_RATE, DEF_MAX_ITERS, DEF_MAX_FACTOR = 500, 29, 3


def reference_last_iteration(it, sent, last, skip, total, max_pfn, rate) -> bool:
    return ((sent > last and rate == MAX_MBIT_RATE) or it >= DEF_MAX_ITERS or sent + skip < 50
            or total > max_pfn * DEF_MAX_FACTOR)


def reference_next_rate(rate, dirty, elapsed_ms) -> int:
    dirtied = dirty * 4096 // (max(1, elapsed_ms) * 125)
    return min(dirtied + 50, MAX_MBIT_RATE) if dirtied > rate else rate


def _stop(ctx, *args):
    got = ctx.fn("last_iteration")(*args)
    expect(isinstance(got, bool) or got in (0, 1),
           pl=f"last_iteration powinna zwracać True albo False, a zwróciła {got!r}.",
           en=f"last_iteration should return True or False, but returned {got!r}.")
    return bool(got)


@EX.check(points=1, function="last_iteration",
          title={"pl": "iteracja pośrodku migracji: jeszcze nie koniec", "en": "an iteration mid-way: not the end yet"})
def stop_goes_on(ctx):
    expect(not _stop(ctx, 3, 900, 1200, 100, 20000, 16384, 200),
           pl="Żaden z czterech warunków nie zachodzi, a funkcja każe kończyć.",
           en="None of the four conditions holds, yet the function says stop.")


@EX.check(points=1, function="last_iteration",
          title={"pl": "prawie nic do wysłania", "en": "almost nothing left to send"})
def stop_few_pages(ctx):
    expect(_stop(ctx, 5, 20, 40, 10, 20000, 16384, 200),
           pl="Wysłane i odłożone strony razem to mniej niż próg: czas na ostatnią iterację.",
           en="Sent plus skipped pages are below the threshold: time for the last iteration.")
    expect(not _stop(ctx, 5, 30, 40, 20, 20000, 16384, 200),
           pl="Sprawdź, czy próg dotyczy sumy wysłanych i odłożonych stron, i czy nierówność jest ostra.",
           en="Check that the threshold applies to sent plus skipped pages, and that the inequality is strict.")


@EX.check(points=1, function="last_iteration",
          title={"pl": "maksymalna prędkość i rosnąca liczba stron", "en": "maximum rate and a growing number of pages"})
def stop_rate(ctx):
    expect(_stop(ctx, 4, 3000, 2000, 0, 30000, 16384, 500),
           pl="Przy maksymalnej prędkości kolejna iteracja wysłała więcej niż poprzednia: trzeba kończyć.",
           en="At the maximum rate this iteration sent more than the last one: it is time to stop.")
    expect(not _stop(ctx, 4, 3000, 2000, 0, 30000, 16384, 450),
           pl="Ten warunek dotyczy tylko maksymalnej prędkości.", en="That condition applies only at the maximum rate.")


@EX.check(points=2, function="last_iteration", hidden=True,
          title={"pl": "losowe stany pętli", "en": "random states of the loop"})
def stop_random(ctx):
    for _ in range(400):
        it = int(ctx.rng.integers(1, 35))
        max_pfn = int(ctx.rng.choice([4096, 16384, 65536]))
        args = (it, int(ctx.rng.integers(0, 3000)), int(ctx.rng.integers(0, 3000)), int(ctx.rng.integers(0, 60)),
                int(ctx.rng.integers(0, 4 * max_pfn)), max_pfn, int(ctx.rng.choice([100, 250, 499, 500])))
        want = reference_last_iteration(*args)
        expect(_stop(ctx, *args) == want, pl=f"last_iteration{args} powinno dać {want}.",
               en=f"last_iteration{args} should be {want}.")


@EX.check(points=1, function="next_rate",
          title={"pl": "gość brudzi wolniej, niż wysyłamy", "en": "the guest dirties slower than we send"})
def rate_unchanged(ctx):
    expect(ctx.fn("next_rate")(100, 100, 1000) == 100,
           pl="Gdy tempo brudzenia nie przekracza bieżącej prędkości, prędkość się nie zmienia.",
           en="When the dirtying rate is not above the current rate, the rate stays the same.")


@EX.check(points=1, function="next_rate",
          title={"pl": "gość brudzi szybciej", "en": "the guest dirties faster"})
def rate_up(ctx):
    got = ctx.fn("next_rate")(100, 1000, 100)
    expect(got == reference_next_rate(100, 1000, 100),
           pl=f"Dla 1000 stron w 100 ms otrzymano {got}; policz tempo w Mb/s i dodaj zapas.",
           en=f"For 1000 pages in 100 ms you gave {got}; work out the rate in Mb/s and add the margin.")
    expect(ctx.fn("next_rate")(400, 20000, 10) == MAX_MBIT_RATE,
           pl="Prędkość nie może przekroczyć MAX_MBIT_RATE.", en="The rate may not exceed MAX_MBIT_RATE.")


@EX.check(points=2, function="next_rate", hidden=True,
          title={"pl": "losowe iteracje", "en": "random iterations"})
def rate_random(ctx):
    for _ in range(300):
        args = (int(ctx.rng.choice([100, 150, 320, 500])), int(ctx.rng.integers(0, 20000)),
                int(ctx.rng.integers(0, 5000)))
        want = reference_next_rate(*args)
        got = ctx.fn("next_rate")(*args)
        expect(got == want, pl=f"next_rate{args} powinno dać {want}, a dało {got}.",
               en=f"next_rate{args} should be {want}, got {got}.")
