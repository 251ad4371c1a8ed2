"""The ring viewer (chapters 9, 10, 11 and exercise 09): a shared descriptor ring as a circle of slots.

Each slot is an arc coloured by its region (request queue, outstanding, response queue, unused: the
theme's four ring colours), numbered, and labelled with what it holds (a request's id and operation,
a response's status). The eight indices of ``io/ring.h`` (the four in the shared page, bold; the two
private ones of each end, grey) point at the slot boundaries they address, their labels laid out in two
columns beside the ring so that no two collide and none leaves the picture. A caption in the student's
language says what the last step did and why a notification was or was not sent.

Pure functions (no widgets; tested without a browser):
- ``ring_arrays(front, back)``: the ring as plain data (regions, counts, indices, slot contents, free slots);
- ``label_blocks(a, geom)``: where each index label goes (the collision-free layout);
- ``ring_svg(a, ...)``: the picture as an SVG string;
- ``narrate(step, before, after)``: the caption of one step; ``prediction(kind, answer, step, before)``
  checks a student's guess (will this push notify? how many slots are free?).
``RingLab`` is a small ring whose two ends a student drives by hand (with undo and reset);
``RingRecorder`` records a live device's ring after every ring operation on the trace bus;
``RingView`` shows either, with buttons (lab) or play/pause, speed and back/next (recording), and a
predict mode.

Simplifications: the lab's requests are blkif requests whose operation alternates READ and WRITE and
whose responses are always BLKIF_RSP_OKAY (the chapter is about the indices, not the disk); the
recorder cannot see a ring between two trace events, so a step is one ring operation.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from xenlab.i18n import t
from xenlab.viz import theme
from xenlab.viz.base import View
from xenlab.xen.public.io import blkif as B
from xenlab.xen.public.io import netif as N
from xenlab.xen.public.io.ring import (REGION_NAMES, RING_IDX_MASK, BackRing, FrontRing, RingError,
                                       SharedRing, regions)

REGION_COLOURS = theme.RING_REGIONS                  # request, outstanding, response, unused
POINTERS = ("req_prod", "req_cons", "rsp_prod", "rsp_cons", "req_event", "rsp_event")
# Every index of io/ring.h, in the order a label block lists them; the first four live in the shared page.
INDICES = ("req_prod", "req_prod_pvt", "req_cons", "req_event", "rsp_prod", "rsp_prod_pvt", "rsp_cons", "rsp_event")
SHARED = ("req_prod", "req_event", "rsp_prod", "rsp_event")
EVENTS = ("req_event", "rsp_event")
_BLKIF_STATUS = {B.BLKIF_RSP_OKAY: "OKAY", B.BLKIF_RSP_ERROR: "ERROR", B.BLKIF_RSP_EOPNOTSUPP: "EOPNOTSUPP"}
_NETIF_STATUS = {N.NETIF_RSP_OKAY: "OKAY", N.NETIF_RSP_ERROR: "ERROR", N.NETIF_RSP_DROPPED: "DROPPED",
                 N.NETIF_RSP_NULL: "NULL"}
MONO_CHAR_PX = 7.3        # width of one 12 px monospace character (DejaVu Sans Mono: 0.6 em), rounded up
LINE_PX = 15              # one label line


def label(key: str, **kw) -> str:
    """The viewer's label ``key`` (a region, a step, a caption ...) in the current language."""
    return t(f"viz.ring.{key}", **kw)


# -- the ring as data ------------------------------------------------------------------------------------
def slot_text(value, kind: str) -> str:
    """A slot's content in a few characters: ``#id OP`` for a request, ``#id STATUS`` for a response."""
    if value is None or kind == "":
        return ""
    if isinstance(value, (int, np.integer)):
        return f"#{int(value)}"
    head = f"#{value.id}" if hasattr(value, "id") else ""
    if kind == "response":
        status = getattr(value, "status", None)
        if status is None:
            return head
        if isinstance(value, N.NetifRxResponse) and status > 0:
            return f"{head} {status} B"                      # netif RX: a positive status is the length
        names = _NETIF_STATUS if type(value).__module__ == N.__name__ else _BLKIF_STATUS
        return f"{head} {names.get(status, status)}"
    if hasattr(value, "operation"):
        return f"{head} {B.BLKIF_OP_NAMES.get(value.operation, value.operation)}"
    if hasattr(value, "size"):
        return f"{head} {value.size} B"                      # netif TX: a frame of this many bytes
    if hasattr(value, "gref"):
        return f"{head} gref {value.gref}"                   # netif RX: an empty page offered
    return head


def slot_contents(front: FrontRing, back: BackRing) -> list[dict]:
    """What each slot holds, walking forward from ``rsp_cons``: published responses, responses written
    but not pushed, requests the back end took, published requests, requests written but not pushed."""
    size, s = front.nr_ents, front.sring
    start = front.rsp_cons
    off = [((x - start) & RING_IDX_MASK) for x in (s.rsp_prod, back.rsp_prod_pvt, back.req_cons, s.req_prod,
                                                   front.req_prod_pvt)]
    out = [{"slot": i, "index": None, "kind": "", "published": False, "taken": False, "text": ""} for i in range(size)]
    if not all(a <= b for a, b in zip(off, off[1:])) or off[-1] > size:
        return out                                          # an inconsistent ring: say nothing about contents
    kinds = [("response", True, False), ("response", False, False), ("request", True, True),
             ("request", True, False), ("request", False, False)]
    begin = 0
    for end, (kind, published, taken) in zip(off, kinds):
        for k in range(begin, end):
            idx = (start + k) & RING_IDX_MASK
            try:
                value = front.get_response(idx) if kind == "response" else front.get_request(idx)
            except Exception:                               # undecodable bytes: show the slot, not a crash
                value = None
            out[idx & (size - 1)] = {"slot": idx & (size - 1), "index": idx, "kind": kind, "published": published,
                                     "taken": taken, "text": slot_text(value, kind)}
        begin = end
    return out


def ring_arrays(front: FrontRing, back: BackRing) -> dict:
    """Slots (region index per slot), counts, indices (raw and as slot positions), slot contents,
    free request slots (``RING_FREE_REQUESTS``) and the notification counters."""
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
            "slots": slot_contents(front, back), "free": front.free_requests(),
            "notify": {"front_sent": front.notifications, "front_held": front.notifications_held,
                       "back_sent": back.notifications, "back_held": back.notifications_held}}


def describe(a: dict) -> str:
    """The same picture as text, for a terminal or a screen reader."""
    letters = "QOR."                     # request Queue, Outstanding, Response, unused
    ring = "".join(letters[i] for i in a["region"])
    ptr = " ".join(f"{k}={v}" for k, v in a["pointers"].items())
    return f"[{ring}] {ptr}"


# -- the picture ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    cx: float
    cy: float
    r_in: float
    r_out: float
    column: float            # distance from the centre to the label columns
    margin: int = 8


def geometry(width_px: int = 720) -> Geometry:
    """The ring's place in a picture ``width_px`` wide: label columns of 170 px on both sides."""
    width_px = max(560, min(int(width_px), theme.MAX_WIDTH_PX))
    r_out = min(170.0, (width_px - 2 * 170 - 2 * 26) / 2)
    height = int(2 * r_out + 70)
    return Geometry(width_px, height, width_px / 2, height / 2, round(r_out * 0.58), r_out, r_out + 24)


def _polar(g: Geometry, r: float, phi: float) -> tuple[float, float]:
    """A point at radius ``r`` and angle ``phi`` (clockwise from the top)."""
    return g.cx + r * math.sin(phi), g.cy - r * math.cos(phi)


def label_blocks(a: dict, g: Geometry) -> list[dict]:
    """Index labels grouped by the slot boundary they point at, placed in a column left or right of the
    ring and pushed apart vertically so that no two blocks overlap and none leaves the picture.
    Each block: boundary slot, angle, lines ([(name, value)]), side, x (text anchor), top, height."""
    size = a["size"]
    by_pos: dict[int, list] = {}
    for name in INDICES:
        by_pos.setdefault(a["pointers"][name] & (size - 1), []).append((name, a["pointers"][name]))
    blocks = []
    for pos, lines in by_pos.items():
        phi = 2 * math.pi * pos / size
        side = "right" if phi < math.pi - 1e-9 else "left"
        height = LINE_PX * len(lines)
        want = g.cy - (g.r_out + 12) * math.cos(phi) - height / 2
        x = g.cx + g.column if side == "right" else g.cx - g.column
        blocks.append({"slot": pos, "phi": phi, "lines": lines, "side": side, "x": x, "top": want,
                       "height": height})
    gap, lo, hi = 4, g.margin, g.height - g.margin
    for side in ("left", "right"):
        col = sorted((b for b in blocks if b["side"] == side), key=lambda b: b["top"])
        for prev, b in zip([None] + col, col):             # downwards: below the one above
            b["top"] = max(b["top"], lo if prev is None else prev["top"] + prev["height"] + gap)
        for nxt, b in zip([None] + col[::-1], col[::-1]):   # upwards: above the one below, inside the picture
            limit = hi if nxt is None else nxt["top"] - gap
            b["top"] = min(b["top"], limit - b["height"])
    return blocks


def _sector(g: Geometry, k: int, size: int, inset: float = 0.0) -> str:
    a0, a1 = 2 * math.pi * k / size, 2 * math.pi * (k + 1) / size
    ro, ri = g.r_out - inset, g.r_in + inset
    large = 1 if a1 - a0 > math.pi else 0
    (x0, y0), (x1, y1) = _polar(g, ro, a0), _polar(g, ro, a1)
    (x2, y2), (x3, y3) = _polar(g, ri, a1), _polar(g, ri, a0)
    return (f"M{x0:.1f},{y0:.1f} A{ro:.1f},{ro:.1f} 0 {large} 1 {x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f} "
            f"A{ri:.1f},{ri:.1f} 0 {large} 0 {x3:.1f},{y3:.1f} Z")


def _text(x, y, s, size=12, anchor="middle", weight="normal", fill=theme.TEXT, mono=False, cls="") -> str:
    family = "monospace" if mono else "sans-serif"
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}px' font-family='{family}' text-anchor='{anchor}' "
            f"dominant-baseline='central' font-weight='{weight}' fill='{fill}' class='{cls}'>{html.escape(s)}</text>")


def ring_svg(a: dict, width_px: int = 720, highlight: int | None = None, hide_free: bool = False) -> str:
    """The ring as SVG: arcs per slot in the region colours, slot numbers (and contents in small rings),
    the eight indices as ticks on the slot boundaries with collision-free labels, the free-slot count in
    the centre (a question mark while the student is asked to predict it)."""
    g = geometry(width_px)
    size = a["size"]
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{g.width}' height='{g.height}' "
           f"viewBox='0 0 {g.width} {g.height}' style='max-width:100%;display:block'>"]
    sep = "#ffffff" if size <= 64 else "none"
    for k in range(size):
        colour = REGION_COLOURS[int(a["region"][k])]
        out.append(f"<path d='{_sector(g, k, size)}' fill='{colour}' stroke='{sep}' stroke-width='1.5'/>")
        slot = a["slots"][k]
        if slot["kind"] and not slot["published"]:          # written but not pushed: dashed outline
            edge = theme.RING_REQUEST if slot["kind"] == "request" else theme.RING_RESPONSE
            out.append(f"<path d='{_sector(g, k, size, 3)}' fill='none' stroke='{edge}' stroke-width='2.5' "
                       f"stroke-dasharray='5,3'/>")
    if highlight is not None and 0 <= highlight < size:
        out.append(f"<path d='{_sector(g, highlight, size, 1.5)}' fill='none' stroke='{theme.HIGHLIGHT}' "
                   f"stroke-width='3.5'/>")
    mid = (g.r_in + g.r_out) / 2
    numbered = range(size) if size <= 32 else range(0, size, size // 8)
    for k in numbered:
        phi = 2 * math.pi * (k + 0.5) / size
        if size <= 8:
            x, y = _polar(g, mid, phi)
            text = a["slots"][k]["text"]
            out.append(_text(x, y - (8 if text else 0), str(k), 12, fill=theme.TEXT, cls="slot-number"))
            if text:
                out.append(_text(x, y + 8, text, 12, weight="bold", mono=True, cls="slot-content"))
        elif size <= 32:
            x, y = _polar(g, mid, phi)
            out.append(_text(x, y, str(k), 12, fill=theme.TEXT, cls="slot-number"))
        else:
            x, y = _polar(g, g.r_in - 14, 2 * math.pi * k / size)
            out.append(_text(x, y, str(k), 12, fill=theme.MUTED, cls="slot-number"))
    for b in label_blocks(a, g):
        bx, by = _polar(g, g.r_out + 3, b["phi"])
        inner = _polar(g, g.r_in - 4, b["phi"])
        names = [n for n, _ in b["lines"]]
        dash = " stroke-dasharray='4,3'" if all(n in EVENTS for n in names) else ""
        out.append(f"<line x1='{inner[0]:.1f}' y1='{inner[1]:.1f}' x2='{bx:.1f}' y2='{by:.1f}' "
                   f"stroke='{theme.TEXT}' stroke-width='2.5'{dash}/>")
        ty = b["top"] + b["height"] / 2
        tx = b["x"] - 4 if b["side"] == "right" else b["x"] + 4
        out.append(f"<polyline points='{bx:.1f},{by:.1f} {tx:.1f},{ty:.1f}' fill='none' stroke='{theme.MUTED}' "
                   f"stroke-width='1'{dash}/>")
        anchor = "start" if b["side"] == "right" else "end"
        for i, (name, value) in enumerate(b["lines"]):
            shared = name in SHARED
            out.append(_text(b["x"], b["top"] + LINE_PX * (i + 0.5), f"{name}={value}", 12, anchor,
                             "bold" if shared else "normal", theme.TEXT if shared else theme.MUTED, mono=True,
                             cls="index-label"))
    out.append(_text(g.cx, g.cy - 12, label("free_short"), 12, fill=theme.MUTED, cls="centre"))
    free = "?" if hide_free else label("of", free=a["free"], size=size)
    out.append(_text(g.cx, g.cy + 10, free, 18, weight="bold", cls="centre"))
    out.append("</svg>")
    return "".join(out)


def slot_list_html(a: dict, limit: int = 40) -> str:
    """The busy slots in ring order (oldest response first) as wrapping chips: slot, index, content."""
    size = a["size"]
    start = a["pointers"]["rsp_cons"]
    chips = []
    for k in range(size):
        s = a["slots"][(start + k) & (size - 1)]
        if not s["kind"]:
            continue
        colour = REGION_COLOURS[int(a["region"][s["slot"]])]
        style = "dashed" if not s["published"] else "solid"
        chips.append(f"<span style='display:inline-block;white-space:nowrap;margin:2px 6px 2px 0;padding:1px 6px;"
                     f"border:2px {style} {colour};font-size:{theme.FONT_PX}px;font-family:monospace'>"
                     f"{html.escape(label('slot_chip', slot=s['slot'], index=s['index'], text=s['text']))}</span>")
    if not chips:
        return ""
    more = f"<span style='font-size:{theme.FONT_PX}px'>{label('more', n=len(chips) - limit)}</span>" \
        if len(chips) > limit else ""
    return f"<div style='max-width:{theme.MAX_WIDTH_PX}px'>{''.join(chips[:limit])}{more}</div>"


# -- what a step did, in words --------------------------------------------------------------------------------
def _between(event: int, old: int, new: int) -> bool:
    """``event`` in ``(old, new]`` modulo 2**32: the notify test of RING_PUSH_*_AND_CHECK_NOTIFY."""
    return ((new - event) & RING_IDX_MASK) < ((new - old) & RING_IDX_MASK)


def narrate(step: dict, before: dict | None = None, after: dict | None = None) -> str:
    """The caption of one step (a dict with ``op`` and the ring operation's values) in the current
    language: what happened and, for a push, why an event was or was not sent."""
    op = step.get("op")
    if op in (None, "start"):
        return label("say.start")
    if op == "refused":
        return label("say." + step["reason"], **step.get("args", {}))
    if op == "problem":
        return label("say.problem", error=step["error"])
    if op == "shared_ring_init":
        return label("say.init")
    slot = step.get("slot")
    what = step.get("what", "")
    if "what" in step:
        pass
    elif slot is not None and after is not None and op in ("produce_request", "produce_response"):
        what = after["slots"][slot]["text"]
    elif slot is not None and before is not None:
        what = before["slots"][slot]["text"]
    if op == "produce_request":
        return label("say.produce_request", what=what, slot=slot, pvt=step.get("pvt", ""))
    if op == "consume_request":
        return label("say.consume_request", what=what, slot=slot, cons=step.get("cons", ""))
    if op == "produce_response":
        return label("say.produce_response", what=what, slot=slot, pvt=step.get("pvt", ""))
    if op == "consume_response":
        return label("say.consume_response", what=what, slot=slot, cons=step.get("cons", ""))
    if op in ("push_requests", "push_responses"):
        old, new = step["old"], step["new"]
        if old == new:
            return label(f"say.{op}.nothing", new=new)
        if not step.get("checked", True):
            return label(f"say.{op}.unchecked", old=old, new=new)
        event = step.get("event")
        if event is None and before is not None:
            event = before["pointers"]["req_event" if op == "push_requests" else "rsp_event"]
        if step.get("notify"):
            return label(f"say.{op}.notify", old=old, new=new, event=event)
        later = ((event - new) & RING_IDX_MASK) < 2 ** 31 and event != new
        return label(f"say.{op}.{'held_later' if later else 'held_busy'}", old=old, new=new, event=event)
    if op in ("final_check_for_responses", "final_check_for_requests"):
        which = "responses" if op.endswith("responses") else "requests"
        work, event = step.get("work", 0), step.get("event")
        moved = before is not None and after is not None and \
            before["pointers"][("rsp_event" if which == "responses" else "req_event")] != event
        kind = "armed" if not work else ("race" if moved else "more")
        return label(f"say.final_{which}.{kind}", n=work, event=event)
    return op


def prediction(kind: str, answer, step: dict, before: dict) -> tuple[bool, str]:
    """Check a student's guess before a step: ``kind`` "notify" (answer True/False: will this push send
    an event?) or "free" (answer an int: how many slots are free for requests?). Returns (right, why)."""
    if kind == "notify":
        actual = bool(step.get("notify"))
        return bool(answer) == actual, narrate(step, before)
    if kind == "free":
        p = before["pointers"]
        right = int(answer) == before["free"]
        return right, label("free_why", size=before["size"], pvt=p["req_prod_pvt"], cons=p["rsp_cons"],
                            free=before["free"])
    raise ValueError(f"unknown prediction {kind!r}: 'notify' or 'free'")


def question_for(op: str | None, step: dict | None = None) -> str | None:
    """Which prediction a step invites: a checked push asks "notify?", producing a request "free?"."""
    if op in ("push_requests", "push_responses") and (step is None or step.get("checked", True)):
        return "notify"
    if op == "produce_request":
        return "free"
    return None


# -- a ring a student drives by hand ---------------------------------------------------------------------------
def say(key: str, **kw) -> str:
    """RingLab's narration ``key`` in the current language (``narration.ring.*``): compared notebook
    cells print it, so a Polish notebook prints Polish."""
    return t(f"narration.ring.{key}", **kw)


class RingLab:
    """A small ring with both ends, stepped by hand; every step returns what happened (in the student's
    language, printed in compared notebook cells) and records it in ``history`` (for the viewer's caption);
    ``undo()`` and ``reset()`` go back."""

    STEPS = ("produce", "push", "consume", "respond", "bpush", "gconsume", "gfinal", "bfinal")
    OPS = {"produce": "produce_request", "push": "push_requests", "consume": "consume_request",
           "respond": "produce_response", "bpush": "push_responses", "gconsume": "consume_response",
           "gfinal": "final_check_for_responses", "bfinal": "final_check_for_requests"}

    def __init__(self, size: int = 8):
        self.sring = SharedRing(size, req_codec=B.BlkifRequest, rsp_codec=B.BlkifResponse)
        self.front, self.back = FrontRing(self.sring), BackRing(self.sring)
        self.next_id = 1
        self.taken: dict[int, object] = {}
        self.log: list[str] = []
        self.history: list[dict] = []
        self._saved: list[tuple] = []
        self._start = self._snapshot()

    # -- undo ------------------------------------------------------------------------------------------
    def _snapshot(self) -> tuple:
        f, b = self.front, self.back
        return (self.sring.page.copy(), f.req_prod_pvt, f.rsp_cons, b.rsp_prod_pvt, b.req_cons,
                f.notifications, f.notifications_held, b.notifications, b.notifications_held,
                self.next_id, dict(self.taken), len(self.log), len(self.history))

    def _restore(self, snap: tuple) -> None:
        f, b = self.front, self.back
        (page, f.req_prod_pvt, f.rsp_cons, b.rsp_prod_pvt, b.req_cons, f.notifications, f.notifications_held,
         b.notifications, b.notifications_held, self.next_id, taken, nlog, nhist) = snap
        self.sring.page[:] = page
        self.taken = dict(taken)
        del self.log[nlog:]
        del self.history[nhist:]

    def undo(self) -> bool:
        """Take back the last step; False if there is none."""
        if not self._saved:
            return False
        self._restore(self._saved.pop())
        return True

    def reset(self) -> None:
        """Back to the empty ring."""
        self._restore(self._start)
        self._saved.clear()

    @property
    def last(self) -> dict:
        return self.history[-1] if self.history else {"op": "start"}

    # -- steps -------------------------------------------------------------------------------------------
    def step(self, name: str) -> str:
        if name not in self.STEPS:
            raise ValueError(f"unknown step {name!r}; steps: {self.STEPS}")
        self._saved.append(self._snapshot())
        try:
            return self._step(name)
        except Exception:
            self._restore(self._saved.pop())                 # a failed step changes nothing
            raise

    def _record(self, text: str, **step) -> str:
        self.history.append(step)
        self.log.append(text)
        return text

    def _refuse(self, text: str, reason: str, **args) -> str:
        return self._record(text, op="refused", reason=reason, args=args, step=None)

    def _step(self, name: str) -> str:
        f, b, s = self.front, self.back, self.sring
        op = self.OPS[name]
        if name == "produce":
            if f.full():
                return self._refuse(say("full"), "full", size=f.nr_ents)
            ident = self.next_id
            req = B.BlkifRequest(id=ident, operation=B.BLKIF_OP_READ if ident % 2 else B.BLKIF_OP_WRITE,
                                 sector_number=8 * ident)
            idx = f.produce_request(req)
            self.next_id += 1
            return self._record(say("produced", id=ident, pvt=f.req_prod_pvt), op=op,
                                slot=idx & (f.nr_ents - 1), pvt=f.req_prod_pvt, what=slot_text(req, "request"))
        if name in ("push", "bpush"):
            end, off = (f, "req") if name == "push" else (b, "rsp")
            old, event = getattr(s, f"{off}_prod"), getattr(s, f"{off}_event")
            notify = bool(end.push_requests_and_check_notify() if name == "push" else
                          end.push_responses_and_check_notify())
            new = getattr(s, f"{off}_prod")
            outcome = say("event_sent" if notify else "event_held")
            return self._record(say("pushed" if name == "push" else "bpushed", prod=new, outcome=outcome), op=op, old=old, new=new, event=event, notify=notify, checked=True)
        if name == "consume":
            if not b.has_unconsumed_requests():
                return self._refuse(say("no_request"), "no_request", n=b.req_cons)
            idx = b.req_cons
            req = b.consume_request()
            self.taken[idx] = req
            return self._record(say("took_request", id=req.id), op=op, slot=idx & (b.nr_ents - 1),
                                cons=b.req_cons, what=slot_text(req, "request"))
        if name == "respond":
            if b.rsp_prod_pvt == b.req_cons:
                return self._refuse(say("nothing_to_answer"), "no_answer")
            idx = b.rsp_prod_pvt
            req = self.taken.pop(idx, None) or b.get_request(idx)
            rsp = B.BlkifResponse(id=req.id, operation=req.operation, status=B.BLKIF_RSP_OKAY)
            b.produce_response(rsp)
            # It goes where rsp_prod_pvt points, not into its request's slot: a back end may answer in another
            # order than the requests came (blkback's elevator does); the guest matches it by id.
            return self._record(say("answered", id=req.id, slot=idx & (b.nr_ents - 1), pvt=idx), op=op,
                                slot=idx & (b.nr_ents - 1), pvt=b.rsp_prod_pvt, what=slot_text(rsp, "response"))
        if name == "gconsume":
            if not f.has_unconsumed_responses():
                return self._refuse(say("no_response"), "no_response", n=f.rsp_cons)
            idx = f.rsp_cons
            rsp = f.consume_response()
            return self._record(say("took_response", id=rsp.id), op=op, slot=idx & (f.nr_ents - 1),
                                cons=f.rsp_cons, what=slot_text(rsp, "response"))
        if name == "gfinal":
            work = f.final_check_for_responses()
            return self._record(say("gfinal", n=work, event=s.rsp_event), op=op, work=work,
                                event=s.rsp_event)
        work = b.final_check_for_requests()
        return self._record(say("bfinal", n=work, event=s.req_event), op=op, work=work,
                            event=s.req_event)

    def arrays(self) -> dict:
        return ring_arrays(self.front, self.back)


# -- a live device's ring, recorded -------------------------------------------------------------------------
class RingRecorder:
    """Record ``ring_arrays`` of one device's ring after every ring operation (from the trace bus).

    ``front``/``back`` are the two ends (e.g. ``vbd.ring`` and ``blkif.ring``); ``prefixes`` the trace
    names of their ring events (a vif's TX ring: ``("netif_tx_", "netfront_tx_")``, its RX ring:
    ``("netif_rx_", "netfront_rx_")``); ``domid`` the guest whose device it is, so that the same
    events of other guests' devices add no frames. ``captions`` keeps the trace names, ``steps`` the
    operations with their values (for the viewer's narration).
    """

    def __init__(self, machine, front, back, prefixes=("blkif_", "blkfront_"), domid: int | None = None):
        self.front, self.back, self.prefixes = front, back, tuple(prefixes)
        self.frames: list[dict] = [ring_arrays(front, back)]
        self.captions: list[str] = ["start"]
        self.steps: list[dict] = [{"op": "start"}]
        self._unsub = machine.trace.subscribe(self._on_event, classes="IO", domid=domid)

    def _on_event(self, e) -> None:
        if not e.name.startswith(self.prefixes):
            return
        try:
            frame = ring_arrays(self.front, self.back)
        except Exception:              # mid-operation the other end may not be consistent yet
            return
        self.frames.append(frame)
        self.captions.append(e.name)
        op = next(e.name[len(p):] for p in self.prefixes if e.name.startswith(p))
        data = e.data
        step = {"op": op, **{k: data[k] for k in ("slot", "old", "new", "notify", "checked", "work") if k in data}}
        p = frame["pointers"]
        if op in ("final_check_for_responses", "final_check_for_requests"):
            step["event"] = data.get("rsp_event", data.get("req_event"))
        step.update({"produce_request": {"pvt": p["req_prod_pvt"]}, "consume_request": {"cons": p["req_cons"]},
                     "produce_response": {"pvt": p["rsp_prod_pvt"]},
                     "consume_response": {"cons": p["rsp_cons"]}}.get(op, {}))
        self.steps.append(step)

    def stop(self) -> None:
        self._unsub()


# -- the widget -------------------------------------------------------------------------------------------------
class RingView(View):
    """The ring drawn as SVG: a live RingLab (with buttons, undo, reset) or a recording (play/pause,
    speed, back/next, reset); in either, a predict mode asks before a push or a produce."""

    CLEAR_ERROR = False                # an error stays shown until the next one
    SPEEDS = ((0.5, 1600), (1, 800), (2, 400), (4, 200))   # (times, ms per step)

    def __init__(self, source, size_px: int = 720, title: str | None = None):
        import ipywidgets as W
        self.W = W
        self.lab = source if isinstance(source, RingLab) else None
        self.frames = None if self.lab else list(source.frames)
        self.captions = None if self.lab else list(source.captions)
        self.steps = None if self.lab else list(getattr(source, "steps", [{"op": c} for c in source.captions]))
        self.size_px = size_px
        self.errors: list[str] = []
        self.pending: tuple | None = None           # (kind, lab step name or frame number) awaiting an answer
        self.verdict = ""
        self.heading = W.HTML(self._heading(title))
        self.picture = W.HTML(layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX - 20}px"))
        self.legend = W.HTML(self._legend())
        self.slot_list = W.HTML()
        self.caption = W.HTML(layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px", min_height="44px"))
        self.counters = W.HTML()
        self.error_box = W.HTML()
        self.predict = W.ToggleButton(description=label("predict"), value=False, icon="question",
                                      tooltip=label("predict_tip"), layout=theme.button_layout())
        self.predict.observe(self._guarded(lambda ch: self._predict_toggled()), names="value")
        self.question = W.HTML()
        yes, no = (W.Button(description=label(k), layout=theme.button_layout(80)) for k in ("yes", "no"))
        yes.on_click(self._guarded(lambda _b: self.answer(True)))
        no.on_click(self._guarded(lambda _b: self.answer(False)))
        self.free_guess = W.BoundedIntText(value=0, min=0, max=1 << 16, layout=W.Layout(width="90px"))
        check = W.Button(description=label("check"), layout=theme.button_layout(80))
        check.on_click(self._guarded(lambda _b: self.answer(self.free_guess.value)))
        self.free_guess.observe(self._guarded(lambda ch: self.answer(ch["new"]) if self.pending and
                                              self.pending[0] == "free" else None), names="value")   # Enter checks
        self.yes_no = theme.controls_row([yes, no])
        self.free_row = theme.controls_row([self.free_guess, check])
        self.ask_box = W.VBox([self.question, self.yes_no, self.free_row],
                              layout=W.Layout(display="none", border=f"2px solid {theme.HIGHLIGHT}",
                                              padding="4px 8px", max_width=f"{theme.MAX_WIDTH_PX}px"))
        rows = self._lab_controls() if self.lab else self._player_controls()
        self.widget = W.VBox([self.heading, *rows, self.ask_box, self.caption, self.picture, self.legend,
                              self.slot_list, self.counters, self.error_box],
                             layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX - 20}px"))
        self.redraw()

    # -- layout pieces ------------------------------------------------------------------------------------
    def error_text(self, exc: Exception) -> str:
        """A refused ring operation or a student's function (exercise 09) in words; other errors as they are."""
        if isinstance(exc, (RingError, RuntimeError)):
            return label("say.problem", error=str(exc))
        return super().error_text(exc)

    def _heading(self, title):
        size = (self.lab.front.nr_ents if self.lab else self.frames[0]["size"])
        text = label("title", n=size)
        if title:
            text = f"{title}: {text}"
        return f"<div style='font-size:{theme.TITLE_FONT_PX}px;font-weight:bold'>{html.escape(text)}</div>"

    def _legend(self) -> str:
        items = [(label(r), c) for r, c in zip(REGION_NAMES, REGION_COLOURS)]
        nowrap = "display:inline-block;white-space:nowrap;margin:0 12px 2px 0"
        keys = (f"<div style='font-size:{theme.FONT_PX}px;color:{theme.TEXT};max-width:{theme.MAX_WIDTH_PX - 20}px'>"
                f"<span style='{nowrap}'><b style='font-family:monospace'>req_prod</b> "
                f"{html.escape(label('legend_shared'))}</span>"
                f"<span style='{nowrap}'><span style='font-family:monospace;color:{theme.MUTED}'>req_cons</span> "
                f"{html.escape(label('legend_private'))}</span>"
                f"<span style='{nowrap}'><span style='display:inline-block;width:14px;height:10px;"
                f"border:2px dashed {theme.RING_REQUEST};vertical-align:middle;margin-right:4px'></span>"
                f"{html.escape(label('legend_pending'))}</span></div>")
        return theme.legend_html(items) + keys

    def _button(self, key, fn, min_px=110):
        b = self.W.Button(description=label(key), layout=theme.button_layout(min_px), tooltip=label(key))
        b.on_click(self._guarded(lambda _b: fn()))
        return b

    def _party(self, key):
        return self.W.HTML(f"<b style='font-size:{theme.FONT_PX}px;white-space:nowrap'>{html.escape(label(key))}</b>",
                           layout=self.W.Layout(width="170px"))

    def _lab_controls(self):
        guest = [self._button(n, lambda n=n: self.do(n)) for n in ("produce", "push", "gconsume", "gfinal")]
        back = [self._button(n, lambda n=n: self.do(n)) for n in ("consume", "respond", "bpush", "bfinal")]
        self.undo_button = self._button("undo", self.undo, 90)
        self.reset_button = self._button("reset", self.reset, 90)
        return [theme.controls_row([self._party("guest_side"), *guest]),
                theme.controls_row([self._party("back_side"), *back]),
                theme.controls_row([self.undo_button, self.reset_button, self.predict])]

    def _player_controls(self):
        W = self.W
        last = len(self.frames) - 1
        self.play = W.Play(min=0, max=last, interval=800, step=1, show_repeat=False,
                           tooltip=label("play"))
        self.slider = W.IntSlider(min=0, max=last, description=label("frame"), style=theme.slider_style(),
                                  layout=W.Layout(width="420px"))
        W.jslink((self.play, "value"), (self.slider, "value"))
        self.slider.observe(self._guarded(lambda ch: self._moved()), names="value")
        self.speed = W.Dropdown(options=[(f"{x:g}×", ms) for x, ms in self.SPEEDS], value=800,
                                description=label("speed"), style={"description_width": "auto"},
                                layout=W.Layout(width="150px"))
        self.pace = W.HTML(self._pace(800))
        self.speed.observe(self._guarded(lambda ch: self.set_speed(ch["new"])), names="value")
        back = self._button("back", lambda: self.goto(self.slider.value - 1), 90)
        nxt = self._button("next", self.next_step, 90)
        reset = self._button("reset", lambda: self.goto(0), 90)
        return [theme.controls_row([self.play, self.slider, self.speed, self.pace]),
                theme.controls_row([back, nxt, reset, self.predict])]

    def _pace(self, ms: int) -> str:
        return f"<span style='font-size:{theme.FONT_PX}px;color:{theme.MUTED}'>{html.escape(label('per_step', ms=ms))}</span>"

    def set_speed(self, ms: int) -> None:
        """Play at ``ms`` milliseconds a step."""
        with self.play.hold_sync(), self.pace.hold_sync():
            self.play.interval = int(ms)
            self.pace.value = self._pace(int(ms))

    # -- state --------------------------------------------------------------------------------------------
    def current(self) -> dict:
        if self.lab:
            return self.lab.arrays()
        return self.frames[self.slider.value] if hasattr(self, "slider") else self.frames[0]

    def current_step(self) -> tuple[dict, dict | None, dict]:
        """(step, frame before it, frame after it) of what the picture shows now."""
        if self.lab:
            return self.lab.last, None, self.current()
        i = self.slider.value
        return self.steps[i], self.frames[i - 1] if i else None, self.frames[i]

    # -- actions ------------------------------------------------------------------------------------------
    def do(self, step: str) -> str:
        """Perform a lab step (in predict mode a push or produce first asks the student)."""
        self._cancel()                              # another button while a question waits: the question goes
        kind = question_for(RingLab.OPS.get(step))
        if self.predict.value and kind:
            if kind == "free" and self.lab.front.full():
                kind = None
            if kind:
                self._ask(kind, step)
                return ""
        self.verdict = ""
        before = self.current()
        text = self.lab.step(step)
        self.redraw(before)
        return text

    def undo(self) -> bool:
        self._cancel()
        done = self.lab.undo()
        self.verdict = "" if done else label("nothing_to_undo")
        self.redraw()
        return done

    def reset(self) -> None:
        self._cancel()
        self.verdict = ""
        self.lab.reset()
        self.redraw()

    def goto(self, i: int) -> None:
        self._cancel()
        self.verdict = ""
        i = max(0, min(len(self.frames) - 1, i))
        if i == self.slider.value:
            self.redraw()
        self.slider.value = i                     # the slider's observer redraws

    def next_step(self) -> None:
        """The next recorded step (in predict mode a push or produce first asks the student)."""
        i = self.slider.value + 1
        if i >= len(self.frames):
            self.verdict = label("at_end")
            self.redraw()
            return
        self._cancel()
        kind = question_for(self.steps[i].get("op"), self.steps[i])
        if self.predict.value and kind:
            self._ask(kind, i)
            return
        self.goto(i)

    def _moved(self):
        if self.pending is None:
            self.verdict = ""
        self.redraw()

    def _ask(self, kind: str, what) -> None:
        self.pending = (kind, what)
        self.question.value = (f"<div style='font-size:{theme.FONT_PX + 1}px'>"
                               f"{html.escape(label('q.' + kind))}</div>")
        with self.yes_no.hold_sync(), self.free_row.hold_sync():
            self.yes_no.layout.display = "flex" if kind == "notify" else "none"
            self.free_row.layout.display = "flex" if kind == "free" else "none"
        self.ask_box.layout.display = "flex"
        self.redraw(hide_free=kind == "free")

    def _cancel(self) -> None:
        self.pending = None
        self.ask_box.layout.display = "none"

    def _predict_toggled(self) -> None:
        self._cancel()
        self.verdict = (f"<i>{html.escape(label('predict_on'))}</i><br>" if self.predict.value else "")
        self.redraw()

    def answer(self, value) -> bool | None:
        """The student's answer to the pending question: performs the step, then says right or wrong."""
        if self.pending is None:
            return None
        kind, what = self.pending
        before = self.current()
        self.pending = None
        self.ask_box.layout.display = "none"
        if self.lab:
            self.lab.step(what)
            step = self.lab.last
        else:
            self.slider.value = what
            step = self.steps[what]
        right, why = prediction(kind, value, step, before)
        mark = label("right") if right else label("wrong")
        colour = theme.OK if right else theme.REFUSED
        self.verdict = f"<b style='color:{colour}'>{html.escape(mark)}</b> "
        if kind == "free":
            self.verdict += html.escape(why) + "<br>"
        self.redraw(before)
        return right

    # -- drawing -------------------------------------------------------------------------------------------
    def redraw(self, before: dict | None = None, hide_free: bool = False) -> None:
        try:
            a = self.current()
        except RingError as exc:               # a student's ring broke the invariants: say so, keep going
            self.caption.value = f"<span style='color:{theme.REFUSED}'>{html.escape(label('bad_state', error=str(exc)))}</span>"
            return
        step, prev, _ = self.current_step()
        text = narrate(step, before if before is not None else prev, a)
        highlight = step.get("slot") if step.get("op") not in ("start", "refused", None) else None
        where = "" if self.lab else f"<span style='color:{theme.MUTED}'>{html.escape(label('step_of', i=self.slider.value, n=len(self.frames) - 1))}</span> "
        n = a["notify"]
        with self.picture.hold_sync(), self.caption.hold_sync(), self.counters.hold_sync(), self.slot_list.hold_sync():
            self.picture.value = ring_svg(a, self.size_px, highlight, hide_free or (self.pending or ("",))[0] == "free")
            self.caption.value = (f"<div style='font-size:{theme.FONT_PX + 1}px;line-height:1.4'>{where}{self.verdict}"
                                  f"{html.escape(text)}</div>")
            self.slot_list.value = slot_list_html(a) if a["size"] > 8 else ""
            self.counters.value = (f"<div style='font-size:{theme.FONT_PX}px'>" + html.escape(
                label("notes", gs=n["front_sent"], bs=n["back_sent"], gh=n["front_held"], bh=n["back_held"]))
                + "</div>")
        if self.lab is not None and hasattr(self, "undo_button"):
            self.undo_button.disabled = not self.lab._saved
