"""Find English in what a Polish notebook prints.

A Polish notebook must show Polish output. What the course or the model says in its own words
(verdicts, explanations, labels, table headers the course invented, plot titles) comes from the
catalogues. What a real Xen system prints stays exactly as Xen prints it, because that is what the
student will see on a real machine:

- the output of Xen's tools: ``xm list``'s header (``Name ID Mem(MiB) VCPUs State Time(s)``), ``xm
  create``'s ``Using config file ...``/``Started domain ...``, ``xm info``'s fields, ``xentop``'s screen;
- Xen's own log and debug-key lines (``Bad L1 flags 0x100``, ``Bad type (saw ... != exp ...) for mfn``,
  ``Scheduler: SMP Credit Scheduler (credit)``, the schedulers' ``.name`` strings), a Linux guest's
  console, xc_linux_save's ``Total pages sent=`` line;
- identifiers: C names, hypercalls, constants and fields (``mmu_update``, ``GNTST_okay``,
  ``req_prod``, ``XenbusStateConnected``), Python values (``True``, quoted strings in a repr), file
  paths, x86 mnemonics.

`VERBATIM` lists those patterns, each with its reason; `PER_NOTEBOOK` adds the few that belong to one
notebook. Everything else is scanned for `ENGLISH_WORDS`, common English words that are not Polish
words (so "to", "on", "no", "do", "a", "port", "model" are not in the list), plus the possessive 's.

    >>> english_words("gość wstawił żądanie 1 (req_prod_pvt=1)")
    []
    >>> english_words("stop: few pages")
    ['stop', 'few', 'pages']
"""
from __future__ import annotations

import html
import re

# Common English words that never occur as Polish words; the course's own vocabulary included.
ENGLISH_WORDS = frozenset("""
the of and is are was were be been being not with from which that this these those what when where
who whose how why it its for at as an or but if then than so far after before still now only all
any each every more less few many much one two three has have had does did done can could will
would should must may into onto over under between without within there here their they them you
your our he she his her yet other own off out via per
page pages domain domains refused refuse pushed stop written write writes running run runs blocked paused
sent send event events ring rings request requests response responses entry entries frame frames
table tables call calls hypercall hypercalls guest backend frontend back front end time
virtual latency median share promised achieved demand switches misses computes processes period
given taken ask free longest first last length total used sectors sector disk image file
byte bytes order steps waiting payload unchanged round trip skipped dirtied rate iterations
iteration emulated bounced direct masked unmasked handled pending ports maps owns points shadow exits
old new batched buffer boot itself using started error failed truncated reading got
unavailable supported enabled use built kernel user code execute base gate interrupt flat
yet unknown rule lighter entitlement bound mechanism paper within bars extra miss score benchmark
unit build row rows packet packets shows show note process processes instead wake wakes ups
read only above below beyond size gives give says said because reason in about also both while until
since just very never always again already slot slots answer answers wake woken lost missed notify
""".split())

# Patterns printed verbatim as Xen, its tools or a guest print them, with the reason.
VERBATIM: list[tuple[str, str]] = [
    (r"^Name +ID +Mem\(MiB\) +VCPUs +State +Time\(s\)$", "xm list's header"),
    (r'^Using config file ".*"\.$', "xm create's first line"),
    (r"^Started domain \S+$", "xm create's last line"),
    (r"^Error creating domain '\S+': HVM guest support is unavailable: is VT/AMD-V supported by your CPU "
     r"and enabled in your BIOS\?", "xend's message for an HVM guest without VT-x/AMD-V"),
    (r"^Error: Restore failed", "xm restore's error prefix"),
    (r"^Linux version .*$", "the Linux guest's console"),
    (r"^Kernel command line:.*$", "the Linux guest's console"),
    (r"^xentop - .*$", "xentop's screen"),
    (r"^\d+ domains: \d+ running, \d+ blocked, \d+ paused, \d+ crashed, \d+ dying, \d+ shutdown", "xentop's summary line"),
    (r"^Mem: \d+k total, \d+k used, \d+k free +CPUs: .*$", "xentop's memory line"),
    (r"^ +NAME +STATE +CPU\(sec\).*$", "xentop's column header"),
    (r"\bno limit\b", "xentop's MAXMEM(k) of a domain without a limit"),
    (r"Bad type \(saw 0x[0-9a-f]+ != exp 0x[0-9a-f]+\) for mfn 0x[0-9a-f]+", "Xen's MEM_LOG (get_page_type)"),
    (r"Bad L1 flags 0x[0-9a-f]+", "Xen's MEM_LOG (get_page_from_l1e)"),
    (r"Error mfn 0x[0-9a-f]+: rd=\S+ od=\S+ caf=\S+ taf=\S+", "Xen's MEM_LOG (get_page)"),
    (r"Illegal L2 update attempt in Xen-private area", "Xen's MEM_LOG (mod_l2_entry)"),
    (r"Bad page free for domain \d+: mfn 0x[0-9a-f]+", "Xen's MEM_LOG (memory_op decrease_reservation)"),
    (r"Round-Robin Scheduler|Borrowed Virtual Time|Atropos Soft Real Time Scheduler|Simple EDF Scheduler"
     r"|SMP Credit Scheduler", "the schedulers' .name strings in Xen's source"),
    (r"^Scheduler: .*$", "Xen's scheduler dump (debug key 'r')"),
    (r"^ +cpu\d+: (svt=\d+ )?running .*$", "Xen's scheduler dump (debug key 'r')"),
    (r"^ +<(bvt|atropos) d\d+v\d+ .*$", "Xen's scheduler dump (debug key 'r')"),
    (r"^ +(RUNQ|WAITQ):.*$", "Xen's scheduler dump (debug key 'r')"),
    (r"^ +active domains:.*$", "Xen's scheduler dump (debug key 'r')"),
    (r"^Total pages sent= \d+ \([\d.]+x\)$", "xc_linux_save's summary line"),
    (r"\bARP who-has \S+ tell \S+", "tcpdump's words for an ARP request"),
    (r"\bARP reply \S+ is-at \S+", "tcpdump's words for an ARP reply"),
    (r"\bIP \S+ > \S+: ICMP echo (request|reply), id \d+, seq \d+, length \d+", "tcpdump's line for a ping"),
    (r"'(?:[^'\\\n]|\\.)*'", "a quoted string in a Python value's repr is data"),
    (r"\b\w+\([\w, ]*\)", "a C call with its parameters' names (set_gdt(frames, entries))"),
    (r"\((hold-off|grant reference|backend|frontend)\)", "the glossary's introduction of an English term"),
    (r"\bRound[- ]Robin\b", "a scheduler's name"),
    (r"\b(READ|WRITE)\b", "blkif's operations (BLKIF_OP_READ, BLKIF_OP_WRITE)"),
    (r'^ *[\w-]+ = ".*"  \([nrwb\d,]+\)$', "xenstore-ls -p: XenStore's keys, values and permissions"),
    (r"^(null call|null I/O|stat|open close|fork proc|exec proc|sig inst|sig hndl|\d+p/\d+K|\d+K create|\d+K delete"
     r"|mmap lat|prot fault|page fault|MTU\d+ [TR]X)\b", "lmbench's and ttcp's row names, as the paper's tables print them"),
    (r"\bLinux build time\b", "Figure 3's benchmark, named as the paper names it (like SPEC INT2000, dbench)"),
    (r"\bUser-Mode Linux\b", "a product's name"),
    (r"<[A-Z]\w+ [^>\n]*>", "a model object's repr (<Machine ...>, <Report ...>)"),
    (r"(?m)^XENLAB-LEARN .*$", "the tests' probe of predict/quiz cells"),
]

# Per notebook (file name): patterns that belong to that notebook only.
PER_NOTEBOOK: dict[str, list[tuple[str, str]]] = {
    "05_cpu_rings.ipynb": [(r"^(in|out)\b", "x86 mnemonics (the privileged instructions a PV kernel replaces)")],
    "06_events.ipynb": [(r"\b(front|back)\b", "the names of 06's two domains")],
    "ex02_crossings.ipynb": [(r"\b(syscall|exception|hypercall|none) (?=[0-3](->|$))",
                              "crossing_kind()'s return values, printed next to their ring path")],
}

# Polish notebooks whose output is not translated yet (file name -> why): the tests skip them. Empty this
# as they are done.
PENDING: dict[str, str] = {
}

_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*(?:['’]s)?")


def _blank(text: str, patterns) -> str:
    for pattern, _reason in patterns:
        text = re.sub(pattern, lambda m: " " * len(m.group()), text, flags=re.MULTILINE)
    return text


def english_words(text: str, notebook: str | None = None) -> list[str]:
    """The English words in `text` (a Polish notebook's output) that no allowed pattern covers."""
    text = _blank(text, PER_NOTEBOOK.get(notebook or "", []) + VERBATIM)
    found = []
    for chunk in text.replace("->", " ").replace("<-", " ").split():
        word = chunk.strip("()[]{},;:.!?\"|*«»„”–")
        if not _WORD.fullmatch(word):
            continue             # identifiers (mmu_update, d1v0, PV:hypercall), numbers, paths
        if word.endswith(("'s", "’s")):
            found.append(word)
            continue
        found += [part for part in word.split("-") if part.lower() in ENGLISH_WORDS]
    return found


_TAG = re.compile(r"<[^>]+>")


def output_texts(nb) -> list[tuple[int, str]]:
    """(cell index, text) of every text output of an executed notebook: streams, text/plain, text/html
    stripped of its tags, errors. Widgets are read by `widget_texts`."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                found.append((i, out.get("text", "")))
            elif kind in ("execute_result", "display_data"):
                data = out.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data:
                    continue
                if "text/html" in data:
                    found.append((i, html.unescape(_TAG.sub(" ", data["text/html"]))))
                elif "text/plain" in data:
                    found.append((i, data["text/plain"]))
            elif kind == "error":
                found.append((i, f"{out.get('ename')}: {out.get('evalue')}"))
    return found


# The fields of a widget's saved state that a student reads (ipywidgets and bqplot).
WIDGET_FIELDS = ("description", "value", "_options_labels", "placeholder", "tooltip", "label", "labels", "title")


def widget_texts(nb) -> list[str]:
    """The texts of the widgets an executed notebook saved in its metadata (HTML stripped of its tags)."""
    state = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    found = []
    for model in state.get("state", {}).values():
        fields = model.get("state", {})
        for key in WIDGET_FIELDS:
            value = fields.get(key)
            for text in (value if isinstance(value, list) else [value]):
                if isinstance(text, str):
                    found.append(html.unescape(_TAG.sub("\n", text)))
    return found


def notebook_english(nb, name: str) -> list[str]:
    """One line per line of text `nb` (an executed Polish notebook named `name`) shows with English in it:
    its cells' outputs, then its widgets' texts."""
    hits = []
    texts = [(f"cell {index + 1}", text) for index, text in output_texts(nb)]
    texts += [("widget", text) for text in widget_texts(nb)]
    for where, text in texts:
        for line in text.splitlines():
            words = english_words(line, name)
            if words:
                hits.append(f"{where}: {', '.join(words)} | {line.strip()[:140]}")
    return list(dict.fromkeys(hits))


__all__ = ["ENGLISH_WORDS", "VERBATIM", "PER_NOTEBOOK", "PENDING", "english_words", "output_texts", "widget_texts", "notebook_english"]
