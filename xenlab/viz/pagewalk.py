"""The page walker (chapter 4): a virtual address split into its table indices, each step CR3 ->
directory -> table -> frame with the bits of every entry, in 2-level and PAE, then the machine frame
back to the guest's pfn through the M2P and the pfn to the frame through the guest's P2M, or the
page fault with its error code.

Pure functions: ``va_fields`` (the address bits), ``entry_bits`` (one entry's flags), ``walk_view``
(the whole walk as plain dicts, from the hardware model or from a student's walk function) and
``walk_text``. ``PageWalker`` is the widget: type an address or click one of the examples, step
through the levels.
"""
from __future__ import annotations

from xenlab.hw.paging import (FLAG_NAMES, PageFault, access_bits, check_mode, describe_pfec, walk)
from xenlab.i18n import t
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


def _bits_html(bits) -> str:
    return " ".join(f"<b style='color:#2ca02c'>{b['name']}</b>" if b["set"] else
                    f"<span style='color:#aaa'>{b['name']}</span>" for b in bits)


def walk_html(view: dict, upto: int) -> str:
    colours = ("#1f77b4", "#ff7f0e", "#9467bd", "#555")
    fields = " ".join(f"<span style='color:{colours[i]}'>{f['name']}={f['value']:#x}</span>"
                      for i, f in enumerate(view["fields"][-4:]))
    rows = [f"<div>{view['va']:#010x}: {fields}</div>", f"<div>CR3 = {view['cr3']:#x}</div>"]
    for i, s in enumerate(view["steps"][:upto]):
        rows.append(f"<div><span style='color:{colours[i]}'>{label('level.' + s['level'])}</span> {s['table']:#x}[{s['index']:#x}]"
                    f" = <code>{s['entry']:#x}</code> {_bits_html(s['bits'])}</div>")
    if upto >= len(view["steps"]):
        tail = walk_text(view, translate=True).splitlines()[len(view["steps"]) + 2:]
        style = "color:#b00" if view["fault"] else "color:#060"
        rows += [f"<div style='{style}'>{line}</div>" for line in tail]
    return "<div style='font-family:monospace'>" + "".join(rows) + "</div>"


class PageWalker(View):
    """Walk a domain's page tables one level at a time (optionally next to a student's walk)."""

    ERROR_KEY = "viz.pagewalk.error"

    def __init__(self, domain, walker=None, examples: dict | None = None):
        import ipywidgets as W
        self.d, self.machine, self.walker = domain, domain.machine, walker
        self.errors: list[str] = []
        self.view: dict | None = None
        self.upto = 0
        self.va = W.Text(description=label("va"), value="0xc0001234")
        self.access = W.ToggleButtons(options=[("r", "r"), ("w", "w")], value="r", description=label("access"))
        self.user = W.Checkbox(description=label("user"), value=False)
        ex = examples or {label(f"example.{k}"): v for k, v in EXAMPLES.items()}
        self.examples = W.ToggleButtons(options=[(k, v) for k, v in ex.items()], description=label("examples"),
                                        value=None)
        go, nxt, prev = W.Button(description=label("walk")), W.Button(description=label("next")), \
            W.Button(description=label("prev"))
        go.on_click(self._guarded(lambda *_: self.walk(int(self.va.value, 0))))
        nxt.on_click(self._guarded(lambda *_: self.step(+1)))
        prev.on_click(self._guarded(lambda *_: self.step(-1)))
        self.examples.observe(self._guarded(self._pick), names="value")
        self.out, self.caption, self.error_box = W.HTML(), W.Label(), W.HTML()
        self.widget = W.VBox([W.HBox([self.va, go]), self.examples, W.HBox([self.access, self.user]),
                              W.HBox([prev, nxt, self.caption]), self.out, self.error_box])

    def _pick(self, change):
        if change["new"] is not None:
            self.va.value = f"{change['new']:#010x}"
            self.walk(change["new"])

    def walk(self, va: int) -> dict:
        cr3 = self.d.vcpus[0].cr3
        self.view = walk_view(self.machine, cr3, va, self.access.value, self.user.value, self.d, self.walker)
        self.upto = 0
        return self.step(0)

    def step(self, delta: int) -> dict:
        if self.view is None:
            return {}
        self.upto = max(0, min(len(self.view["steps"]), self.upto + delta))
        self.out.value = walk_html(self.view, self.upto)
        self.caption.value = label("step", i=self.upto, n=len(self.view["steps"]))
        return self.view


__all__ = ["va_fields", "entry_bits", "walk_view", "walk_text", "walker_problem", "PageWalker", "access_bits"]
