"""Strings of the multicall and runstate material (chapters 04a, 05 and 08): the prediction of how many
crossings into Xen a XenLinux context switch takes."""

PL: dict[str, object] = {
    "learn.05.switch_crossings.q": (
        "XenLinux przełącza proces A na proces B. A używał FPU, B używa {nr_tls} z 3 wpisów TLS i "
        "wywołał iopl(3). Jądro musi więc: przeładować tablice stron, ustawić CR0.TS, zmienić stos "
        "jądra (esp0), wpisać deskryptory TLS do GDT i zmienić IOPL: razem {ops} operacji, na które "
        "gość PV potrzebuje Xena. Ile przejść do Xena zajmie to przełączenie?"),
    "learn.05.switch_crossings.why": (
        "{answer}: switch_mm wysyła osobne mmuext_op (nowa przestrzeń adresowa), a __switch_to wpisuje "
        "pozostałe {multicall_entries} hiperwywołania do tablicy multicall_entry_t i wysyła je jednym "
        "wielowywołaniem. Xen wykonuje {hypercalls} hiperwywołań, ale procesor wchodzi do pierścienia 0 "
        "tylko {answer} razy."),
    "learn.05.switch_crossings.wrong.per_op": (
        "Tak byłoby, gdyby każda operacja była osobnym hiperwywołaniem. __switch_to zbiera je w jedno "
        "wielowywołanie (multicall): jedno przejście do Xena na wiele hiperwywołań."),
    "learn.05.switch_crossings.wrong.one": (
        "Wielowywołanie __switch_to to jedno przejście, ale tablice stron przeładowuje wcześniej "
        "switch_mm, osobnym mmuext_op (MMUEXT_NEW_BASEPTR), bo B to inny proces."),
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
}
