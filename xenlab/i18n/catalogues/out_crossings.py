"""What the cells of the multicall and runstate material print in their own words (chapters 04a, 05 and
08: crossings into Xen, a multicall's entries, a vcpu's runstate table), in Polish and English.

Like ``pl_output.py``: each cell writes its line in English and prints it through
``xenlab.i18n.narration.say()``; `PHRASES` maps the English line (a regex, its numbers as named groups) to
its message. Hypercall names, ``rc=`` and the runstates' identifiers stay as Xen spells them.
"""

# (the English phrase a cell prints, as a regex; its catalogue key)
PHRASES: list[tuple[str, str]] = [
    # 04a: three ways to send eight updates
    (r"(?P<x>\d+) x mmu_update \((?P<n>\d+) requests?\)", "out.04a.way_mmu"),
    (r"(?P<x>\d+) x multicall \((?P<n>\d+) entries\)", "out.04a.way_multicall"),
    (r"(?P<h>\d+) hypercall\(s\), (?P<c>\d+) crossing\(s\)", "out.04a.crossings"),
    (r"results of the multicall's entries: (?P<results>\[.*\])", "out.04a.mc_results"),
    (r"mmu_update batch: (?P<rc>-?\d+)  pdone = (?P<n>\d+)", "out.04a.mmu_batch"),
    (r"multicall: (?P<rc>-?\d+)  results: (?P<results>\[.*\])", "out.04a.mc_rc"),
    (r"entry (?P<i>\d+) maps pfn (?P<pfn>0x[0-9a-f]+)", "out.04a.entry_maps"),
    # 05: a XenLinux context switch in the trace
    (r"crossing into Xen: (?P<op>\w+)", "out.05.crossing"),
    (r"(?P<pad> *)entry (?P<i>\d+): (?P<rest>\w+ +rc=-?\d+)", "out.05.mc_entry"),
    (r"(?P<h>\d+) hypercalls, (?P<c>\d+) crossings", "out.05.crossings"),
    # 08: where a vcpu's time went
    (r"ms +running +runnable +blocked +offline +sum", "out.08.runstate_head"),
    (r"(?P<pad> *)sum == m\.now: (?P<a>\w+),  running == virtual time: (?P<b>\w+)", "out.08.runstate_sums"),
    (r"one CPU, never idle: running times add up to m\.now: (?P<ok>\w+)", "out.08.never_idle"),
]

PL: dict[str, object] = {
    "out.04a.way_mmu": {"one": "{x} x mmu_update ({n} żądanie)", "few": "{x} x mmu_update ({n} żądania)",
                        "many": "{x} x mmu_update ({n} żądań)"},
    "out.04a.way_multicall": {"one": "{x} x multicall ({n} wpis)", "few": "{x} x multicall ({n} wpisy)",
                              "many": "{x} x multicall ({n} wpisów)"},
    "out.04a.crossings": "hiperwywołania: {h}, przejścia do Xena: {c}",
    "out.04a.mc_results": "wyniki wpisów wielowywołania: {results}",
    "out.04a.mmu_batch": "pakiet mmu_update: {rc}  pdone = {n}",
    "out.04a.mc_rc": "wielowywołanie (multicall): {rc}  wyniki: {results}",
    "out.04a.entry_maps": "wpis {i} odwzorowuje pfn {pfn}",
    "out.05.crossing": "przejście do Xena: {op}",
    "out.05.mc_entry": "{pad}wpis {i}: {rest}",
    "out.05.crossings": "hiperwywołania: {h}, przejścia do Xena: {c}",
    "out.08.runstate_head": (f"{'ms':9s}{'działa':>11}{'gotowy':>11}{'zablok.':>11}{'wyłącz.':>11}"
                             f"{'suma':>11}"),
    "out.08.runstate_sums": "{pad}suma == m.now: {a},  działa == czas wirtualny: {b}",
    "out.08.never_idle": "jeden procesor, nigdy bezczynny: czasy „działa” sumują się do m.now: {ok}",
}

EN: dict[str, object] = {
    "out.04a.way_mmu": {"one": "{x} x mmu_update ({n} request)", "many": "{x} x mmu_update ({n} requests)"},
    "out.04a.way_multicall": {"one": "{x} x multicall ({n} entries)", "many": "{x} x multicall ({n} entries)"},
    "out.04a.crossings": "{h} hypercall(s), {c} crossing(s)",
    "out.04a.mc_results": "results of the multicall's entries: {results}",
    "out.04a.mmu_batch": "mmu_update batch: {rc}  pdone = {n}",
    "out.04a.mc_rc": "multicall: {rc}  results: {results}",
    "out.04a.entry_maps": "entry {i} maps pfn {pfn}",
    "out.05.crossing": "crossing into Xen: {op}",
    "out.05.mc_entry": "{pad}entry {i}: {rest}",
    "out.05.crossings": "{h} hypercalls, {c} crossings",
    "out.08.runstate_head": (f"{'ms':9s}{'running':>11}{'runnable':>11}{'blocked':>11}{'offline':>11}"
                             f"{'sum':>11}"),
    "out.08.runstate_sums": "{pad}sum == m.now: {a},  running == virtual time: {b}",
    "out.08.never_idle": "one CPU, never idle: running times add up to m.now: {ok}",
}
