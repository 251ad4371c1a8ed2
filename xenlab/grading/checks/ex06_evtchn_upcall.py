"""Exercise 06: evtchn_set_pending and unmask on plain bitmaps (the upcall logic).

Oracle: xen-facts section 3 (X@RELEASE-3.0.0:xen/include/xen/event.h; EVTCHNOP_unmask of 3.0.2):
set-pending in strict order (pending bit; stop if it was set; stop if masked; selector bit; stop if it
was set; upcall_pending; kick if it was newly set); unmask clears the mask and, for a pending port
whose selector bit was clear, sets the selector and the upcall. The live model's own functions are
checked against the same reference in tests/cpu.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect

EX = exercise("ex06", chapter=6, functions=("set_pending", "unmask"),
              title={"pl": "Kanały zdarzeń: ustawianie bitów i odmaskowanie",
                     "en": "Event channels: setting the bits and unmasking"})
BITS = 32


def reference_set_pending(pending, mask, sel, upcall, port):
    bit = 1 << port
    if pending & bit:
        return pending, sel, upcall, False
    pending |= bit
    if mask & bit:
        return pending, sel, upcall, False
    w = 1 << (port // BITS)
    if sel & w:
        return pending, sel, upcall, False
    sel |= w
    if upcall:
        return pending, sel, upcall, False
    return pending, sel, 1, True


def reference_unmask(pending, mask, sel, upcall, port):
    bit = 1 << port
    was_masked = bool(mask & bit)
    mask &= ~bit
    if not was_masked or not pending & bit:
        return mask, sel, upcall, False
    w = 1 << (port // BITS)
    if sel & w:
        return mask, sel, upcall, False
    sel |= w
    if upcall:
        return mask, sel, upcall, False
    return mask, sel, 1, True


def _call(ctx, name, *args):
    got = ctx.fn(name)(*args)
    expect(isinstance(got, tuple) and len(got) == 4,
           pl=f"{name} powinna zwrócić krotkę czterech wartości, a zwróciła {got!r}.",
           en=f"{name} should return a tuple of four values, but returned {got!r}.")
    return tuple(int(x) for x in got)


@EX.check(points=1, function="set_pending", title={"pl": "zdarzenie na wolnym, niezamaskowanym porcie",
                                                   "en": "an event on a quiet, unmasked port"})
def sp_basic(ctx):
    got = _call(ctx, "set_pending", 0, 0, 0, 0, 5)
    expect(got[0] == 1 << 5, pl="Bit oczekiwania portu powinien zostać ustawiony.", en="The port's pending bit should be set.")
    expect(got[1] == 1 and got[2] == 1 and got[3],
           pl="Nowe zdarzenie na niezamaskowanym porcie powinno ustawić selektor, upcall_pending i obudzić vcpu.",
           en="A new event on an unmasked port should set the selector, upcall_pending and kick the vcpu.")


@EX.check(points=1, function="set_pending", title={"pl": "port zamaskowany", "en": "a masked port"})
def sp_masked(ctx):
    got = _call(ctx, "set_pending", 0, 1 << 40, 0, 0, 40)
    expect(got[0] == 1 << 40, pl="Na zamaskowanym porcie bit oczekiwania też zostaje ustawiony.",
           en="On a masked port the pending bit is set too.")
    expect(got[1:] == (0, 0, 0), pl="Zamaskowany port nie może wywołać upcalla.", en="A masked port must not cause an upcall.")


@EX.check(points=1, function="set_pending", title={"pl": "selektor i upcall już ustawione",
                                                   "en": "selector and upcall already set"})
def sp_already(ctx):
    got = _call(ctx, "set_pending", 1 << 3, 0, 1, 1, 3)
    expect(got == (1 << 3, 1, 1, 0), pl="Port już oczekujący: nic nowego się nie dzieje.",
           en="An already pending port: nothing new happens.")
    got = _call(ctx, "set_pending", 0, 0, 1, 1, 4)
    expect(not got[3], pl="Gdy bit selektora już był ustawiony, vcpu nie jest budzony ponownie.",
           en="When the selector bit was already set, the vcpu is not kicked again.")


@EX.check(points=1, function="unmask", title={"pl": "odmaskowanie oczekującego portu",
                                              "en": "unmasking a pending port"})
def um_pending(ctx):
    got = _call(ctx, "unmask", 1 << 33, 1 << 33, 0, 0, 33)
    expect(got[0] == 0, pl="Bit maski powinien zostać wyczyszczony.", en="The mask bit should be cleared.")
    expect(got[1:] == (0b10, 1, 1), pl="Oczekujące zdarzenie po odmaskowaniu powinno wywołać upcall.",
           en="A pending event should cause an upcall once unmasked.")


@EX.check(points=1, function="unmask", title={"pl": "odmaskowanie bez zdarzenia", "en": "unmasking with no event"})
def um_idle(ctx):
    got = _call(ctx, "unmask", 0, 1 << 2, 0, 0, 2)
    expect(got == (0, 0, 0, 0), pl="Bez oczekującego zdarzenia odmaskowanie tylko czyści maskę.",
           en="With no pending event unmasking only clears the mask.")


@EX.check(points=2, function="set_pending", hidden=True, title={"pl": "losowe stany", "en": "random states"})
def sp_random(ctx):
    for _ in range(300):
        pending, mask = int(ctx.rng.integers(0, 1 << 62)), int(ctx.rng.integers(0, 1 << 62))
        sel, up, port = int(ctx.rng.integers(0, 4)), int(ctx.rng.integers(0, 2)), int(ctx.rng.integers(0, 62))
        want = reference_set_pending(pending, mask, sel, up, port)
        got = _call(ctx, "set_pending", pending, mask, sel, up, port)
        expect(got == tuple(int(x) for x in want),
               pl=f"set_pending(pending={pending:#x}, mask={mask:#x}, sel={sel}, upcall={up}, port={port}): oczekiwano {want}, jest {got}.",
               en=f"set_pending(pending={pending:#x}, mask={mask:#x}, sel={sel}, upcall={up}, port={port}): expected {want}, got {got}.")


@EX.check(points=2, function="unmask", hidden=True, title={"pl": "losowe stany", "en": "random states"})
def um_random(ctx):
    for _ in range(300):
        pending, mask = int(ctx.rng.integers(0, 1 << 62)), int(ctx.rng.integers(0, 1 << 62))
        sel, up, port = int(ctx.rng.integers(0, 4)), int(ctx.rng.integers(0, 2)), int(ctx.rng.integers(0, 62))
        want = reference_unmask(pending, mask, sel, up, port)
        got = _call(ctx, "unmask", pending, mask, sel, up, port)
        expect(got == tuple(int(x) for x in want),
               pl=f"unmask(pending={pending:#x}, mask={mask:#x}, sel={sel}, upcall={up}, port={port}): oczekiwano {want}, jest {got}.",
               en=f"unmask(pending={pending:#x}, mask={mask:#x}, sel={sel}, upcall={up}, port={port}): expected {want}, got {got}.")
