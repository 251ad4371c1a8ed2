"""The ring viewer's pure parts against hand-worked values: indices after a worked sequence, the label
layout (no two blocks overlap, none leaves the picture), narration and predictions, undo and reset."""
import re

import numpy as np
import pytest

from xenlab import i18n
from xenlab.viz.ring import (LINE_PX, MONO_CHAR_PX, RingLab, geometry, label_blocks, narrate, prediction,
                             question_for, ring_arrays, ring_svg, slot_list_html)
from xenlab.xen.public.io.ring import BackRing, FrontRing, SharedRing


@pytest.fixture
def lang():
    saved = i18n._explicit

    def use(code):
        i18n.set_language(code)
    yield use
    i18n._explicit = saved


# The worked sequence of chapter 9, indices computed by hand from io/ring.h's rules:
# produce advances req_prod_pvt; push copies it to req_prod and notifies iff req_event in (old, new];
# consume advances req_cons; respond advances rsp_prod_pvt; final check re-arms event = cons + 1 when idle.
WORKED = [
    # step,      req_prod pvt  req_cons req_event rsp_prod rsp_pvt rsp_cons rsp_event notify free
    ("produce",  0, 1, 0, 1, 0, 0, 0, 1, None, 7),
    ("produce",  0, 2, 0, 1, 0, 0, 0, 1, None, 6),
    ("push",     2, 2, 0, 1, 0, 0, 0, 1, True, 6),    # 1 in (0, 2]
    ("consume",  2, 2, 1, 1, 0, 0, 0, 1, None, 6),
    ("consume",  2, 2, 2, 1, 0, 0, 0, 1, None, 6),
    ("bfinal",   2, 2, 2, 3, 0, 0, 0, 1, None, 6),    # idle: req_event = req_cons + 1
    ("produce",  2, 3, 2, 3, 0, 0, 0, 1, None, 5),
    ("push",     3, 3, 2, 3, 0, 0, 0, 1, True, 5),    # 3 in (2, 3]
    ("respond",  3, 3, 2, 3, 0, 1, 0, 1, None, 5),
    ("respond",  3, 3, 2, 3, 0, 2, 0, 1, None, 5),
    ("bpush",    3, 3, 2, 3, 2, 2, 0, 1, True, 5),    # 1 in (0, 2]
    ("gconsume", 3, 3, 2, 3, 2, 2, 1, 1, None, 6),
    ("gconsume", 3, 3, 2, 3, 2, 2, 2, 1, None, 7),
    ("gfinal",   3, 3, 2, 3, 2, 2, 2, 3, None, 7),    # idle: rsp_event = rsp_cons + 1
    ("produce",  3, 4, 2, 3, 2, 2, 2, 3, None, 6),
    ("push",     4, 4, 2, 3, 2, 2, 2, 3, False, 6),   # 3 not in (3, 4]: back end still has request 3
]


def test_worked_sequence_indices_by_hand():
    lab = RingLab(8)
    for step, *want in WORKED:
        lab.step(step)
        a = lab.arrays()
        p = a["pointers"]
        got = [p["req_prod"], p["req_prod_pvt"], p["req_cons"], p["req_event"], p["rsp_prod"], p["rsp_prod_pvt"],
               p["rsp_cons"], p["rsp_event"]]
        assert got == want[:8], step
        if want[8] is not None:
            assert lab.last["notify"] is want[8], step
        assert a["free"] == want[9], step
    # slot contents: requests 3 (READ) and 4 (WRITE) wait in slots 2 and 3; 1 and 2 were answered and consumed
    slots = lab.arrays()["slots"]
    assert (slots[2]["text"], slots[2]["kind"], slots[2]["taken"]) == ("#3 READ", "request", False)
    assert (slots[3]["text"], slots[3]["kind"], slots[3]["taken"]) == ("#4 WRITE", "request", False)
    assert slots[0]["kind"] == "" and slots[4]["kind"] == ""


def test_unpublished_items_are_marked():
    lab = RingLab(8)
    lab.step("produce")
    s = lab.arrays()["slots"][0]
    assert (s["kind"], s["published"], s["text"]) == ("request", False, "#1 READ")
    svg = ring_svg(lab.arrays())
    assert "stroke-dasharray='5,3'" in svg


def _boxes(blocks):
    out = []
    for b in blocks:
        w = max(len(f"{n}={v}") for n, v in b["lines"]) * MONO_CHAR_PX
        x0 = b["x"] if b["side"] == "right" else b["x"] - w
        out.append((x0, b["top"], x0 + w, b["top"] + b["height"]))
    return out


@pytest.mark.parametrize("size", [8, 32, 256])
def test_labels_never_overlap_nor_leave_the_picture(size):
    rng = np.random.default_rng(size)
    g = geometry(720)
    for _ in range(300):
        s = SharedRing(size, entry_size=8)
        base = int(rng.integers(0, 2 ** 32))
        # a random consistent ring: rsp_cons <= rsp_prod <= rsp_pvt <= req_cons <= req_prod <= req_pvt <= rsp_cons+size
        cuts = np.sort(rng.integers(0, size + 1, size=5))
        f, b = FrontRing(s, base), BackRing(s, base)
        s.rsp_prod = (base + int(cuts[0])) & 0xFFFFFFFF
        b.rsp_prod_pvt = (base + int(cuts[1])) & 0xFFFFFFFF
        b.req_cons = (base + int(cuts[2])) & 0xFFFFFFFF
        s.req_prod = (base + int(cuts[3])) & 0xFFFFFFFF
        f.req_prod_pvt = (base + int(cuts[4])) & 0xFFFFFFFF
        s.req_event = (base + int(rng.integers(0, size + 1))) & 0xFFFFFFFF
        s.rsp_event = (base + int(rng.integers(0, size + 1))) & 0xFFFFFFFF
        a = ring_arrays(f, b)
        blocks = label_blocks(a, g)
        assert sum(len(x["lines"]) for x in blocks) == 8
        boxes = _boxes(blocks)
        for i, p in enumerate(boxes):
            assert p[0] >= 0 and p[2] <= g.width and p[1] >= 0 and p[3] <= g.height, (p, g)
            assert p[0] >= g.cx + g.r_out or p[2] <= g.cx - g.r_out          # beside the ring, not on it
            for q in boxes[i + 1:]:
                assert p[2] <= q[0] or q[2] <= p[0] or p[3] <= q[1] or q[3] <= p[1], (p, q)
        assert all(x["height"] == LINE_PX * len(x["lines"]) for x in blocks)


def test_svg_texts_are_at_least_12px_and_inside():
    lab = RingLab(8)
    for step in ("produce", "produce", "push", "consume"):
        lab.step(step)
    svg = ring_svg(lab.arrays(), 720, highlight=0)
    sizes = [int(x) for x in re.findall(r"font-size='(\d+)px'", svg)]
    assert sizes and min(sizes) >= 12
    g = geometry(720)
    for x, y in re.findall(r"<text x='([\d.]+)' y='([\d.]+)'", svg):
        assert 0 <= float(x) <= g.width and 0 <= float(y) <= g.height


def test_predictions_check_and_explain(lang):
    lang("en")
    lab = RingLab(8)
    lab.step("produce")
    before = lab.arrays()
    assert question_for("push_requests") == "notify" and question_for("produce_request") == "free"
    assert question_for("consume_request") is None
    assert question_for("push_requests", {"checked": False}) is None
    lab.step("push")
    right, why = prediction("notify", True, lab.last, before)
    assert right and "(0, 1]" in why
    assert not prediction("notify", False, lab.last, before)[0]
    right, why = prediction("free", 7, {}, before)                # 8 - (1 - 0)
    assert right and why.endswith("= 8 − (1 − 0) = 7.")
    assert not prediction("free", 8, {}, before)[0]
    with pytest.raises(ValueError):
        prediction("colour", 1, {}, before)


def test_narration_in_polish_has_no_english(lang):
    lang("pl")
    lab = RingLab(8)
    texts = []
    for step in ("produce", "push", "produce", "push", "consume", "consume", "bfinal", "respond", "bpush",
                 "gconsume", "gfinal", "gconsume", "respond"):
        lab.step(step)
        texts.append(narrate(lab.last))
    lab2 = RingLab(8)
    lab2.step("consume")
    texts.append(narrate(lab2.last))
    joined = " ".join(texts)
    for english in ("guest", "back end", "request", "response", "pushed", "held off", "the "):
        assert english not in joined
    assert "część zaplecza" in joined.lower() and "wstrzymane" in joined and "backend" not in joined.lower()


def test_undo_restores_the_bytes_and_reset_empties():
    lab = RingLab(8)
    for step in ("produce", "produce", "push", "consume"):
        lab.step(step)
    page = lab.sring.page.copy()
    state = lab.arrays()["pointers"]
    lab.step("respond")
    lab.step("bpush")
    assert lab.undo() and lab.undo()
    assert (lab.sring.page == page).all() and lab.arrays()["pointers"] == state
    assert lab.front.notifications == 1 and lab.back.notifications == 0
    lab.reset()
    assert lab.arrays()["pointers"]["req_prod_pvt"] == 0 and lab.history == [] and not lab.undo()
    lab.step("produce")
    assert lab.last["what"] == "#1 READ"                           # ids start again from 1


def test_slot_list_in_ring_order():
    lab = RingLab(16)
    for step in ("produce", "produce", "produce", "push", "consume"):
        lab.step(step)
    html = slot_list_html(lab.arrays())
    assert html.index("#1 READ") < html.index("#2 WRITE") < html.index("#3 READ")


def test_the_view_asks_before_a_push_in_predict_mode(lang):
    pytest.importorskip("ipywidgets")
    from xenlab.viz.ring import RingView
    lang("en")
    view = RingView(RingLab(8))
    view.predict.value = True
    view.do("produce")                              # asks "how many free?" first
    assert view.pending == ("free", "produce") and "?" in view.picture.value
    assert view.answer(8) is True and "Right" in view.caption.value
    view.do("push")
    assert view.pending[0] == "notify" and view.lab.arrays()["pointers"]["req_prod"] == 0
    assert view.answer(False) is False and "Not quite" in view.caption.value
    assert view.lab.arrays()["pointers"]["req_prod"] == 1


def test_a_recorded_disk_ring_is_narrated_in_polish(lang, tmp_path):
    import xenlab
    from xenlab.viz.ring import RingRecorder
    lang("pl")
    img = tmp_path / "d.img"
    img.write_bytes(b"\0" * 512 * 64)
    m = xenlab.Machine(memory_mb=48, seed=2)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=8, disk=[f"file:{img},xvda,w"]))
    vbd = d.kernel.vbds["xvda"]
    back = m.xend.devices.blkback.blkifs[(d.domain_id, vbd.devid)].ring
    rec = RingRecorder(m, vbd.ring, back, domid=d.domain_id)
    vbd.write(0, b"x" * 1024)
    vbd.read(8, 2)
    m.run_for(5_000_000)
    rec.stop()
    assert len(rec.steps) == len(rec.frames) == len(rec.captions) > 8
    texts = [narrate(rec.steps[i], rec.frames[i - 1] if i else None, rec.frames[i]) for i in range(len(rec.steps))]
    joined = " ".join(texts)
    assert not any(c in joined for c in set(rec.captions[1:]))          # no raw trace names
    for english in ("guest", "back end", "pushed", "held off", "the "):
        assert english not in joined
    assert "#0 WRITE" in joined and "OKAY" in joined                     # contents decoded from the blkif structs
    pushes = [s for s in rec.steps if s["op"] == "push_requests"]
    assert pushes and all("notify" in s and "old" in s and "new" in s for s in pushes)
