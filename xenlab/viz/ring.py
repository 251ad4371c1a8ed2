"""The ring viewer (chapter 9): a descriptor ring as a circle of slots coloured by the four regions
(request queue, outstanding, response queue, unused), with the producer/consumer pointers and the
two event indices drawn around it, buttons for each party's steps, the notification count, and
play/step over a trace recorded from a live block or network device.

Pure functions: ``ring_arrays(front, back)`` turns the two private halves and the shared page into
plain arrays; ``RingLab`` is a small ring both parties of which a student (or an instructor, on a
projector) drives by hand; ``RingRecorder`` records ``ring_arrays`` after every ring operation of a
device on the machine's trace bus. ``RingView`` draws any of them with bqplot.
"""
from __future__ import annotations

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View
from xenlab.xen.public.io.ring import REGION_NAMES, BackRing, FrontRing, SharedRing, regions

REGION_COLOURS = ("#e08a2c", "#9467bd", "#2ca02c", "#dddddd")   # request, outstanding, response, unused
POINTERS = ("req_prod", "req_cons", "rsp_prod", "rsp_cons", "req_event", "rsp_event")


def label(key: str, **kw) -> str:
    """The viewer's label ``key`` (a region, a step, the title ...) in the current language."""
    return t(f"viz.ring.{key}", **kw)


def ring_arrays(front: FrontRing, back: BackRing) -> dict:
    """Slots (region index per slot), counts, pointers as slot positions, and notification counts."""
    size = front.nr_ents
    s = front.sring
    states, counts = regions(front, back)
    region = np.array([REGION_NAMES.index(x) for x in states], dtype=int)
    angle = np.pi / 2 - 2 * np.pi * (np.arange(size) + 0.5) / size      # slot 0 at the top, clockwise
    raw = {"req_prod": s.req_prod, "req_cons": back.req_cons, "rsp_prod": s.rsp_prod, "rsp_cons": front.rsp_cons,
           "req_event": s.req_event, "rsp_event": s.rsp_event,
           "req_prod_pvt": front.req_prod_pvt, "rsp_prod_pvt": back.rsp_prod_pvt}
    return {"size": size, "region": region, "counts": counts, "x": np.cos(angle), "y": np.sin(angle),
            "pointers": raw, "slot_of": {k: v & (size - 1) for k, v in raw.items()},
            "notify": {"front_sent": front.notifications, "front_held": front.notifications_held,
                       "back_sent": back.notifications, "back_held": back.notifications_held}}


def say(key: str, **kw) -> str:
    """RingLab's narration ``key`` in the current language (``narration.ring.*``)."""
    return t(f"narration.ring.{key}", **kw)


def _outcome(notify: bool) -> str:
    return say("event_sent" if notify else "event_held")


def describe(a: dict) -> str:
    """The same picture as text, for a terminal or a screen reader."""
    letters = "QOR."                     # request Queue, Outstanding, Response, unused
    ring = "".join(letters[i] for i in a["region"])
    ptr = " ".join(f"{k}={v}" for k, v in a["pointers"].items())
    return f"[{ring}] {ptr}"


class RingLab:
    """A small ring with both ends, stepped by hand; every step returns what happened."""

    STEPS = ("produce", "push", "consume", "respond", "bpush", "gconsume", "gfinal", "bfinal")

    def __init__(self, size: int = 8):
        self.sring = SharedRing(size)
        self.front, self.back = FrontRing(self.sring), BackRing(self.sring)
        self.next_id = 1
        self.taken: list[int] = []          # ids of requests the back end took and has not answered
        self.log: list[str] = []

    def step(self, name: str) -> str:
        f, b = self.front, self.back
        if name == "produce":
            if f.full():
                return self._say(say("full"))
            f.produce_request(self.next_id)
            self.next_id += 1
            return self._say(say("produced", id=self.next_id - 1, pvt=f.req_prod_pvt))
        if name == "push":
            prod = f.req_prod_pvt
            return self._say(say("pushed", prod=prod, outcome=_outcome(f.push_requests_and_check_notify())))
        if name == "consume":
            if not b.has_unconsumed_requests():
                return self._say(say("no_request"))
            self.taken.append(b.consume_request())
            return self._say(say("took_request", id=self.taken[-1]))
        if name == "respond":
            if b.rsp_prod_pvt == b.req_cons:
                return self._say(say("nothing_to_answer"))
            idx, rid = b.rsp_prod_pvt, self.taken.pop(0)
            b.produce_response(rid)          # a response carries its request's id, as blkif_response.id does
            # It goes where rsp_prod_pvt points, not into its request's slot: a back end may answer in
            # another order than the requests came (blkback's elevator does).
            return self._say(say("answered", id=rid, slot=idx & (b.nr_ents - 1), pvt=idx))
        if name == "bpush":
            prod = b.rsp_prod_pvt
            return self._say(say("bpushed", prod=prod, outcome=_outcome(b.push_responses_and_check_notify())))
        if name == "gconsume":
            if not f.has_unconsumed_responses():
                return self._say(say("no_response"))
            return self._say(say("took_response", id=f.consume_response()))
        if name == "gfinal":
            n = f.final_check_for_responses()
            return self._say(say("gfinal", n=n, event=self.sring.rsp_event))
        if name == "bfinal":
            n = b.final_check_for_requests()
            return self._say(say("bfinal", n=n, event=self.sring.req_event))
        raise ValueError(f"unknown step {name!r}; steps: {self.STEPS}")

    def _say(self, text: str) -> str:
        self.log.append(text)
        return text

    def arrays(self) -> dict:
        return ring_arrays(self.front, self.back)


class RingRecorder:
    """Record ``ring_arrays`` of one device's ring after every ring operation (from the trace bus).

    ``front``/``back`` are the two ends (e.g. ``vbd.ring`` and ``blkif.ring``); ``prefixes`` the trace
    names of their ring events (a vif's TX ring: ``("netif_tx_", "netfront_tx_")``, its RX ring:
    ``("netif_rx_", "netfront_rx_")``); ``domid`` the guest whose device it is, so that the same
    events of other guests' devices add no frames.
    """

    def __init__(self, machine, front, back, prefixes=("blkif_", "blkfront_"), domid: int | None = None):
        self.front, self.back, self.prefixes = front, back, tuple(prefixes)
        self.frames: list[dict] = [ring_arrays(front, back)]
        self.captions: list[str] = ["start"]
        self._unsub = machine.trace.subscribe(self._on_event, classes="IO", domid=domid)

    def _on_event(self, e) -> None:
        if e.name.startswith(self.prefixes):
            try:
                self.frames.append(ring_arrays(self.front, self.back))
            except Exception:          # mid-operation the other end may not be consistent yet
                return
            self.captions.append(e.name)

    def stop(self) -> None:
        self._unsub()


class RingView(View):
    """bqplot drawing of a ring: a live RingLab (with buttons) or a recorded list of frames."""

    CLEAR_ERROR = False                # an error stays shown until the next one

    def __init__(self, source, size_px: int = 420):
        import bqplot as bq
        import ipywidgets as W
        self.lab = source if isinstance(source, RingLab) else None
        self.frames = None if self.lab else list(source.frames)
        self.captions = None if self.lab else list(source.captions)
        self.errors: list[str] = []
        a = self.current()
        sx, sy = bq.LinearScale(min=-1.6, max=1.6), bq.LinearScale(min=-1.6, max=1.6)
        cs = bq.ColorScale(min=0, max=3, colors=list(REGION_COLOURS))
        big = a["size"] > 64           # a netif ring (256 slots): a band of colour, not outlined dots
        self.slots = bq.Scatter(x=a["x"], y=a["y"], color=a["region"],
                                default_size=81 if big else 300 * 32 // a["size"] + 60,
                                scales={"x": sx, "y": sy, "color": cs}, stroke=None if big else "black")
        self.marks = bq.Label(x=[], y=[], text=[], scales={"x": sx, "y": sy}, font_weight="bold",
                              default_size=13)
        self.figure = bq.Figure(marks=[self.slots, self.marks], title=label("title", n=a["size"]),
                                animation_duration=0, min_aspect_ratio=1, max_aspect_ratio=1,
                                layout=W.Layout(width=f"{size_px}px", height=f"{size_px}px"))
        self.legend = W.HTML()
        self.caption = W.Label()
        self.error_box = W.HTML()
        rows = []
        if self.lab:
            buttons = []
            for name in RingLab.STEPS:
                btn = W.Button(description=label(name), layout=W.Layout(width="auto", min_width="170px"))
                btn.on_click(self._guarded(lambda _b, n=name: self.do(n)))
                buttons.append(btn)
            rows = [W.HBox(buttons[:2] + buttons[5:7]), W.HBox(buttons[2:5] + buttons[7:])]
        else:
            self.play = W.Play(min=0, max=len(self.frames) - 1, interval=400)
            self.slider = W.IntSlider(min=0, max=len(self.frames) - 1, description=label("frame"))
            W.jslink((self.play, "value"), (self.slider, "value"))
            self.slider.observe(self._guarded(lambda ch: self.redraw()), names="value")
            rows = [W.HBox([self.play, self.slider])]
        self.widget = W.VBox([self.figure, *rows, self.caption, self.legend, self.error_box])
        self.redraw()

    def current(self) -> dict:
        if self.lab:
            return self.lab.arrays()
        return self.frames[self.slider.value] if hasattr(self, "slider") else self.frames[0]

    def do(self, step: str) -> str:
        text = self.lab.step(step)
        self.caption.value = text
        self.redraw()
        return text

    def redraw(self) -> None:
        a = self.current()
        xs, ys, texts = [], [], []
        for k, (r, name) in enumerate([(1.25, "req_prod"), (1.25, "rsp_prod"), (0.72, "req_cons"),
                                       (0.72, "rsp_cons"), (1.45, "req_event"), (1.45, "rsp_event")]):
            ang = np.pi / 2 - 2 * np.pi * (a["slot_of"][name] + 0.5) / a["size"] - 0.12 * (k % 2)
            xs.append(r * np.cos(ang))
            ys.append(r * np.sin(ang))
            texts.append(f"{name}={a['pointers'][name]}")
        with self.slots.hold_sync(), self.marks.hold_sync():
            self.slots.color = a["region"]
            self.marks.x, self.marks.y, self.marks.text = xs, ys, texts
        n = a["notify"]
        chips = " ".join(f"<span style='background:{c};padding:2px 6px'>{label(r)}: {a['counts'][r]}</span>"
                         for r, c in zip(REGION_NAMES, REGION_COLOURS))
        self.legend.value = chips + "<br>" + label("notes", gs=n["front_sent"], bs=n["back_sent"],
                                                   gh=n["front_held"], bh=n["back_held"])
        if not self.lab:
            self.caption.value = self.captions[self.slider.value]
