"""Exercise 06b (debugging lab): an evtchn_set_pending that misses upcalls, found from the trace and fixed.

The student gets a colleague's set-pending whose selector bit is taken from the port's position
*within* its word (port % 32) instead of the word's index (port // 32), so the guest's upcall handler
scans the wrong word of the pending bitmap, finds nothing there, and the event stays pending with its
word's selector bit clear: lost. Graded by the fixed behaviour, with exercise 06's oracle (xen-facts
section 3, X@RELEASE-3.0.0:xen/include/xen/event.h) and a live domain whose events must all be handled.
"""
from __future__ import annotations

from xenlab.grading.checks import ex06_evtchn_upcall as base
from xenlab.grading.registry import exercise, expect

EX = exercise("ex06b", chapter=6, functions=("set_pending",),
              title={"pl": "Laboratorium: zgubiony upcall", "en": "Debugging lab: a missed upcall"})


def buggy_set_pending(pending, mask, sel, upcall, port):
    """The colleague's version (the lab's starting point)."""
    bit = 1 << port
    if pending & bit:
        return pending, sel, upcall, False
    pending |= bit
    if mask & bit:
        return pending, sel, upcall, False
    word = 1 << (port % 32)
    if sel & word:
        return pending, sel, upcall, False
    sel |= word
    if upcall:
        return pending, sel, upcall, False
    return pending, sel, 1, True


@EX.check(points=1, function="set_pending", title={"pl": "zdarzenie na porcie 5", "en": "an event on port 5"})
def sp_port5(ctx):
    got = base._call(ctx, "set_pending", 0, 0, 0, 0, 5)
    expect(got == tuple(int(x) for x in base.reference_set_pending(0, 0, 0, 0, 5)),
           pl="Zdarzenie na porcie 5 (słowo 0 mapy bitowej): procedura obsługi gościa, która przegląda słowa "
              "wskazane przez selektor, go nie znajdzie.",
           en="An event on port 5 (word 0 of the bitmap): the guest's handler, which scans the words the "
              "selector names, will not find it.")


@EX.check(points=1, function="set_pending", title={"pl": "zdarzenie na porcie 40", "en": "an event on port 40"})
def sp_port40(ctx):
    got = base._call(ctx, "set_pending", 0, 0, 0, 0, 40)
    expect(got == tuple(int(x) for x in base.reference_set_pending(0, 0, 0, 0, 40)),
           pl="Zdarzenie na porcie 40: stan po set_pending się nie zgadza.",
           en="An event on port 40: the state after set_pending is wrong.")


@EX.check(points=1, function="set_pending", title={"pl": "port zamaskowany", "en": "a masked port"})
def sp_masked(ctx):
    base.sp_masked(ctx)


@EX.check(points=2, function="set_pending", hidden=True, timeout=20,
          title={"pl": "żywa domena: żadne zdarzenie nie ginie", "en": "a live domain: no event is lost"})
def sp_live(ctx):
    from xenlab.viz.sandbox import StudentEvtchn, _evtchn_run
    fn = ctx.fn("set_pending")
    _, _, _, xen = _evtchn_run(None)
    logic = StudentEvtchn(fn, None)
    _, _, _, yours = _evtchn_run(logic)
    expect(logic.set_pending.problem is None,
           pl=f"W żywej domenie set_pending zawiodła: {logic.set_pending.problem}",
           en=f"In the live domain set_pending failed: {logic.set_pending.problem}")
    lost = [y[0] for x, y in zip(xen, yours) if x[1:] != y[1:]]     # (label, kick, handled, pending)
    expect(not lost, pl=f"W żywej domenie przebieg różni się od Xena w krokach: {', '.join(lost)}.",
           en=f"In the live domain the run differs from Xen's at the steps: {', '.join(lost)}.")


@EX.check(points=2, function="set_pending", hidden=True, title={"pl": "losowe stany", "en": "random states"})
def sp_random(ctx):
    base.sp_random(ctx)
