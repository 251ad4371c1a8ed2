"""Exercise 09: the front end's half of io/ring.h, RING_PUSH_REQUESTS_AND_CHECK_NOTIFY and
RING_FINAL_CHECK_FOR_RESPONSES, written over a front ring's fields.

Oracle: the model's own ring (xenlab/xen/public/io/ring.py), which tests/io/test_ring_differential.py
runs against the C macros of Xen's io/ring.h (xen-facts section 1):
- push: old = req_prod; req_prod = req_prod_pvt; notify = (new - req_event) < (new - old), unsigned
  32-bit, i.e. req_event lies in (old, new] modulo 2**32 (the hold-off rule);
- final check: work = rsp_prod - rsp_cons; if none, rsp_event = rsp_cons + 1 and look again.
The student's function gets a *bare* front ring (`BareFront`): the same fields as a FrontRing and no
methods, so the model's macros cannot be called in its place. Each case is run twice from the same
state, once through the model's FrontRing and once through the student's function, and the result and
all six indices are compared.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect, fail
from xenlab.xen.public.io.ring import BackRing, FrontRing, SharedRing

EX = exercise("ex09", chapter=9,
              functions=("push_requests_and_check_notify", "final_check_for_responses"),
              title={"pl": "Bufor cykliczny: publikacja żądań i ostatnie sprawdzenie",
                     "en": "The front ring: pushing requests and the final check"})

M32 = 0xFFFF_FFFF
SHARED = ("req_prod", "req_event", "rsp_prod", "rsp_event")
PRIVATE = ("req_prod_pvt", "rsp_cons")


# -- references, written the way the notebook asks (they agree with the model: tests/grading) --------
def reference_push(front) -> bool:
    s = front.sring
    old, new = s.req_prod, front.req_prod_pvt
    s.req_prod = new
    return ((new - s.req_event) & M32) < ((new - old) & M32)


def reference_final_check(front) -> int:
    s = front.sring
    work = (s.rsp_prod - front.rsp_cons) & M32
    if work:
        return work
    s.rsp_event = (front.rsp_cons + 1) & M32
    return (s.rsp_prod - front.rsp_cons) & M32


# -- a front ring with fields only -------------------------------------------------------------------
class BareSharedRing:
    """The four shared indices as plain attributes. ``on_write(name, value)`` runs after each write
    (a back end racing with the front end); ``writes`` records what was written, in order."""

    def __init__(self, req_prod, req_event, rsp_prod, rsp_event, on_write=None):
        object.__setattr__(self, "writes", [])
        object.__setattr__(self, "on_write", on_write)
        for name, value in zip(SHARED, (req_prod, req_event, rsp_prod, rsp_event)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        if name not in SHARED:
            raise AttributeError(f"the shared ring page has no field {name!r} (it has {', '.join(SHARED)})")
        object.__setattr__(self, name, value)
        self.writes.append((name, value))
        if self.on_write is not None:
            self.on_write(self, name, value)

    def __repr__(self):
        return "sring(" + ", ".join(f"{n}={getattr(self, n)}" for n in SHARED) + ")"


class BareFront:
    """``struct NAME_front_ring`` with its fields only: req_prod_pvt, rsp_cons, nr_ents, sring."""

    def __init__(self, state: dict, on_write=None):
        self.req_prod_pvt = state["req_prod_pvt"]
        self.rsp_cons = state["rsp_cons"]
        self.nr_ents = state["nr_ents"]
        self.sring = BareSharedRing(*(state[n] for n in SHARED), on_write=on_write)

    def __repr__(self):
        return f"front(req_prod_pvt={self.req_prod_pvt}, rsp_cons={self.rsp_cons}, nr_ents={self.nr_ents}, {self.sring!r})"


def state_of(front) -> dict:
    s = front.sring
    return {"req_prod_pvt": front.req_prod_pvt, "rsp_cons": front.rsp_cons, "nr_ents": front.nr_ents,
            **{n: getattr(s, n) for n in SHARED}}


def model_front(state: dict) -> FrontRing:
    """A real FrontRing (and its shared page) in ``state``."""
    s = SharedRing(state["nr_ents"], entry_size=8)
    for n in SHARED:
        setattr(s, n, state[n])
    f = FrontRing(s)
    f.req_prod_pvt, f.rsp_cons = state["req_prod_pvt"], state["rsp_cons"]
    return f


def model_run(macro: str, state: dict):
    f = model_front(state)
    result = getattr(f, macro)()
    return result, state_of(f)


def show(state: dict) -> str:
    return ", ".join(f"{k}={state[k]}" for k in ("req_prod_pvt", "rsp_cons") + SHARED)


def _fields_ok(bare: BareFront, fn: str) -> None:
    for name in PRIVATE + SHARED:
        value = getattr(bare.sring if name in SHARED else bare, name)
        expect(isinstance(value, int) and not isinstance(value, bool),
               pl=f"{fn}: pole {name} ma teraz wartość {value!r}, a indeksy bufora to liczby całkowite.",
               en=f"{fn}: field {name} now holds {value!r}, but ring indices are integers.")
        expect(0 <= value <= M32,
               pl=f"{fn}: pole {name} = {value} nie mieści się w 32 bitach; indeksy RING_IDX zawijają się "
                  f"przy 2**32.",
               en=f"{fn}: field {name} = {value} does not fit in 32 bits; RING_IDX indices wrap at 2**32.")


def run_student(ctx, fn: str, state: dict, on_write=None):
    bare = BareFront(state, on_write)
    try:
        got = ctx.fn(fn)(bare)
    except AttributeError as exc:
        fail(pl=f"{fn}: {exc}. Funkcja dostaje „gołą” strukturę bufora: tylko pola req_prod_pvt, rsp_cons, "
                f"nr_ents i sring (req_prod, req_event, rsp_prod, rsp_event), bez metod modelu.",
             en=f"{fn}: {exc}. The function gets a bare ring structure: only the fields req_prod_pvt, "
                f"rsp_cons, nr_ents and sring (req_prod, req_event, rsp_prod, rsp_event), no model methods.")
    _fields_ok(bare, fn)
    return got, {"nr_ents": bare.nr_ents, **state_of(bare)}, bare


def _changed(before: dict, after: dict, want: dict) -> list[str]:
    """Fields the student left different from the model, as 'name' strings."""
    return [k for k in PRIVATE + SHARED if after[k] != want[k]]


def compare_push(ctx, state: dict, what_pl: str = "", what_en: str = "", give_answer: bool = False):
    want, want_state = model_run("push_requests_and_check_notify", state)
    got, got_state, _ = run_student(ctx, "push_requests_and_check_notify", state)
    expect(got in (True, False),
           pl=f"push_requests_and_check_notify powinna zwrócić True albo False, a zwróciła {got!r}.",
           en=f"push_requests_and_check_notify should return True or False, but returned {got!r}.")
    wrong = _changed(state, got_state, want_state)
    extra_pl = f" Oczekiwano: {show(want_state)}." if give_answer else ""
    extra_en = f" Expected: {show(want_state)}." if give_answer else ""
    expect(not wrong,
           pl=f"{what_pl}Po publikacji z ({show(state)}) pola {', '.join(wrong)} różnią się od tego, co "
              f"zostawia ring.h.{extra_pl}",
           en=f"{what_en}After a push from ({show(state)}) the fields {', '.join(wrong)} differ from what "
              f"ring.h leaves.{extra_en}")
    answer_pl = f" Xen: {want}." if give_answer else ""
    answer_en = f" Xen: {want}." if give_answer else ""
    expect(bool(got) == want,
           pl=f"{what_pl}Decyzja o powiadomieniu jest inna niż w Xenie dla stanu ({show(state)}); "
              f"Twoja odpowiedź: {bool(got)}.{answer_pl}",
           en=f"{what_en}The notification decision differs from Xen's for the state ({show(state)}); "
              f"yours: {bool(got)}.{answer_en}")


def compare_final(ctx, state: dict, what_pl: str = "", what_en: str = "", give_answer: bool = False):
    want, want_state = model_run("final_check_for_responses", state)
    got, got_state, _ = run_student(ctx, "final_check_for_responses", state)
    expect(isinstance(got, int),
           pl=f"final_check_for_responses powinna zwrócić liczbę całkowitą, a zwróciła {got!r}.",
           en=f"final_check_for_responses should return an integer, but returned {got!r}.")
    wrong = _changed(state, got_state, want_state)
    extra_pl = f" Oczekiwano: {show(want_state)}." if give_answer else ""
    extra_en = f" Expected: {show(want_state)}." if give_answer else ""
    expect(not wrong,
           pl=f"{what_pl}Po ostatnim sprawdzeniu z ({show(state)}) pola {', '.join(wrong)} różnią się od "
              f"tego, co zostawia ring.h.{extra_pl}",
           en=f"{what_en}After a final check from ({show(state)}) the fields {', '.join(wrong)} differ from "
              f"what ring.h leaves.{extra_en}")
    answer_pl = f" Xen: {want}." if give_answer else ""
    answer_en = f" Xen: {want}." if give_answer else ""
    expect(int(got) == want,
           pl=f"{what_pl}Dla stanu ({show(state)}) zwrócona liczba odpowiedzi ({got}) jest inna niż w "
              f"Xenie.{answer_pl}",
           en=f"{what_en}For the state ({show(state)}) the number of responses returned ({got}) differs "
              f"from Xen's.{answer_en}")


def st(req_prod_pvt, rsp_cons, req_prod, req_event, rsp_prod, rsp_event, nr_ents=32) -> dict:
    return {"req_prod_pvt": req_prod_pvt & M32, "rsp_cons": rsp_cons & M32, "nr_ents": nr_ents,
            "req_prod": req_prod & M32, "req_event": req_event & M32, "rsp_prod": rsp_prod & M32,
            "rsp_event": rsp_event & M32}


# -- push_requests_and_check_notify -----------------------------------------------------------------------
@EX.check(points=1, function="push_requests_and_check_notify",
          title={"pl": "pierwsza publikacja na świeżym buforze", "en": "the first push on a fresh ring"})
def push_first(ctx):
    n = int(ctx.rng.integers(1, 5))
    compare_push(ctx, st(n, 0, 0, 1, 0, 1),
                 "Świeży bufor (SHARED_RING_INIT: req_event = 1). ",
                 "A fresh ring (SHARED_RING_INIT: req_event = 1). ")


@EX.check(points=1, function="push_requests_and_check_notify",
          title={"pl": "wstrzymanie powiadomienia (hold-off)", "en": "the notification hold-off"})
def push_held_off(ctx):
    # The back end was woken at 1 and has not re-armed since: no event for later batches.
    old = int(ctx.rng.integers(3, 20))
    compare_push(ctx, st(old + 2, 0, old, 1, 0, 1),
                 "Część zaplecza nie ustawiła ponownie req_event. ", "The back end has not re-armed req_event. ")
    # Re-armed exactly at the first new request: an event.
    compare_push(ctx, st(old + 3, old, old, old + 1, old, old + 1),
                 "Część zaplecza czeka na req_event = req_prod + 1. ", "The back end waits at req_event = req_prod + 1. ")
    # Re-armed further ahead than this batch reaches (batching): no event yet.
    compare_push(ctx, st(old + 2, old, old, old + 5, old, old + 1),
                 "req_event leży za tą partią. ", "req_event lies beyond this batch. ")


@EX.check(points=1, function="push_requests_and_check_notify",
          title={"pl": "indeksy zawijające się przy 2**32", "en": "indices wrapping at 2**32"})
def push_wrap(ctx):
    k = int(ctx.rng.integers(1, 4))
    old = (2 ** 32 - k) & M32
    compare_push(ctx, st(old + 3, old - 2, old, 0, old - 2, old - 1),
                 "Blisko 2**32 indeksy się zawijają. ", "Near 2**32 the indices wrap. ")
    compare_push(ctx, st(old + 3, old - 2, old, old - 1, old - 2, old - 1),
                 "Blisko 2**32 indeksy się zawijają. ", "Near 2**32 the indices wrap. ")
    # Nothing new to publish: never an event.
    compare_push(ctx, st(old, old, old, old, old, old + 1),
                 "Publikacja bez nowych żądań. ", "A push with no new requests. ")


def random_session(ctx, on_push=None, on_final=None, steps: int = 400):
    """Random legal operations by both ends of a real ring started near 2**32; at every guest push
    and final check, call ``on_push(state)`` / ``on_final(state)`` before the model does it."""
    rng = ctx.rng
    size = int(rng.choice([4, 8, 16, 32]))
    start = (2 ** 32 - int(rng.integers(1, 3 * size))) & M32
    s = SharedRing(size, entry_size=8)
    s.req_prod = s.rsp_prod = start
    s.req_event = s.rsp_event = (start + 1) & M32
    f, b = FrontRing(s, start), BackRing(s, start)
    # Phases bias the mix so the ring fills up, drains, and the back end sometimes forgets to re-arm.
    for i in range(steps):
        op = int(rng.integers(0, 8))
        if op == 0 and not f.full():
            f.produce_request(i)
        elif op == 1:
            if on_push is not None:
                on_push(state_of(f))
            f.push_requests_and_check_notify()
        elif op == 2 and b.has_unconsumed_requests():
            b.consume_request()
        elif op == 3 and b.rsp_prod_pvt != b.req_cons:
            b.produce_response(i)
        elif op == 4:
            b.push_responses_and_check_notify()
        elif op == 5 and f.has_unconsumed_responses():
            f.consume_response()
        elif op == 6:
            if on_final is not None:
                on_final(state_of(f))
            f.final_check_for_responses()
        elif op == 7 and rng.random() < 0.5:
            b.final_check_for_requests()
        elif op == 7:
            # A back end batching on purpose sets the event further ahead (ring.h's comment).
            s.req_event = (b.req_cons + int(rng.integers(1, size + 1))) & M32


@EX.check(points=3, function="push_requests_and_check_notify", hidden=True, timeout=20,
          title={"pl": "losowe sesje obu stron bufora (także przez 2**32)",
                 "en": "random sessions of both ends (across 2**32 too)"})
def push_random(ctx):
    for _ in range(4):
        random_session(ctx, on_push=lambda state: compare_push(ctx, state, give_answer=True))


@EX.check(points=1, function="push_requests_and_check_notify", hidden=True,
          title={"pl": "push tylko publikuje req_prod", "en": "a push only publishes req_prod"})
def push_touches_only_req_prod(ctx):
    state = st(9, 2, 5, 7, 4, 3)
    _, _, bare = run_student(ctx, "push_requests_and_check_notify", state)
    names = [n for n, _ in bare.sring.writes]
    expect(names == ["req_prod"],
           pl=f"Publikacja powinna zapisać we wspólnej stronie tylko req_prod (raz); zapisano: {names}.",
           en=f"A push should write only req_prod (once) into the shared page; written: {names}.")


# -- final_check_for_responses --------------------------------------------------------------------------
@EX.check(points=1, function="final_check_for_responses",
          title={"pl": "są odpowiedzi do pobrania", "en": "responses are waiting"})
def final_with_work(ctx):
    n = int(ctx.rng.integers(2, 6))
    c = int(ctx.rng.integers(10, 100))
    compare_final(ctx, st(c + n + 1, c, c + n + 1, c + 1, c + n, c - 3),
                  "Odpowiedzi czekają w kolejce. ", "Responses wait in the queue. ")


@EX.check(points=1, function="final_check_for_responses",
          title={"pl": "pusto: ponowne uzbrojenie rsp_event", "en": "idle: re-arming rsp_event"})
def final_idle(ctx):
    c = int(ctx.rng.integers(10, 100))
    compare_final(ctx, st(c + 2, c, c + 2, c + 1, c, c - 4),
                  "Nie ma odpowiedzi do pobrania. ", "There is no response to consume. ")


@EX.check(points=1, function="final_check_for_responses",
          title={"pl": "ponowne uzbrojenie przy 2**32", "en": "re-arming at 2**32"})
def final_wrap(ctx):
    c = M32
    compare_final(ctx, st(c + 1, c, c + 1, c, c, c - 7),
                  "rsp_cons = 2**32 - 1. ", "rsp_cons = 2**32 - 1. ")


@EX.check(points=2, function="final_check_for_responses", hidden=True,
          title={"pl": "odpowiedź, która przychodzi w trakcie ponownego uzbrajania",
                 "en": "a response arriving while re-arming"})
def final_race(ctx):
    for _ in range(10):
        c = int(ctx.rng.integers(0, 2 ** 32))
        k = int(ctx.rng.integers(1, 4))
        state = st(c + 4, c, c + 4, c + 1, c, c - 2)

        def backend_answers(sring, name, value):
            if name == "rsp_event":                  # the back end pushes k responses right now
                object.__setattr__(sring, "rsp_prod", (sring.rsp_prod + k) & M32)
        got, got_state, _ = run_student(ctx, "final_check_for_responses", state, on_write=backend_answers)
        expect(isinstance(got, int) and got == k,
               pl=f"Między zapisem rsp_event a powrotem część zaplecza opublikowała {k} odpowiedzi; funkcja zwróciła "
                  f"{got!r}, więc gość zasnąłby z odpowiedziami w kolejce. Po ponownym uzbrojeniu trzeba "
                  f"jeszcze raz sprawdzić rsp_prod.",
               en=f"Between the write of rsp_event and the return, the back end published {k} responses; the "
                  f"function returned {got!r}, so the guest would sleep with responses queued. After re-arming, "
                  f"look at rsp_prod once more.")
        expect(got_state["rsp_event"] == (c + 1) & M32,
               pl="rsp_event powinno wskazywać pierwszą odpowiedź, której gość jeszcze nie widział.",
               en="rsp_event should name the first response the guest has not seen yet.")


@EX.check(points=2, function="final_check_for_responses", hidden=True, timeout=20,
          title={"pl": "losowe sesje obu stron bufora (także przez 2**32)",
                 "en": "random sessions of both ends (across 2**32 too)"})
def final_random(ctx):
    for _ in range(4):
        random_session(ctx, on_final=lambda state: compare_final(ctx, state, give_answer=True))
