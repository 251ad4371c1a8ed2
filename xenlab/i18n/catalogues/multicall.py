"""Strings of the multicall and runstate material (chapters 04a, 05 and 08): the prediction of how many
crossings into Xen a XenLinux context switch takes, and two self-check questions."""

PL: dict[str, object] = {
    "learn.05.switch_crossings.q": (
        "XenLinux przełącza proces A na proces B. A używał FPU, B używa {nr_tls} z 3 wpisów TLS i "
        "wywołał iopl(3). Jądro musi więc: przeładować tablice stron, ustawić CR0.TS, zmienić stos "
        "jądra (esp0), wpisać deskryptory TLS do GDT i zmienić IOPL: razem {ops} operacji, na które "
        "gość PV potrzebuje Xena. Ile przejść do Xena zajmie to przełączenie?"),
    "learn.05.switch_crossings.why": (
        "{answer}: switch_mm wysyła osobne mmuext_op (nowa przestrzeń adresowa), a __switch_to wpisuje "
        "pozostałe hiperwywołania (wpisów: {multicall_entries}) do tablicy multicall_entry_t i wysyła je "
        "jednym wielowywołaniem. Xen wykonuje {hypercalls} hiperwywołań, ale procesor wchodzi do pierścienia 0 "
        "tylko {answer} razy."),
    "learn.05.switch_crossings.wrong.per_op": (
        "Tak byłoby, gdyby każda operacja była osobnym hiperwywołaniem. __switch_to zbiera je w jedno "
        "wielowywołanie (multicall): jedno przejście do Xena na wiele hiperwywołań."),
    "learn.05.switch_crossings.wrong.one": (
        "Wielowywołanie __switch_to to jedno przejście, ale tablice stron przeładowuje wcześniej "
        "switch_mm, osobnym mmuext_op (MMUEXT_NEW_BASEPTR), bo B to inny proces."),
    "learn.quiz.04a.multicall_fail.q": (
        "Wielowywołanie ma pięć wpisów update_va_mapping; trzeci próbuje odwzorować ramkę innej domeny. "
        "Ile wpisów Xen wykona z wynikiem 0?"),
    "learn.quiz.04a.multicall_fail.why": (
        "{answer}: Xen wykonuje każdy wpis i zapisuje jego wynik w polu result (xen/common/multicall.c); "
        "trzeci dostaje -EINVAL, pozostałe cztery się udają, a samo wielowywołanie zwraca 0."),
    "learn.quiz.04a.multicall_fail.wrong.stops": (
        "Tak kończy się pakiet mmu_update (zatrzymuje się na pierwszym złym żądaniu). Wielowywołanie "
        "wykonuje także wpisy po nieudanym."),
    "learn.quiz.04a.multicall_fail.wrong.all_or_nothing": (
        "Wielowywołanie nie jest transakcją: wpisy przed złym i po nim zostają wykonane."),
    "learn.quiz.04a.multicall_fail.wrong.no_check": (
        "Wpis wielowywołania Xen sprawdza tak samo jak wywołanie bezpośrednie: cudzej ramki nie odwzoruje."),
    "learn.quiz.08.runstate.q": (
        "Vcpu utworzony 2 s temu działał przez 500 ms, czekał na procesor 300 ms i był zablokowany "
        "1100 ms. Ile milisekund był w stanie offline?"),
    "learn.quiz.08.runstate.why": (
        "{answer} ms: Xen dolicza każdą nanosekundę do dokładnie jednego stanu, więc cztery liczniki "
        "sumują się do czasu od utworzenia vcpu: 2000 − 500 − 300 − 1100 = {answer}."),
    "learn.quiz.08.runstate.wrong.no_offline": (
        "Brakujący czas gdzieś jest: suma czterech stanów to zawsze czas od utworzenia vcpu; offline to "
        "np. czas wstrzymania domeny."),
    "learn.quiz.08.runstate.wrong.sum": (
        "To suma stanów albo cały czas; pytanie dotyczy czasu offline, czyli reszty."),
}

EN: dict[str, object] = {
    "learn.05.switch_crossings.q": (
        "XenLinux switches from process A to process B. A used the FPU, B uses {nr_tls} of the 3 TLS slots "
        "and called iopl(3). So the kernel must: reload the page tables, set CR0.TS, change "
        "the kernel stack (esp0), write the TLS descriptors into the GDT and change the IOPL: {ops} "
        "operations in all for which a PV guest needs Xen. How many crossings into Xen does this switch take?"),
    "learn.05.switch_crossings.why": (
        "{answer}: switch_mm sends its own mmuext_op (a new address space), and __switch_to puts the other "
        "{multicall_entries} hypercalls into a multicall_entry_t array and sends them in one multicall. "
        "Xen runs {hypercalls} hypercalls, but the CPU enters ring 0 only {answer} times."),
    "learn.05.switch_crossings.wrong.per_op": (
        "That would be so if each operation were a hypercall of its own. __switch_to gathers them into "
        "one multicall: one crossing into Xen for many hypercalls."),
    "learn.05.switch_crossings.wrong.one": (
        "The multicall of __switch_to is one crossing, but switch_mm reloads the page tables before it, "
        "with its own mmuext_op (MMUEXT_NEW_BASEPTR), because B is another process."),
    "learn.quiz.04a.multicall_fail.q": (
        "A multicall has five update_va_mapping entries; the third tries to map another domain's frame. "
        "How many entries does Xen run with result 0?"),
    "learn.quiz.04a.multicall_fail.why": (
        "{answer}: Xen runs every entry and writes its result into its result field "
        "(xen/common/multicall.c); the third gets -EINVAL, the other four succeed, and the multicall "
        "itself returns 0."),
    "learn.quiz.04a.multicall_fail.wrong.stops": (
        "That is how an mmu_update batch ends (it stops at the first bad request). A multicall also runs "
        "the entries after a failing one."),
    "learn.quiz.04a.multicall_fail.wrong.all_or_nothing": (
        "A multicall is not a transaction: the entries before and after the bad one are done."),
    "learn.quiz.04a.multicall_fail.wrong.no_check": (
        "Xen checks a multicall entry exactly as a direct call: it will not map another domain's frame."),
    "learn.quiz.08.runstate.q": (
        "A vcpu created 2 s ago ran for 500 ms, waited for a CPU for 300 ms and was blocked for 1100 ms. "
        "How many milliseconds was it offline?"),
    "learn.quiz.08.runstate.why": (
        "{answer} ms: Xen adds every nanosecond to exactly one state, so the four counters add up to the "
        "time since the vcpu was created: 2000 − 500 − 300 − 1100 = {answer}."),
    "learn.quiz.08.runstate.wrong.no_offline": (
        "The missing time is somewhere: the four states always add up to the time since the vcpu was "
        "created; offline is, for instance, the time its domain was paused."),
    "learn.quiz.08.runstate.wrong.sum": (
        "That is the sum of the states or the whole time; the question is about the offline time, the rest."),
}
