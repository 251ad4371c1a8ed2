"""The page walker (chapter 4): a virtual address split into its table indices, each step CR3 ->
directory -> table -> frame with the bits of every entry, in 2-level and PAE, then the machine frame
back to the guest's pfn through the M2P and the pfn to the frame through the guest's P2M, or the
page fault with its error code.

Pure functions: ``va_fields`` (the address bits), ``entry_bits`` (one entry's flags), ``walk_view``
(the whole walk as plain dicts, from the hardware model or from a student's walk function) and
``walk_text``; ``fault_explained`` (the #PF error code bit by bit and which level refused, in the
student's language), ``walk_svg`` (the walk as a diagram: CR3 -> L3 -> L2 -> L1 -> frame, every entry's
bits, the failing level outlined) and ``parse_va`` (a typed address, or a message saying what is wrong
with it). ``PageWalker`` is the widget: type an address (Enter walks) or click an example; switching
read/write or user mode walks again at once; step back and forth through the levels.
"""
from __future__ import annotations

import html

from xenlab.hw.paging import (_PAGE_RW, _PAGE_USER, FLAG_NAMES, PFEC_insn_fetch, PFEC_page_present, PFEC_reserved_bit,
                              PFEC_user_mode, PFEC_write_access, PageFault, access_bits, check_mode, describe_pfec,
                              walk)
from xenlab.i18n import t
from xenlab.viz import theme
from xenlab.viz.base import View

# walk_text() is printed in compared notebook cells shared by pl/ and en/, so by default it stays in
# these neutral (English) words; the widget shows them translated (label("level.L2") ...).
LEVEL_NAMES = {"L3": "PDPT (L3)", "L2": "page directory (L2)", "L1": "page table (L1)"}
EXAMPLES = {"kernel": 0xC0001234, "user": 0x08048000, "xen": 0xFC000000, "hole": 0x40000000}


def label(key: str, **kw) -> str:
    """The walker's label ``key`` (a button, a caption ...) in the current language."""
    return t(f"viz.pagewalk.{key}", **kw)


def va_fields(va: int, mode: str = "2level") -> list[dict]:
    """The index bits of each level and the page offset: name, bit range, value."""
    out, top = [], 32
    for lv in check_mode(mode):
        width = lv.entries.bit_length() - 1
        out.append({"name": lv.name, "hi": top - 1, "lo": lv.shift, "value": (va >> lv.shift) & (lv.entries - 1)})
        top = lv.shift
        assert lv.shift + width == out[-1]["hi"] + 1
    out.append({"name": "offset", "hi": 11, "lo": 0, "value": va & 0xFFF})
    return out


def entry_bits(entry: int, mode: str = "2level") -> list[dict]:
    """The flag bits of one entry: name, mask, set or not (NX only in PAE)."""
    return [{"name": name, "mask": bit, "set": bool(entry & bit)} for bit, name in FLAG_NAMES
            if name != "NX" or mode == "pae"]


def walk_view(machine, cr3: int, va: int, access: str = "r", user: bool = False, domain=None,
              walker=None) -> dict:
    """The walk of ``va`` from ``cr3`` as dicts. With ``walker`` (a student's ``page_walk(mem, cr3, va,
    mode, write, user)`` returning ``(maddr, None)`` or ``(None, error_code)``) its answer is shown too."""
    mode = machine.paging
    va = int(va)
    steps, fault, maddr = [], None, None
    try:
        maddr, raw = walk(machine.memory, cr3, va, access, mode, user=user, set_ad=False)
    except PageFault as pf:
        raw, fault = pf.steps, {"error_code": pf.error_code, "text": describe_pfec(pf.error_code),
                                "reason": pf.reason, "cr2": va}
    for st in raw:
        steps.append({"level": st.level, "name": LEVEL_NAMES[st.level], "table": st.table, "index": st.index,
                      "entry_maddr": st.entry_maddr, "entry": st.entry, "bits": entry_bits(st.entry, mode),
                      "next": st.entry & (0xFFFFF000 if mode == "2level" else 0xFFFFFF000)})
    if fault is not None:
        fault["level_index"] = failing_level(steps, fault["error_code"], mode)
    view = {"va": va, "mode": mode, "cr3": cr3, "access": access, "user": user, "fields": va_fields(va, mode),
            "steps": steps, "maddr": maddr, "fault": fault, "mfn": None if maddr is None else maddr >> 12}
    if maddr is not None:
        mfn = maddr >> 12
        pfn = int(machine.m2p[mfn])
        view["pfn"] = pfn                                         # M2P: machine -> guest pfn (Xen's table)
        if domain is not None and 0 <= pfn < len(domain.p2m):
            view["p2m_mfn"] = domain.p2m[pfn]                     # P2M: the guest's own table
    if walker is not None:
        view["yours"] = run_walker(walker, machine, cr3, va, access, user)
        want = (maddr, None) if fault is None else (None, fault["error_code"])
        view["agree"] = view["yours"].get("result") == want
    return view


def run_walker(walker, machine, cr3, va, access, user) -> dict:
    """Call a student's walk; never raise because of it."""
    try:
        got = walker(machine.memory, cr3, va, machine.paging, access == "w", user)
        got = (None if got[0] is None else int(got[0]), None if got[1] is None else int(got[1]))
        return {"result": got, "problem": None}
    except NotImplementedError:
        return {"result": None, "problem": "not written yet", "not_written": True}
    except Exception as exc:                                       # the student's bug, shown not raised
        return {"result": None, "problem": f"{type(exc).__name__}: {exc}"}


def walker_problem(yours: dict):
    """The problem of a student's walk as shown to the student (None when it answered)."""
    return t("viz.exercise.not_written") if yours.get("not_written") else yours["problem"]


def walk_text(view: dict, upto: int | None = None, translate: bool = False) -> str:
    """The walk as text; ``upto`` limits it to the first levels (for stepping). The level names and the
    last line are in the current language with ``translate`` (the widget), otherwise in the words the
    course's compared outputs use (the same in pl/ and en/)."""
    tr = (lambda key_, plain_, **kw: label(key_, **kw)) if translate else (lambda key_, plain_, **kw: plain_)
    fields = "  ".join(f"{f['name']}[{f['hi']}:{f['lo']}]={f['value']:#x}" for f in view["fields"])
    lines = [f"va {view['va']:#010x} ({view['mode']}): {fields}", f"CR3 = {view['cr3']:#x}"]
    shown = view["steps"] if upto is None else view["steps"][:upto]
    for s in shown:
        bits = " ".join(b["name"] if b["set"] else b["name"].lower() for b in s["bits"])
        name = tr("level." + s["level"], s["name"])
        lines.append(f"{name:20s} {s['table']:#x}[{s['index']:#x}] @ {s['entry_maddr']:#x} = "
                     f"{s['entry']:#x}  [{bits}]")
    done = upto is None or upto >= len(view["steps"])
    if done and view["fault"]:
        f = view["fault"]
        lines.append(tr("pf", f"#PF error code {f['error_code']:#x} ({f['text']}): {f['reason']}",
                        code=f["error_code"], text=f["text"], reason=f["reason"]))
    elif done:
        lines.append(tr("maddr", f"machine address {view['maddr']:#x} (mfn {view['mfn']:#x}); "
                                 f"M2P[mfn] = pfn {view['pfn']:#x}", maddr=view["maddr"], mfn=view["mfn"], pfn=view["pfn"])
                     + (f"; P2M[pfn] = mfn {view['p2m_mfn']:#x}" if "p2m_mfn" in view else ""))
    if done and "yours" in view:
        y = view["yours"]
        mark = t("viz.exercise.agree") if view["agree"] else t("viz.exercise.differs")
        lines.append(label("compare", mark=mark, yours=walker_problem(y) or y["result"]))
    return "\n".join(lines)


def failing_level(steps: list[dict], code: int, mode: str) -> int:
    """Which step the fault belongs to: the last one for a missing entry or a reserved bit; for a
    protection fault the first level whose entry withholds the right (RW for a write, US for user mode;
    PAE's L3 carries no rights)."""
    if not code & PFEC_page_present or code & PFEC_reserved_bit:
        return len(steps) - 1
    for i, s in enumerate(steps):
        if s["level"] == "L3" and mode == "pae":
            continue
        if code & PFEC_write_access and not s["entry"] & _PAGE_RW:
            return i
        if code & PFEC_user_mode and not s["entry"] & _PAGE_USER:
            return i
    return len(steps) - 1


def fault_explained(view: dict) -> list[str]:
    """The #PF of a walk in the student's language: the error code, each of its bits, and why."""
    f = view["fault"]
    code = f["error_code"]
    level = view["steps"][f["level_index"]]["level"]
    lines = [label("pf.head", code=code, cr2=view["va"])]
    lines.append(label("pf.bit.P1" if code & PFEC_page_present else "pf.bit.P0"))
    lines.append(label("pf.bit.W1" if code & PFEC_write_access else "pf.bit.W0"))
    lines.append(label("pf.bit.U1" if code & PFEC_user_mode else "pf.bit.U0"))
    if code & PFEC_reserved_bit:
        lines.append(label("pf.bit.RSVD"))
    if code & PFEC_insn_fetch:
        lines.append(label("pf.bit.ID"))
    name = label("level." + level)
    if not code & PFEC_page_present:
        why = label("pf.why.not_present", level=name)
    elif code & PFEC_reserved_bit:
        why = label("pf.why.reserved", level=name)
    elif code & PFEC_write_access and not view["steps"][f["level_index"]]["entry"] & _PAGE_RW:
        why = label("pf.why.read_only", level=name)
    elif code & PFEC_user_mode and not view["steps"][f["level_index"]]["entry"] & _PAGE_USER:
        why = label("pf.why.supervisor", level=name)
    else:
        why = label("pf.why.nx", level=name)
    return lines + [why]


def missing_bit(view: dict) -> str | None:
    """The entry bit whose absence caused the fault (P, RW or US), if one did."""
    f = view["fault"]
    if f is None:
        return None
    code, entry = f["error_code"], view["steps"][f["level_index"]]["entry"]
    if not code & PFEC_page_present:
        return "P"
    if code & PFEC_write_access and not entry & _PAGE_RW:
        return "RW"
    if code & PFEC_user_mode and not entry & _PAGE_USER:
        return "US"
    return None


LEVEL_COLOURS = {"L3": "#56b4e9", "L2": "#0072b2", "L1": "#e69f00", "offset": theme.MUTED}
_BOX_W, _GAP, _CHAR = 160, 26, 7.3          # box width, gap for the arrow, one 12 px monospace character


def parse_va(text: str) -> tuple[int | None, str | None]:
    """A typed virtual address: ``(va, None)``, or ``(None, message)`` in the student's language.
    Hex with 0x (or with a-f digits), decimal otherwise; spaces and _ ignored; 0..0xffffffff."""
    raw = (text or "").strip().replace("_", "").replace(" ", "")
    try:
        if raw.lower().startswith("0x"):
            va = int(raw, 16)
        elif raw and all(c in "0123456789abcdefABCDEF" for c in raw) and not raw.isdigit():
            va = int(raw, 16)
        else:
            va = int(raw, 10)
    except ValueError:
        return None, label("bad_va", text=text)
    if not 0 <= va <= 0xFFFFFFFF:
        return None, label("va_range", text=text)
    return va, None


def _chips(bits, x: float, y: float, width: float, missing: str | None = None) -> tuple[list[str], float]:
    """Flag chips (set: green and bold, clear: grey, the one whose absence faulted: outlined red) wrapped
    inside ``width``; returns svg and height."""
    out, cx, cy = [], x, y
    for b in bits:
        w = len(b["name"]) * _CHAR + 8
        if cx + w > x + width:
            cx, cy = x, cy + 20
        fill = theme.OK if b["set"] else "#eeeeee"
        ink = "#ffffff" if b["set"] else "#888888"
        edge = f" stroke='{theme.REFUSED}' stroke-width='2'" if b["name"] == missing else ""
        out.append(f"<rect x='{cx:.1f}' y='{cy:.1f}' width='{w:.1f}' height='17' rx='3' fill='{fill}'{edge}/>")
        out.append(f"<text x='{cx + w / 2:.1f}' y='{cy + 9:.1f}' font-size='12px' font-family='monospace' "
                   f"text-anchor='middle' dominant-baseline='central' fill='{ink}' "
                   f"font-weight='{'bold' if b['set'] else 'normal'}'>{b['name']}</text>")
        cx += w + 4
    return out, cy + 17 - y


def _t(x, y, s, size=12, weight="normal", fill=theme.TEXT, mono=False) -> str:
    family = "monospace" if mono else "sans-serif"
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}px' font-family='{family}' text-anchor='middle' "
            f"dominant-baseline='central' font-weight='{weight}' fill='{fill}'>{html.escape(s)}</text>")


def walk_svg(view: dict, upto: int | None = None) -> str:
    """The walk as a diagram: CR3, one box per table (its mfn, the index used, the entry and its bits),
    then the frame (mfn, pfn by the M2P, the machine address) or the fault; the failing level outlined
    in red. ``upto`` shows only the first levels (stepping); later boxes are left as placeholders."""
    steps = view["steps"]
    n_levels = len(check_mode(view["mode"]))
    shown = len(steps) if upto is None else max(0, min(upto, len(steps)))
    fault = view["fault"]
    boxes = 2 + n_levels                                  # CR3, the tables, the frame
    width = boxes * _BOX_W + (boxes - 1) * _GAP + 8
    top, height = 6, 136
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{top + height + 8}' "
           f"viewBox='0 0 {width} {top + height + 8}' style='max-width:100%;display:block'>",
           "<defs><marker id='pw-arrow' markerWidth='8' markerHeight='8' refX='7' refY='4' orient='auto'>"
           f"<path d='M0,0 L8,4 L0,8 z' fill='{theme.TEXT}'/></marker></defs>"]

    def box(i, title, colour, lines, bits=None, state="ok", missing=None):
        x = 4 + i * (_BOX_W + _GAP)
        stroke = {"ok": "#999999", "fail": theme.REFUSED, "todo": "#dddddd"}[state]
        sw = 3 if state == "fail" else 1.2
        out.append(f"<rect x='{x}' y='{top}' width='{_BOX_W}' height='{height}' rx='6' fill='#ffffff' "
                   f"stroke='{stroke}' stroke-width='{sw}'/>")
        out.append(f"<rect x='{x}' y='{top}' width='{_BOX_W}' height='24' rx='6' fill='{colour}'/>")
        out.append(_t(x + _BOX_W / 2, top + 12, title, 12, "bold", "#ffffff"))
        y = top + 38
        for text, mono, ink in lines:
            out.append(_t(x + _BOX_W / 2, y, text, 12, "normal", ink, mono))
            y += 17
        if bits is not None:
            svg, _h = _chips(bits, x + 6, y - 4, _BOX_W - 12, missing)
            out.extend(svg)
        if i < boxes - 1:
            ax = x + _BOX_W
            head = "" if state == "todo" else " marker-end='url(#pw-arrow)'"
            out.append(f"<line x1='{ax + 2}' y1='{top + height / 2}' x2='{ax + _GAP - 3}' y2='{top + height / 2}' "
                       f"stroke='{theme.TEXT if state != 'todo' else '#cccccc'}' stroke-width='2' "
                       f"{head}/>")

    box(0, "CR3", theme.XEN, [(label("diag.table_at"), False, theme.MUTED),
                              (f"{view['cr3']:#x}", True, theme.TEXT),
                              (f"mfn {view['cr3'] >> 12:#x}", True, theme.TEXT)])
    levels = [lv.name for lv in check_mode(view["mode"])]
    for i, name in enumerate(levels):
        title = label("level." + name)
        colour = LEVEL_COLOURS[name]
        if i < len(steps) and i < shown:
            s = steps[i]
            failed = fault is not None and fault.get("level_index") == i
            ink = theme.REFUSED if failed else theme.TEXT
            lines = [(f"mfn {s['table'] >> 12:#x}", True, theme.MUTED),
                     (label("diag.index", index=s["index"]), True, theme.TEXT),
                     (f"{s['entry']:#x}", True, ink)]
            box(1 + i, title, colour, lines, s["bits"], "fail" if failed else "ok",
                missing_bit(view) if failed else None)
        elif i >= len(steps) and shown == len(steps) and fault is None:
            box(1 + i, title, "#cccccc", [(label("diag.large"), False, theme.MUTED)], None, "todo")
        else:
            box(1 + i, title, "#cccccc", [("?", False, theme.MUTED)], None, "todo")
    done = shown >= len(steps)
    if done and fault is None:
        lines = [(f"mfn {view['mfn']:#x}", True, theme.TEXT), (f"pfn {view['pfn']:#x} (M2P)", True, theme.TEXT),
                 (label("diag.offset", off=view["va"] & 0xFFF), True, theme.MUTED),
                 (f"{view['maddr']:#x}", True, theme.OK)]
        box(boxes - 1, label("diag.frame"), theme.OK, lines)
    elif done:
        box(boxes - 1, label("diag.fault"), theme.REFUSED, [(f"#PF {fault['error_code']:#x}", True, theme.REFUSED),
                                                            (f"CR2 = {view['va']:#010x}", True, theme.TEXT)], None,
            "fail")
    else:
        box(boxes - 1, label("diag.frame"), "#cccccc", [("?", False, theme.MUTED)], None, "todo")
    out.append("</svg>")
    return "".join(out)


def fields_html(view: dict) -> str:
    """The address split into its index fields, each in its level's colour, with the bit ranges."""
    chips = [f"<span style='display:inline-block;white-space:nowrap;margin:0 8px 4px 0;padding:2px 8px;"
             f"border-left:6px solid {LEVEL_COLOURS.get(f['name'], theme.MUTED)};background:#f6f6f6;"
             f"font-family:monospace;font-size:{theme.FONT_PX + 1}px'>"
             f"{html.escape(label('field.' + f['name']) if f['name'] == 'offset' else f['name'])} "
             f"[{f['hi']}:{f['lo']}] = {f['value']:#x}</span>" for f in view["fields"]]
    head = (f"<span style='font-family:monospace;font-size:{theme.FONT_PX + 3}px;font-weight:bold;margin-right:12px'>"
            f"{view['va']:#010x}</span>")
    return f"<div style='max-width:{theme.MAX_WIDTH_PX}px'>{head}{''.join(chips)}</div>"


def result_html(view: dict, upto: int | None = None) -> str:
    """Under the diagram: the fault explained bit by bit, or the machine address and the P2M check;
    and the student's walk next to the MMU's."""
    if upto is not None and upto < len(view["steps"]):
        return ""
    rows = []
    if view["fault"]:
        lines = fault_explained(view)
        rows.append(f"<div style='color:{theme.REFUSED};font-weight:bold'>{html.escape(lines[0])}</div>")
        rows.append("<ul style='margin:2px 0'>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines[1:-1]) + "</ul>")
        rows.append(f"<div>{html.escape(lines[-1])}</div>")
    else:
        text = label("maddr", maddr=view["maddr"], mfn=view["mfn"], pfn=view["pfn"])
        if "p2m_mfn" in view:
            text += "; " + label("p2m", pfn=view["pfn"], mfn=view["p2m_mfn"])
        rows.append(f"<div style='color:{theme.OK}'>{html.escape(text)}</div>")
    if "yours" in view:
        y = view["yours"]
        mark = t("viz.exercise.agree") if view["agree"] else t("viz.exercise.differs")
        res = y["result"]
        shown = walker_problem(y) or (label("yours_maddr", maddr=res[0]) if res and res[0] is not None else
                                      label("yours_fault", code=res[1]) if res else "—")
        colour = theme.OK if view["agree"] else theme.REFUSED
        rows.append(f"<div style='color:{colour}'>{html.escape(label('compare', mark=mark, yours=shown))}</div>")
    return f"<div style='font-size:{theme.FONT_PX + 1}px;max-width:{theme.MAX_WIDTH_PX}px'>{''.join(rows)}</div>"


def walk_html(view: dict, upto: int) -> str:
    """The address fields, the diagram and the result (what the widget shows)."""
    return fields_html(view) + walk_svg(view, upto) + result_html(view, upto)


class PageWalker(View):
    """Walk a domain's page tables as a diagram (optionally next to a student's walk): every control
    walks again at once; the level buttons step through the walk."""

    ERROR_KEY = "viz.pagewalk.error"

    def __init__(self, domain, walker=None, examples: dict | None = None, va: int = 0xC0001234):
        import ipywidgets as W
        self.d, self.machine, self.walker = domain, domain.machine, walker
        self.errors: list[str] = []
        self.view: dict | None = None
        self.upto = 0
        self.va = W.Text(description=label("va"), value=f"{va:#010x}", continuous_update=False,
                         style={"description_width": "auto"}, layout=W.Layout(width="260px"))
        self.access = W.ToggleButtons(options=[(label("read"), "r"), (label("write"), "w")], value="r",
                                      description=label("access"), style={"description_width": "auto",
                                                                          "button_width": "auto"})
        self.user = W.Checkbox(description=label("user"), value=False, indent=False,
                               layout=W.Layout(width="auto"))
        ex = examples or {label(f"example.{k}"): v for k, v in EXAMPLES.items()}
        self.examples = W.ToggleButtons(options=[(k, v) for k, v in ex.items()], description=label("examples"),
                                        value=None, style={"description_width": "auto", "button_width": "auto"})
        go = W.Button(description=label("walk"), layout=theme.button_layout(90), button_style="primary")
        self.prev_b = W.Button(description=label("prev"), layout=theme.button_layout(90))
        self.next_b = W.Button(description=label("next"), layout=theme.button_layout(90))
        go.on_click(self._guarded(lambda *_: self.walk_typed()))
        self.next_b.on_click(self._guarded(lambda *_: self.step(+1)))
        self.prev_b.on_click(self._guarded(lambda *_: self.step(-1)))
        self.va.observe(self._guarded(lambda ch: self.walk_typed()), names="value")     # Enter (or leaving the box)
        self.access.observe(self._guarded(lambda ch: self.rewalk()), names="value")
        self.user.observe(self._guarded(lambda ch: self.rewalk()), names="value")
        self.examples.observe(self._guarded(self._pick), names="value")
        self.out, self.caption, self.message, self.error_box = W.HTML(), W.HTML(), W.HTML(), W.HTML()
        self.widget = W.VBox([theme.controls_row([self.va, go]), theme.controls_row([self.examples]),
                              theme.controls_row([self.access, self.user]),
                              theme.controls_row([self.prev_b, self.next_b, self.caption]), self.message, self.out,
                              self.error_box], layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX - 20}px"))
        self.walk(va)

    def _pick(self, change):
        if change["new"] is not None:
            text = f"{change['new']:#010x}"
            if self.va.value != text:
                self.va.value = text            # its observer walks
            else:
                self.walk(change["new"])

    def walk_typed(self) -> dict:
        va, problem = parse_va(self.va.value)
        if problem:
            self.message.value = f"<div style='color:{theme.REFUSED};font-size:{theme.FONT_PX + 1}px'>{html.escape(problem)}</div>"
            return {}
        if self.examples.value is not None and self.examples.value != va:
            self.examples.value = None
        return self.walk(va)

    def rewalk(self) -> dict:
        return self.walk(self.view["va"]) if self.view else self.walk_typed()

    def walk(self, va: int) -> dict:
        cr3 = self.d.vcpus[0].cr3
        self.message.value = ""
        self.view = walk_view(self.machine, cr3, va, self.access.value, self.user.value, self.d, self.walker)
        self.upto = len(self.view["steps"])
        return self.step(0)

    def step(self, delta: int) -> dict:
        if self.view is None:
            return {}
        n = len(self.view["steps"])
        self.upto = max(0, min(n, self.upto + delta))
        with self.out.hold_sync(), self.caption.hold_sync():
            self.out.value = walk_html(self.view, self.upto)
            self.caption.value = f"<span style='font-size:{theme.FONT_PX}px'>{html.escape(label('step', i=self.upto, n=n))}</span>"
        self.prev_b.disabled = self.upto == 0
        self.next_b.disabled = self.upto == n
        return self.view


__all__ = ["va_fields", "entry_bits", "walk_view", "walk_text", "walker_problem", "PageWalker", "access_bits", "parse_va", "walk_svg", "fault_explained", "failing_level"]
