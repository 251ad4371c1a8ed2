"""Exercise 09b (debugging lab): a front ring that loses wake-ups, found from the trace and fixed.

The student gets a colleague's RING_PUSH_REQUESTS_AND_CHECK_NOTIFY whose notify test looks at the
window [old, new) instead of (old, new], and a RING_FINAL_CHECK_FOR_RESPONSES that re-arms rsp_event
and goes to sleep without the final look at rsp_prod. Graded by the fixed behaviour, with exercise
09's oracle (the model's io/ring.h macros, differential-tested against Xen's C macros) and a real
virtual disk whose I/O must all complete.
"""
from __future__ import annotations

from xenlab.grading.checks import ex09_front_ring as base
from xenlab.grading.registry import exercise, expect

EX = exercise("ex09b", chapter=9,
              functions=("push_requests_and_check_notify", "final_check_for_responses"),
              title={"pl": "Laboratorium: zgubione budzenie w buforze cyklicznym",
                     "en": "Debugging lab: a lost wake-up on the descriptor ring"})
st = base.st
M32 = base.M32


def buggy_push(front):
    """The colleague's version (the lab's starting point): the window is [old, new)."""
    s = front.sring
    old, new = s.req_prod, front.req_prod_pvt
    s.req_prod = new
    return ((s.req_event - old) & M32) < ((new - old) & M32)


def buggy_final_check(front):
    """The colleague's version: re-arms, then sleeps without looking again."""
    s = front.sring
    work = (s.rsp_prod - front.rsp_cons) & M32
    if work:
        return work
    s.rsp_event = (front.rsp_cons + 1) & M32
    return 0


@EX.check(points=1, function="push_requests_and_check_notify",
          title={"pl": "jedno żądanie do uśpionej części zaplecza", "en": "one request to a sleeping back end"})
def push_single(ctx):
    c = int(ctx.rng.integers(0, 1000))
    base.compare_push(ctx, st(c + 1, c, c, c + 1, c, c + 1),
                      "Część zaplecza śpi i czeka na req_event = req_prod + 1; gość publikuje jedno żądanie. ",
                      "The back end sleeps waiting at req_event = req_prod + 1; the guest pushes one request. ")


@EX.check(points=1, function="push_requests_and_check_notify",
          title={"pl": "wstrzymanie powiadomienia nadal działa", "en": "the hold-off still works"})
def push_hold_off(ctx):
    base.push_held_off(ctx)


@EX.check(points=2, function="push_requests_and_check_notify", hidden=True, timeout=20,
          title={"pl": "prawdziwy dysk: wszystkie operacje kończą się", "en": "a real disk: every I/O completes"})
def push_disk(ctx):
    from xenlab.viz.ex09 import _disk_run
    run = _disk_run(ctx.fn("push_requests_and_check_notify"), base.reference_final_check)
    expect(run["done"] == run["total"] and run["read"],
           pl=f"Z Twoją publikacją i poprawnym ostatnim sprawdzeniem dysk skończył {run['done']} z "
              f"{run['total']} operacji: część zaplecza nie została obudzona.",
           en=f"With your push and a correct final check the disk finished {run['done']} of {run['total']} "
              f"operations: the back end was not woken.")


@EX.check(points=2, function="push_requests_and_check_notify", hidden=True, timeout=20,
          title={"pl": "losowe sesje (także przez 2**32)", "en": "random sessions (across 2**32 too)"})
def push_random(ctx):
    base.push_random(ctx)


@EX.check(points=1, function="final_check_for_responses",
          title={"pl": "odpowiedź w trakcie ponownego uzbrajania", "en": "a response while re-arming"})
def final_race_public(ctx):
    c = int(ctx.rng.integers(0, 1000))
    state = st(c + 2, c, c + 2, c + 1, c, c - 2)

    def backend_answers(sring, name, value):
        if name == "rsp_event":
            object.__setattr__(sring, "rsp_prod", (sring.rsp_prod + 1) & M32)
    got, _, _ = base.run_student(ctx, "final_check_for_responses", state, on_write=backend_answers)
    expect(got == 1,
           pl="Część zaplecza opublikowała odpowiedź tuż przed tym, jak zapis rsp_event stał się widoczny (i nie "
              "wysłała zdarzenia); funkcja każe gościowi zasnąć z odpowiedzią w kolejce.",
           en="The back end published a response just before the write of rsp_event became visible (and "
              "sent no event); the function lets the guest sleep with a response queued.")


@EX.check(points=1, function="final_check_for_responses",
          title={"pl": "pusto: ponowne uzbrojenie", "en": "idle: re-arming"})
def final_idle(ctx):
    base.final_idle(ctx)


@EX.check(points=2, function="final_check_for_responses", hidden=True,
          title={"pl": "wyścigi z częścią zaplecza", "en": "races with the back end"})
def final_race(ctx):
    base.final_race(ctx)


@EX.check(points=1, function="final_check_for_responses", hidden=True, timeout=20,
          title={"pl": "losowe sesje (także przez 2**32)", "en": "random sessions (across 2**32 too)"})
def final_random(ctx):
    base.final_random(ctx)
