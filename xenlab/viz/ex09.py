"""Exercise 09 on the live model: the student's push-and-check-notify and final check driving a real
front ring.

``StudentFrontRing`` is a FrontRing whose two macros are the student's functions (the rest is the
model's). ``side_by_side(push, final)`` steps two identical rings started just below 2**32, one with
the model's macros and one with the student's, and prints what each decided. ``student_lab(push,
final)`` is a RingLab (for the ring viewer) whose guest steps use the student's functions.
``block_device_run(push, final)`` puts the student's ring under a real virtual disk on an image file
and reports whether the I/O completed, whether the image holds the data, and how many events were
sent and held off, next to the same run with the model's ring.
Nothing here raises because of the student's code: a stub, an exception or a loop is reported.
"""
from __future__ import annotations

from xenlab.grading.runner import CheckTimeout, call_with_timeout
from xenlab.i18n import t
from xenlab.viz.ring import RingLab
from xenlab.viz.student import call_student
from xenlab.xen.public.io.ring import BackRing, FrontRing, SharedRing

TIMEOUT_S = 1.0
M32 = 0xFFFF_FFFF

def _call(fn, *args):
    """(value, None) or (None, what went wrong)."""
    return call_student(fn, TIMEOUT_S, *args, not_written=t("viz.exercise.not_written"),
                        timed_out=t("viz.exercise.timeout", s=TIMEOUT_S))


class StudentFrontRing(FrontRing):
    """A front ring whose push-and-check-notify and final check are the student's functions."""

    def __init__(self, sring: SharedRing, push, final, index: int = 0):
        super().__init__(sring, index)
        self.student_push, self.student_final = push, final
        self.problems: list[str] = []
        self.strict = False            # True: raise the problem (the ring viewer shows it in red)
        self._idle_claims = 0

    def _problem(self, text: str) -> None:
        self.problems.append(text)
        if self.strict:
            raise RuntimeError(text)

    def push_requests_and_check_notify(self) -> bool:
        old = self.sring.req_prod
        got, problem = _call(self.student_push, self)
        if problem:
            self._problem(f"push_requests_and_check_notify: {problem}")
            return False
        notify = bool(got)
        if notify:
            self.notifications += 1
        elif self.sring.req_prod != old:
            self.notifications_held += 1
        return notify

    def final_check_for_responses(self) -> int:
        got, problem = _call(self.student_final, self)
        if problem:
            self._problem(f"final_check_for_responses: {problem}")
            return 0
        # A final check that keeps claiming work that is not there would spin the guest's loop.
        if got and not self.has_unconsumed_responses():
            self._idle_claims += 1
            if self._idle_claims > 3:
                self.problems.append(f"final_check_for_responses returned {got!r} with no response waiting")
                return 0
        else:
            self._idle_claims = 0
        return int(got or 0)


def _twin(start: int, size: int, student: tuple | None):
    s = SharedRing(size, entry_size=8)
    s.req_prod = s.rsp_prod = start
    s.req_event = s.rsp_event = (start + 1) & M32
    f = StudentFrontRing(s, *student, index=start) if student else FrontRing(s, start)
    return f, BackRing(s, start)


SCRIPT = (["produce", "produce", "push", "consume", "consume", "bfinal", "produce", "push", "produce",
           "push", "respond", "respond", "bpush", "gconsume", "gconsume", "gfinal", "produce", "push",
           "consume", "respond", "bpush", "gfinal", "gconsume", "gfinal"])


def side_by_side(push, final, size: int = 8, start: int = 2 ** 32 - 3) -> str:
    """The same steps on two rings near 2**32: the model's macros and yours, one line per decision."""
    mf, mb = _twin(start, size, None)
    sf, sb = _twin(start, size, (push, final))
    lines = []
    word = {k: t(f"viz.exercise.{k}") for k in ("agree", "differs", "yours", "xen")}
    for i, step in enumerate(SCRIPT):
        for f, b in ((mf, mb), (sf, sb)):
            if step == "produce":
                f.produce_request(i)
            elif step == "consume":
                b.consume_request()
            elif step == "bfinal":
                b.final_check_for_requests()
            elif step == "respond":
                b.produce_response(i)
            elif step == "bpush":
                b.push_responses_and_check_notify()
            elif step == "gconsume" and f.has_unconsumed_responses():
                f.consume_response()
        if step in ("push", "gfinal"):
            before = sf.sring.req_prod if step == "push" else sf.rsp_cons
            if step == "push":
                xen, yours = mf.push_requests_and_check_notify(), sf.push_requests_and_check_notify()
                what = f"push  req_prod {before} -> {sf.req_prod_pvt}, req_event={mf.sring.req_event}"
            else:
                xen, yours = mf.final_check_for_responses(), sf.final_check_for_responses()
                what = f"final rsp_cons={before}, rsp_prod={mf.sring.rsp_prod}"
            problem = sf.problems[-1] if sf.problems else None
            sf.problems.clear()
            same = problem is None and yours == xen and _shared(mf) == _shared(sf)
            lines.append(f"{word['agree'] if same else word['differs']:8s} {what:52s} "
                         f"{word['yours']}={problem or yours!s:8s} {word['xen']}={xen}")
            if problem is None and _shared(mf) != _shared(sf):
                lines.append(f"         {word['yours']}: {_shared(sf)}\n         {word['xen']}:   {_shared(mf)}")
            # Keep the twins in step: carry on from the model's state.
            for name in ("req_prod", "req_event", "rsp_prod", "rsp_event"):
                setattr(sf.sring, name, getattr(mf.sring, name))
    return "\n".join(lines)


def _shared(f) -> dict:
    s = f.sring
    return {"req_prod": s.req_prod, "req_event": s.req_event, "rsp_prod": s.rsp_prod, "rsp_event": s.rsp_event}


def student_lab(push, final, size: int = 8) -> RingLab:
    """A RingLab (drive it with RingView) whose guest push and final check are yours."""
    lab = RingLab(size)
    lab.front = StudentFrontRing(lab.sring, push, final)
    lab.front.strict = True
    return lab


def _disk_run(push=None, final=None, seed: int = 0) -> dict:
    import pathlib
    import tempfile

    import xenlab
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="xenlab-ex09-"))
    img = tmp / "disk.img"
    img.write_bytes(bytes(512 * 256))
    m = xenlab.Machine(memory_mb=64, seed=seed)
    d = m.create_domain(xenlab.DomainConfig(name="ex09", memory=16, disk=[f"file:{img},xvda,w"]))
    vbd = d.kernel.vbds["xvda"]
    ring = vbd.ring
    if push is not None:
        sf = StudentFrontRing(ring.sring, push, final)
        sf.req_prod_pvt, sf.rsp_cons = ring.req_prod_pvt, ring.rsp_cons
        vbd.ring = ring = sf
    data = bytes((7 * i) % 256 for i in range(512 * 40))
    ios = []
    for k in range(4):                           # four writes of 10 sectors, then reads in a batch
        ios.append(vbd.write(10 * k, data[5120 * k:5120 * (k + 1)]))
        m.run_for(300_000)
    m.run_for(3_000_000)
    reads = [vbd.read(10 * k, 10) for k in range(4)]
    m.run_for(3_000_000)
    ios += reads
    out = {"done": sum(io.done for io in ios), "total": len(ios),
           "image": img.read_bytes()[:len(data)] == data,
           "read": b"".join(r.data for r in reads) == data and all(r.done for r in reads),
           "sent": ring.notifications, "held": ring.notifications_held,
           "problems": list(getattr(ring, "problems", []))}
    img.unlink()
    tmp.rmdir()
    return out


def block_device_run(push, final) -> str:
    """A real disk on an image file, its guest's front ring using your two functions."""
    probe = SharedRing(8, entry_size=8)
    f = FrontRing(probe)
    for fn in (push, final):
        _, problem = _call(fn, f)
        if problem:
            return t("viz.ex09.skip", why=problem)
    try:
        yours = call_with_timeout(_disk_run, 20.0, push, final)
    except CheckTimeout:
        return t("viz.ex09.hang")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    model = _disk_run()
    lines = [t("viz.ex09.done", done=yours["done"], total=yours["total"]),
             t("viz.ex09.image", ok=yours["image"]), t("viz.ex09.read", ok=yours["read"]),
             t("viz.ex09.events", who=t("viz.ex09.you"), sent=yours["sent"], held=yours["held"]),
             t("viz.ex09.events", who=t("viz.ex09.model"), sent=model["sent"], held=model["held"])]
    if yours["done"] < yours["total"]:
        lines.append(t("viz.ex09.hang"))
    if yours["problems"]:
        lines.append(t("viz.ex09.problems"))
        lines += ["  " + p for p in dict.fromkeys(yours["problems"])]
    return "\n".join(lines)
