"""Exercise 08: system time from the TSC and vcpu_time_info, as the guest computes it.

Oracle: xen-facts section 8 and H:xen.h (vcpu_time_info): system_time + ((((tsc - tsc_timestamp)
<< tsc_shift) * tsc_to_system_mul) >> 32), a negative shift shifting right, in 64-bit unsigned
arithmetic; the version field is odd while Xen updates the record. xenlab.xen.time.scale_delta is the
model's implementation; tests/cpu checks it against Xen's own value to the nanosecond.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect
from xenlab.xen.time import scale_delta, set_time_scale

EX = exercise("ex08", chapter=8, functions=("system_time_ns", "tsc_scale"),
              title={"pl": "Czas systemowy z licznika cykli", "en": "System time from the cycle counter"})


def reference(tsc, system_time, tsc_timestamp, mul, shift):
    return system_time + scale_delta(tsc - tsc_timestamp, shift, mul)


@EX.check(points=1, function="system_time_ns", title={"pl": "procesor 2 GHz", "en": "a 2 GHz CPU"})
def st_2ghz(ctx):
    got = ctx.fn("system_time_ns")(5_000 + 2_000, 1_000_000, 5_000, 1 << 31, 0)
    expect(got == 1_001_000, pl="2000 taktów przy 2 GHz to 1000 ns po znaczniku czasu; wynik się nie zgadza.",
           en="2000 ticks at 2 GHz are 1000 ns after the stamp; the result does not match.")


@EX.check(points=1, function="system_time_ns", title={"pl": "ujemne przesunięcie", "en": "a negative shift"})
def st_negative(ctx):
    s = set_time_scale(3_000_000_000)
    got = ctx.fn("system_time_ns")(3_000_000_000, 0, 0, s.mul_frac, s.shift)
    expect(abs(got - 1_000_000_000) <= 2 and got == reference(3_000_000_000, 0, 0, s.mul_frac, s.shift),
           pl="Przy ujemnym tsc_shift różnicę przesuwa się w prawo; sekunda taktów przy 3 GHz to około 10^9 ns.",
           en="With a negative tsc_shift the delta shifts right; a second of ticks at 3 GHz is about 10^9 ns.")


@EX.check(points=1, function="tsc_scale", title={"pl": "skala dla 2 GHz i 1 GHz", "en": "the scale for 2 GHz and 1 GHz"})
def sc_simple(ctx):
    expect(tuple(ctx.fn("tsc_scale")(2_000_000_000)) == (1 << 31, 0),
           pl="Dla 2 GHz mnożnik to połowa 2^32, bez przesunięcia.", en="At 2 GHz the multiplier is half of 2^32, no shift.")
    expect(tuple(ctx.fn("tsc_scale")(1_000_000_000)) == (1 << 31, 1),
           pl="Dla 1 GHz mnożnik musi się zmieścić w 32 bitach: przesuń częstotliwość do (1 GHz, 2 GHz].",
           en="At 1 GHz the multiplier must fit in 32 bits: shift the frequency into (1 GHz, 2 GHz].")


@EX.check(points=2, function="system_time_ns", hidden=True, title={"pl": "losowe rekordy", "en": "random records"})
def st_random(ctx):
    for _ in range(300):
        hz = int(ctx.rng.integers(10_000_000, 8_000_000_000))
        s = set_time_scale(hz)
        stamp, st = int(ctx.rng.integers(0, 1 << 40)), int(ctx.rng.integers(0, 1 << 50))
        tsc = stamp + int(ctx.rng.integers(0, hz * 3))
        want = reference(tsc, st, stamp, s.mul_frac, s.shift)
        got = ctx.fn("system_time_ns")(tsc, st, stamp, s.mul_frac, s.shift)
        expect(got == want, pl=f"Dla {hz} Hz oczekiwano {want}, jest {got}.", en=f"At {hz} Hz expected {want}, got {got}.")


@EX.check(points=2, function="tsc_scale", hidden=True, title={"pl": "wiele częstotliwości", "en": "many frequencies"})
def sc_random(ctx):
    for hz in [int(x) for x in ctx.rng.integers(1_000, 10**10, size=200)] + [2_394_000_000, 1_193_182]:
        s = set_time_scale(hz)
        got = tuple(ctx.fn("tsc_scale")(hz))
        expect(got == (s.mul_frac, s.shift), pl=f"Dla {hz} Hz oczekiwano {(s.mul_frac, s.shift)}, jest {got}.",
               en=f"At {hz} Hz expected {(s.mul_frac, s.shift)}, got {got}.")
