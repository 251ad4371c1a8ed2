"""Strings of the predict-then-reveal cells and self-check quizzes (xenlab/learn.py, xenlab/viz/learn.py)
and the questions of chapters 00-07 (``learn.<qid>.q`` / ``.why`` / ``.wrong.<tag>`` / ``.choice.<c>``)."""

PL: dict[str, object] = {
    # the machinery
    "learn.right": "Dobrze: {answer}.",
    "learn.wrong": "Nie tym razem. Twoja odpowiedź: {given}; prawidłowa: {answer}.",
    "learn.why": "Dlaczego: {why}",
    "learn.invalid_number": "„{given}” nie jest liczbą; wpisz liczbę (np. 12, 0x1f albo 3,5).",
    "learn.invalid_choice": "„{given}” nie jest żadną z odpowiedzi do wyboru.",
    "learn.quiz.unanswered": "Bez odpowiedzi. Odpowiedź: {answer}. Dlaczego: {why}",
    "learn.quiz.title": "Sprawdź się: rozdział {chapter}",
    "learn.quiz.score": "Dobrych odpowiedzi: {right} z {n}.",
    "learn.ui.predict": "Przewidź:",
    "learn.ui.check": "Sprawdź",
    "learn.ui.choose": "– wybierz –",
    "learn.ui.number": "liczba",
    "learn.ui.empty": "Najpierw wpisz albo wybierz odpowiedź.",
    "learn.ui.error": "Błąd w widżecie: {error}",
}

EN: dict[str, object] = {
    "learn.right": "Right: {answer}.",
    "learn.wrong": "Not this time. You said: {given}; the right answer: {answer}.",
    "learn.why": "Why: {why}",
    "learn.invalid_number": "\u201c{given}\u201d is not a number; type a number (e.g. 12, 0x1f or 3.5).",
    "learn.invalid_choice": "\u201c{given}\u201d is none of the choices.",
    "learn.quiz.unanswered": "Not answered. The answer: {answer}. Why: {why}",
    "learn.quiz.title": "Self-check: chapter {chapter}",
    "learn.quiz.score": "Right answers: {right} of {n}.",
    "learn.ui.predict": "Predict:",
    "learn.ui.check": "Check",
    "learn.ui.choose": "\u2013 choose \u2013",
    "learn.ui.number": "number",
    "learn.ui.empty": "Type or choose an answer first.",
    "learn.ui.error": "Error in the widget: {error}",
}


# The questions of chapters 00-07, each text as (key, Polish, English): the two languages side by side.
QUESTIONS: list[tuple[str, str, str]] = []


def _add(prefix: str, *items: tuple) -> None:
    for key, pl, en in items:
        QUESTIONS.append((f"learn.{prefix}.{key}", pl, en))


# -- chapter 01 ------------------------------------------------------------------------------------
_add("01.dom0_place",
     ("q", "Gdzie w tym obrazie jest dom0?", "Where is dom0 in this picture?"),
     ("choice.above_xen", "nad Xenem, obok gości (jak każda domena)", "above Xen, beside the guests (like every domain)"),
     ("choice.under_xen", "pod Xenem: Xen działa w nim jak program", "under Xen: Xen runs inside it as a program"),
     ("choice.inside_xen", "w Xenie: to część hiperwizora", "inside Xen: it is part of the hypervisor"),
     ("why", "dom0 to domena jak inne: Xen uruchamia ją pierwszą i pozwala jej na operacje zarządzania "
             "(dom0_op), ale działa nad Xenem, na tym samym poziomie uprzywilejowania co goście.",
             "dom0 is a domain like the others: Xen starts it first and lets it make management operations "
             "(dom0_op), but it runs above Xen, at the same privilege level as the guests."),
     ("wrong.host_os", "To obraz hiperwizora typu 2 (np. VMware Workstation, w którym system gospodarza "
                       "jest pod monitorem). Xen działa bezpośrednio na sprzęcie, a dom0 jest nad nim.",
                       "That is the picture of a type-2 hypervisor (e.g. VMware Workstation, with the host "
                       "system under the monitor). Xen runs directly on the hardware and dom0 is above it."),
     ("wrong.part_of_xen", "dom0 to osobny system operacyjny (np. Linux) w osobnej domenie, nie kod Xena; "
                           "Xen może mu odmówić jak każdej domenie.",
                           "dom0 is a separate operating system (e.g. Linux) in a domain of its own, not Xen's "
                           "code; Xen can refuse it like any domain."))
_add("01.count",
     ("q", "Na świeżej maszynie tworzymy {k} gości poleceniem xm create. Ile wierszy z domenami wypisze "
           "xm list (bez nagłówka)?",
           "On a fresh machine we create {k} guests with xm create. How many domain rows will xm list "
           "print (without the header)?"),
     ("why", "xm list pokazuje wszystkie domeny, także dom0 (Domain-0, ID 0): {k} gości + dom0 = {answer}.",
             "xm list shows every domain, dom0 too (Domain-0, ID 0): {k} guests + dom0 = {answer}."),
     ("wrong.no_dom0", "Pominięto dom0. On też jest domeną i zawsze jest pierwszym wierszem listy.",
                       "You left out dom0. It is a domain too, always the first row of the list."))
_add("01.free",
     ("q", "Maszyna ma 256 MiB, dom0 64 MiB, wolne 189 MiB. Tworzymy gościa z memory={mem}. Ile MiB pokaże "
           "free_memory w xm info?",
           "The machine has 256 MiB, dom0 64 MiB, 189 MiB are free. We create a guest with memory={mem}. "
           "How many MiB will free_memory in xm info show?"),
     ("why", "Xen przydziela gościowi wszystkie {mem} MiB od razu przy tworzeniu, z wolnej puli: "
             "189 - {mem} = {answer}. Część pamięci, której nie ma ani dom0, ani pula, należy do samego Xena.",
             "Xen gives the guest all {mem} MiB at once, at creation, from the free pool: 189 - {mem} = {answer}. "
             "The memory that is neither dom0's nor in the pool belongs to Xen itself."),
     ("wrong.xen_free", "Policzono tak, jakby Xen nie zajmował pamięci (256 - 64 - {mem}). Xen ma swoje ramki "
                        "(kod, sterta, tablice), więc wolnej pamięci było na starcie 189 MiB, nie 192.",
                        "You counted as if Xen took no memory (256 - 64 - {mem}). Xen has frames of its own "
                        "(code, heap, tables), so 189 MiB were free at the start, not 192."),
     ("wrong.lazy", "Pamięć nie jest przydzielana dopiero wtedy, gdy gość jej użyje: domena PV dostaje "
                    "wszystkie ramki przy tworzeniu (jej P2M jest pełna od startu).",
                    "Memory is not handed out only when the guest uses it: a PV domain gets all its frames "
                    "at creation (its P2M is full from the start)."),
     ("wrong.only_guest", "Odjęto tylko gościa od całej pamięci; dom0 i sam Xen też zajmują pamięć.",
                          "You subtracted only the guest from the total; dom0 and Xen itself take memory too."))
_add("quiz.01.dom0",
     ("q", "dom0 to:", "dom0 is:"),
     ("choice.privileged", "uprzywilejowana domena nad Xenem, z narzędziami do zarządzania",
                           "a privileged domain above Xen, with the management tools"),
     ("choice.host", "system gospodarza, w którym Xen działa jak program",
                     "the host system, in which Xen runs as a program"),
     ("choice.xen", "część hiperwizora", "part of the hypervisor"),
     ("why", "dom0 to zwykła domena (ID 0), której Xen pozwala na dom0_op; działa nad Xenem, obok gości.",
             "dom0 is an ordinary domain (ID 0) that Xen allows to use dom0_op; it runs above Xen, beside the guests."),
     ("wrong.host", "Xen działa bezpośrednio na sprzęcie (hiperwizor typu 1), a nie w dom0.",
                    "Xen runs directly on the hardware (a type-1 hypervisor), not inside dom0."))
_add("quiz.01.state",
     ("q", "Co znaczy stan -b---- w xm list?", "What does the state -b---- in xm list mean?"),
     ("choice.running", "domena działa na procesorze", "the domain is running on a CPU"),
     ("choice.blocked", "domena czeka na zdarzenie", "the domain waits for an event"),
     ("choice.paused", "domena jest wstrzymana przez administratora", "the domain was paused by the administrator"),
     ("why", "Druga pozycja to b (blocked): domena nie ma pracy i czeka na zdarzenie; wstrzymanie to p na trzeciej.",
             "The second position is b (blocked): the domain has no work and waits for an event; paused is p, third."),
     ("wrong.paused", "Wstrzymanie (xm pause) pokazuje p na trzeciej pozycji, np. -bp---.",
                      "Pausing (xm pause) shows p in the third position, e.g. -bp---."))
_add("quiz.01.windows",
     ("q", "Czy niezmodyfikowany Windows może być gościem Xena 3.0 na procesorze bez VT i AMD-V?",
           "Can an unmodified Windows be a guest of Xen 3.0 on a CPU without VT and AMD-V?"),
     ("choice.yes", "tak", "yes"), ("choice.no", "nie", "no"),
     ("why", "Bez modyfikacji systemu potrzebne jest wsparcie sprzętu (domena HVM); model odmawia builder=hvm "
             "na maszynie bez VT/AMD-V.",
             "Without a modified system the hardware must help (an HVM domain); the model refuses builder=hvm on "
             "a machine without VT/AMD-V."),
     ("wrong.yes", "Parawirtualizacja wymaga zmian w jądrze gościa; Windowsa nie można było tak zmienić.",
                   "Paravirtualisation needs changes to the guest kernel; Windows could not be changed that way."))
_add("quiz.01.paravirt",
     ("q", "Co zastępuje w jądrze parawirtualizowanym instrukcje uprzywilejowane?",
           "What replaces the privileged instructions in a paravirtualised kernel?"),
     ("choice.hypercalls", "hiperwywołania do Xena", "hypercalls to Xen"),
     ("choice.syscalls", "wywołania systemowe", "system calls"),
     ("choice.nothing", "nic: Xen przechwytuje je sprzętowo", "nothing: Xen catches them in hardware"),
     ("why", "Jądro PV prosi Xena o uprzywilejowane operacje hiperwywołaniami; przechwytywanie sprzętowe to HVM.",
             "A PV kernel asks Xen for privileged operations with hypercalls; catching them in hardware is HVM."),
     ("wrong.syscalls", "Wywołania systemowe to droga aplikacji do jądra gościa; nie zastępują instrukcji jądra.",
                        "System calls are the applications' way into the guest kernel; they do not replace the kernel's instructions."),
     ("wrong.nothing", "Tak działa gość HVM na procesorze z VT/AMD-V, nie gość parawirtualizowany.",
                       "That is how an HVM guest works on a CPU with VT/AMD-V, not a paravirtualised one."))
_add("quiz.01.xen_size",
     ("q", "Ile MiB zajmuje prawdziwy Xen 3.0 (x86_32) na maszynie z 256 MiB (sterta, M2P, tablica ramek)?",
           "How many MiB does a real Xen 3.0 (x86_32) take on a 256 MiB machine (heap, M2P, frame table)?"),
     ("why", "12 MiB kodu i sterty + 4 MiB M2P + 1,5 MiB tablicy ramek = 17,5 MiB (źródła RELEASE-3.0.0).",
             "12 MiB of code and heap + 4 MiB of M2P + 1.5 MiB of frame table = 17.5 MiB (RELEASE-3.0.0 sources)."),
     ("wrong.model", "To liczba modelu, który upraszcza; prawdziwy Xen rezerwuje samą stertę 12 MiB.",
                     "That is the simplifying model's figure; a real Xen reserves 12 MiB for its heap alone."))


# -- chapter 02 ------------------------------------------------------------------------------------
_add("02.domu_rc",
     ("q", "Co zwróci hiperwywołanie dom0_op wykonane przez gościa db (liczba)?",
           "What will the hypercall dom0_op return when the guest db makes it (a number)?"),
     ("why", "Xen najpierw sprawdza IS_PRIV(current->domain); db nie jest uprzywilejowana, więc dostaje "
             "-EPERM = {answer}, zanim Xen zajrzy do argumentów, i nic się nie zmienia.",
             "Xen first checks IS_PRIV(current->domain); db is not privileged, so it gets -EPERM = {answer} "
             "before Xen looks at the arguments, and nothing changes."),
     ("wrong.guest_may", "0 to sukces. Zarządzać domenami wolno tylko dom0; inaczej każdy gość mógłby "
                         "wstrzymać albo zniszczyć sąsiada.",
                         "0 is success. Only dom0 may manage domains; otherwise any guest could pause or "
                         "destroy its neighbour."),
     ("wrong.args_first", "-EINVAL (-22) to błędne argumenty, ale Xen nie dochodzi do argumentów: najpierw "
                          "sprawdza, kto woła.",
                          "-EINVAL (-22) means bad arguments, but Xen never gets to the arguments: it checks "
                          "first who is calling."),
     ("wrong.enosys", "-ENOSYS znaczy „nie ma takiego hiperwywołania”; dom0_op istnieje, tylko nie dla gościa.",
                      "-ENOSYS means \u201cno such hypercall\u201d; dom0_op exists, just not for a guest."))
_add("02.syscall",
     ("q", "Aplikacja w gościu PV wykonuje wywołanie systemowe (int $0x80). Czy przechodzi ono przez Xena?",
           "An application in a PV guest makes a system call (int $0x80). Does it pass through Xen?"),
     ("choice.direct", "nie: pierścień 3 → 1, prosto do jądra gościa", "no: ring 3 → 1, straight to the guest kernel"),
     ("choice.via_xen", "tak: 3 → 0 (Xen) → 1", "yes: 3 → 0 (Xen) → 1"),
     ("choice.hypercall", "staje się hiperwywołaniem do Xena", "it becomes a hypercall to Xen"),
     ("why", "Jądro zarejestrowało wektor 0x80 z DPL 3 i bez flagi IF, więc Xen 3.0 wstawił do prawdziwej "
             "IDT bezpośrednią bramkę: procesor przechodzi z pierścienia 3 do 1 bez Xena. Hiperwywołania "
             "zastępują operacje uprzywilejowane jądra, nie wywołania systemowe.",
             "The kernel registered vector 0x80 with DPL 3 and without the IF flag, so Xen 3.0 put a direct "
             "gate into the real IDT: the CPU goes from ring 3 to ring 1 without Xen. Hypercalls replace the "
             "kernel's privileged operations, not system calls."),
     ("wrong.all_through_xen", "Tak idą wyjątki, np. błąd strony (3 → 0 → 1), bo tylko pierścień 0 może "
                               "odczytać CR2. Wywołanie systemowe ma szybką, bezpośrednią bramkę.",
                               "That is the path of exceptions, e.g. a page fault (3 → 0 → 1), since only ring 0 "
                               "can read CR2. A system call has a fast, direct gate."),
     ("wrong.syscall_is_hypercall", "Aplikacja nie wie o Xenie i nie zmienia się; hiperwywołania wykonuje "
                                    "jądro gościa, gdy potrzebuje operacji uprzywilejowanej.",
                                    "The application knows nothing of Xen and is unchanged; the guest kernel "
                                    "makes hypercalls when it needs a privileged operation."))
_add("02.guest_ring",
     ("q", "W którym pierścieniu ochrony działa jądro gościa web, gdy ma procesor?",
           "In which protection ring does the kernel of the guest web run when it has the CPU?"),
     ("why", "Pierścień 0 należy do Xena; jądra gości PV (także dom0) zmodyfikowano, by działały w pierścieniu "
             "{answer}, a aplikacje zostają w 3.",
             "Ring 0 belongs to Xen; PV guest kernels (dom0's too) were modified to run in ring {answer}, and "
             "applications stay in 3."),
     ("wrong.ring0", "Gdyby jądro gościa działało w pierścieniu 0, mogłoby ominąć Xena (np. przeładować CR3 "
                     "albo IDT).",
                     "If a guest kernel ran in ring 0 it could go around Xen (e.g. reload CR3 or the IDT)."),
     ("wrong.ring3", "W pierścieniu 3 działają aplikacje; jądro musi być od nich bardziej uprzywilejowane, by "
                     "je chronić.",
                     "Ring 3 is the applications'; the kernel must be more privileged than they are to "
                     "protect itself from them."))
_add("quiz.02.dom0_level",
     ("q", "Na jakim poziomie uprzywilejowania działa jądro dom0?", "At which privilege level does dom0's kernel run?"),
     ("choice.guest_level", "na tym samym co jądra gości (pierścień 1)", "the same as the guest kernels (ring 1)"),
     ("choice.ring0", "w pierścieniu 0, razem z Xenem", "in ring 0, together with Xen"),
     ("choice.below", "pod Xenem, bezpośrednio na sprzęcie", "under Xen, directly on the hardware"),
     ("why", "dom0 to domena jak inne; różni ją tylko to, że Xen pozwala jej na dom0_op.",
             "dom0 is a domain like the others; only Xen allowing it dom0_op sets it apart."),
     ("wrong.ring0", "Pierścień 0 ma tylko Xen; uprzywilejowanie dom0 to zgoda Xena na pewne hiperwywołania.",
                     "Only Xen has ring 0; dom0's privilege is Xen's consent to certain hypercalls."),
     ("wrong.below", "Pod Xenem jest tylko sprzęt; dom0 startuje jako pierwsza domena nad Xenem.",
                     "Only the hardware is under Xen; dom0 starts as the first domain above Xen."))
_add("quiz.02.eperm",
     ("q", "Jaki kod zwraca Xen, gdy gość wykona dom0_op (liczba)?", "What code does Xen return when a guest makes dom0_op (a number)?"),
     ("why", "-EPERM = -1: operacja niedozwolona dla nieuprzywilejowanej domeny.",
             "-EPERM = -1: the operation is not permitted to an unprivileged domain."),
     ("wrong.allowed", "0 oznaczałoby sukces: gość zarządzałby innymi domenami.", "0 would mean success: a guest would manage other domains."),
     ("wrong.einval", "-22 to -EINVAL, błędny argument; Xen odmawia wcześniej, ze względu na uprawnienia.",
                      "-22 is -EINVAL, a bad argument; Xen refuses earlier, for lack of privilege."),
     ("wrong.sign", "Hiperwywołania zwracają kody błędów ze znakiem minus.", "Hypercalls return error codes negated."))
_add("quiz.02.replace",
     ("q", "Co zastępują hiperwywołania?", "What do hypercalls replace?"),
     ("choice.privileged", "operacje uprzywilejowane jądra gościa", "the guest kernel's privileged operations"),
     ("choice.syscalls", "wywołania systemowe aplikacji", "the applications' system calls"),
     ("choice.interrupts", "przerwania sprzętowe", "hardware interrupts"),
     ("why", "Jądro gościa prosi Xena o to, czego w pierścieniu 1 nie może zrobić samo; wywołania systemowe "
             "idą do jądra gościa bez Xena, a zamiast przerwań są zdarzenia.",
             "The guest kernel asks Xen for what it cannot do itself in ring 1; system calls reach the guest "
             "kernel without Xen, and events replace interrupts."),
     ("wrong.syscalls", "Wywołanie systemowe idzie z pierścienia 3 do 1 bez Xena (bezpośrednia bramka int $0x80).",
                        "A system call goes from ring 3 to ring 1 without Xen (the direct int $0x80 gate)."),
     ("wrong.interrupts", "Przerwania sprzętowe zastąpiono zdarzeniami (rozdział 6), nie hiperwywołaniami.",
                          "Events (chapter 6), not hypercalls, replace hardware interrupts."))
_add("quiz.02.idle",
     ("q", "W którym pierścieniu jest procesor, gdy żadna domena nie ma pracy?",
           "In which ring is the CPU when no domain has work?"),
     ("why", "Procesor wykonuje wtedy pętlę bezczynności Xena, w pierścieniu 0.",
             "The CPU then runs Xen's idle loop, in ring 0."),
     ("wrong.dom0_idle", "Bezczynność to nie praca dom0: Xen ma własną domenę bezczynności (idle) i sam "
                         "usypia procesor.",
                         "Idling is not dom0's work: Xen has its own idle domain and halts the CPU itself."))


# -- the model's phrases said through xenlab.i18n.narration ---------------------------------------
QUESTIONS += [
    ("narration.seg.not_present", "nieobecny: zawsze powoduje wyjątek, więc jest nieszkodliwy",
     "not present: always faults, so harmless"),
    ("narration.seg.dpl0", "DPL 0 odrzucony: pierścień 0 należy do Xena", "DPL 0 refused: ring 0 belongs to Xen"),
    ("narration.seg.system", "odrzucony deskryptor systemowy inny niż bramka wywołania",
     "system descriptor other than a call gate refused"),
    ("narration.seg.gate_sel", "bramka wywołania do selektora {sel}: to nie kod gościa",
     "call gate to selector {sel}: not guest code"),
    ("narration.seg.gate_reserved", "bramka wywołania z ustawionymi bitami zarezerwowanymi",
     "call gate reserved bits set"),
    ("narration.seg.gate_ok", "bramka wywołania do kodu gościa", "call gate to guest code"),
    ("narration.seg.base", "baza {base} w odległości mniejszej niż strona od obszaru Xena ({top})",
     "base {base} within a page of Xen's area ({top})"),
    ("narration.seg.expand_down", "segment rosnący w dół zawinąłby się do obszaru Xena",
     "expand-down segment would wrap into Xen's area"),
    ("narration.seg.truncated", "granica przycięta do {top}", "limit truncated to end at {top}"),
    ("narration.seg.byte_limit", "odrzucony segment z granicą w bajtach sięgający obszaru Xena",
     "byte-granular segment reaching Xen's area refused"),
    ("narration.seg.ok", "segment kończy się poniżej obszaru Xena", "segment stays below Xen's area"),
    ("narration.trap.direct", "bezpośrednio", "direct"),
    ("narration.trap.bounced", "odbite do gościa", "bounced"),
    ("narration.trap.emulated", "emulowane przez Xena", "emulated"),
    ("narration.trap.gp", "#GP u gościa", "#GP in the guest"),
    ("narration.trap.crash", "awaria domeny", "domain crash"),
]


# -- chapter 03 ------------------------------------------------------------------------------------
_add("03.selector",
     ("q", "Który wpis GDT wskazuje selektor {sel}?", "Which GDT entry does the selector {sel} name?"),
     ("why", "Selektor to numer wpisu przesunięty o 3 bity: bity 0-1 to RPL, bit 2 to TI (0: GDT). "
             "{sel} >> 3 = {answer}.",
             "A selector is the entry number shifted by 3 bits: bits 0-1 are the RPL, bit 2 is TI (0: GDT). "
             "{sel} >> 3 = {answer}."),
     ("wrong.whole", "Selektor to nie sam numer wpisu: jego 3 najniższe bity to RPL i TI.",
                     "A selector is not the bare entry number: its 3 lowest bits are the RPL and TI."),
     ("wrong.two_bits", "Pominięto bit TI: oprócz RPL (2 bity) jest jeszcze TI, więc przesuwamy o 3.",
                        "You left out the TI bit: besides the RPL (2 bits) there is TI, so shift by 3."))
_add("03.flat",
     ("q", "Jądro przekazuje w set_gdt płaski segment kodu pierścienia 1: baza 0, granica 4 GiB. Co zrobi Xen?",
           "The kernel passes a flat ring-1 code segment in set_gdt: base 0, limit 4 GiB. What will Xen do?"),
     ("choice.accepted", "przyjmie go bez zmian", "accept it unchanged"),
     ("choice.truncated", "przyjmie, ale przytnie granicę", "accept it, but truncate its limit"),
     ("choice.refused", "odrzuci go (-EINVAL)", "refuse it (-EINVAL)"),
     ("why", "Segment o ziarnistości stron sięgający obszaru Xena Xen przycina tak, by kończył się na "
             "GUEST_SEGMENT_MAX_ADDR (koniec okna M2P, 0xFC400000). Jądra zakładają płaskie segmenty, więc "
             "odrzucenie zepsułoby każdego gościa.",
             "Xen truncates a page-granular segment that reaches its area so that it ends at "
             "GUEST_SEGMENT_MAX_ADDR (the end of the M2P window, 0xFC400000). Kernels assume flat segments, "
             "so refusing them would break every guest."),
     ("wrong.no_check", "Bez zmian segment obejmowałby obszar Xena i gość mógłby go czytać i pisać.",
                        "Unchanged, the segment would cover Xen's area and the guest could read and write it."),
     ("wrong.refuse_flat", "Odrzucane są segmenty z DPL 0 albo z bazą w obszarze Xena; płaski segment pierścienia "
                           "1 lub 3 wystarczy skrócić.",
                           "Segments with DPL 0 or a base in Xen's area are refused; a flat ring-1 or ring-3 "
                           "segment only needs shortening."))
_add("03.fault",
     ("q", "Jądro gościa (CPL 1, DS = płaski segment danych) czyta adres 0xFC800000 w obszarze Xena. Co je zatrzyma?",
           "The guest kernel (CPL 1, DS = the flat data segment) reads the address 0xFC800000 in Xen's area. What stops it?"),
     ("choice.gp", "#GP: kontrola granicy segmentu", "#GP: the segment limit check"),
     ("choice.pf", "#PF: brak odwzorowania w tablicy stron", "#PF: no mapping in the page table"),
     ("choice.nothing", "nic: pierścień 1 może czytać wszystko", "nothing: ring 1 may read anything"),
     ("why", "Adres liniowy liczy się przed stronicowaniem: przesunięcie jest za granicą segmentu "
             "(0xFC3FFFFF), więc procesor zgłasza #GP(0) i do tablic stron w ogóle nie dochodzi.",
             "The linear address is computed before paging: the offset is beyond the segment limit "
             "(0xFC3FFFFF), so the CPU raises #GP(0) and never reaches the page tables."),
     ("wrong.paging_first", "Segmentacja działa przed stronicowaniem; stronicowanie chroni Xena dopiero, gdy "
                            "segment by go obejmował (np. w trybie 64-bitowym).",
                            "Segmentation comes before paging; paging protects Xen only where a segment would "
                            "cover it (e.g. in 64-bit mode)."),
     ("wrong.ring1_all", "Pierścień 1 nie jest pierścieniem 0: segmenty gościa są przycięte, a obszar Xena "
                         "nie jest dla niego dostępny.",
                         "Ring 1 is not ring 0: the guest's segments are truncated and Xen's area is out of "
                         "its reach."))
_add("quiz.03.top",
     ("q", "Ile MiB na górze każdej przestrzeni adresowej zajmuje Xen 3.0 x86_32 bez PAE?",
           "How many MiB at the top of every address space does Xen 3.0 x86_32 take without PAE?"),
     ("why", "Od HYPERVISOR_VIRT_START = 0xFC000000 do końca 4 GiB: 64 MiB (z PAE 168 MiB).",
             "From HYPERVISOR_VIRT_START = 0xFC000000 to the end of 4 GiB: 64 MiB (168 MiB with PAE)."),
     ("wrong.pae", "168 MiB to obszar Xena z PAE; pytanie dotyczy trybu bez PAE.",
                   "168 MiB is Xen's area with PAE; the question is about non-PAE."),
     ("wrong.m2p_only", "4 MiB to tylko okno M2P na dole obszaru Xena.", "4 MiB is only the M2P window at the bottom of Xen's area."),
     ("wrong.kernel", "1 GiB od PAGE_OFFSET to jądro gościa, nie Xen.", "The 1 GiB from PAGE_OFFSET is the guest kernel's, not Xen's."))
_add("quiz.03.dpl0",
     ("q", "Gość instaluje (update_descriptor) deskryptor segmentu kodu z DPL 0. Co zrobi Xen?",
           "A guest installs (update_descriptor) a code segment descriptor with DPL 0. What will Xen do?"),
     ("choice.refused", "odrzuci go (-EINVAL)", "refuse it (-EINVAL)"),
     ("choice.truncated", "przytnie granicę", "truncate its limit"),
     ("choice.accepted", "przyjmie go", "accept it"),
     ("why", "DPL 0 dałby gościowi pierścień 0, który należy do Xena: check_descriptor odrzuca go i nic nie zmienia.",
             "DPL 0 would give the guest ring 0, which belongs to Xen: check_descriptor refuses it and changes nothing."),
     ("wrong.truncated", "Przycinanie dotyczy granicy; problemem jest tu poziom uprzywilejowania, którego nie da się „przyciąć”.",
                         "Truncation is about the limit; the problem here is the privilege level, which cannot be \u201ctruncated\u201d."),
     ("wrong.accepted", "Wtedy gość mógłby wejść do pierścienia 0 i ominąć Xena.", "The guest could then enter ring 0 and bypass Xen."))
_add("quiz.03.gdt_rw",
     ("q", "Czy Xen przyjmie set_gdt dla strony, którą gość ma odwzorowaną do zapisu?",
           "Will Xen accept set_gdt for a page the guest has mapped writable?"),
     ("choice.yes", "tak", "yes"), ("choice.no", "nie", "no"),
     ("why", "Strona GDT dostaje typ PGT_gdt_page, który wyklucza typ writable: Xen zwraca -EINVAL "
             "(„Bad type”), bo gość mógłby zmienić deskryptor po sprawdzeniu.",
             "A GDT page gets the PGT_gdt_page type, which excludes the writable type: Xen returns "
             "-EINVAL (\u201cBad type\u201d), since the guest could change a descriptor after the check."),
     ("wrong.writable", "Zapis bezpośredni ominąłby check_descriptor; dlatego strona musi być tylko do odczytu.",
                        "A direct write would bypass check_descriptor; that is why the page must be read-only."))
_add("quiz.03.byte_limit",
     ("q", "Segment z granicą w bajtach (G=0) sięga obszaru Xena. Co zrobi Xen?",
           "A segment with a byte limit (G=0) reaches Xen's area. What will Xen do?"),
     ("choice.refused", "odrzuci go", "refuse it"), ("choice.truncated", "przytnie granicę", "truncate its limit"),
     ("why", "Xen przycina tylko segmenty o ziarnistości stron (G=1); segment bajtowy sięgający jego obszaru odrzuca.",
             "Xen truncates only page-granular segments (G=1); a byte-granular one reaching its area is refused."),
     ("wrong.byte_truncated", "Tak jest dla G=1; dla G=0 Xen (x86_32, check_descriptor) zwraca -EINVAL.",
                              "That holds for G=1; for G=0 Xen (x86_32 check_descriptor) returns -EINVAL."))
_add("quiz.03.pae_top",
     ("q", "Gdzie zaczyna się obszar Xena z PAE?", "Where does Xen's area start with PAE?"),
     ("why", "Z PAE HYPERVISOR_VIRT_START = 0xF5800000 (168 MiB), bo M2P i tablica ramek są większe.",
             "With PAE HYPERVISOR_VIRT_START = 0xF5800000 (168 MiB), since the M2P and the frame table are larger."),
     ("wrong.non_pae", "0xFC000000 to początek obszaru Xena bez PAE.", "0xFC000000 is where Xen's area starts without PAE."),
     ("wrong.page_offset", "0xC0000000 to PAGE_OFFSET, początek jądra gościa.", "0xC0000000 is PAGE_OFFSET, where the guest kernel starts."))


# -- chapter 04a -----------------------------------------------------------------------------------
_add("04a.machine_addr",
     ("q", "Jaki numer ramki stoi we wpisie L1 odwzorowującym stronę jądra pfn 0x105?",
           "Which frame number is in the L1 entry that maps the kernel page pfn 0x105?"),
     ("choice.mfn", "maszynowy numer ramki (mfn)", "the machine frame number (mfn)"),
     ("choice.pfn", "numer strony gościa 0x105 (pfn)", "the guest's page number 0x105 (pfn)"),
     ("why", "Gość PV pisze do tablic numery ramek maszynowych, bo tych tablic używa bezpośrednio procesor; "
             "numer tłumaczy sam, przez swoją P2M (pfn → mfn). Xen sprawdza, czy ramka należy do gościa.",
             "A PV guest writes machine frame numbers into its tables, since the CPU uses those tables directly; "
             "it translates the number itself, through its P2M (pfn → mfn). Xen checks that the frame is the guest's."),
     ("wrong.pseudo", "Tak robi gość HVM: pisze numery pseudofizyczne, a Xen (cienie) albo sprzęt (EPT/NPT) "
                      "je tłumaczy. Gość PV widzi adresy maszynowe.",
                      "That is what an HVM guest does: it writes pseudo-physical numbers, and Xen (shadows) or "
                      "the hardware (EPT/NPT) translates them. A PV guest sees machine addresses."))
_add("04a.batch",
     ("q", "Jądro odwzorowuje {n} stron; jego bufor mieści 2048 wpisów i wysyła pełny bufor jednym mmu_update. "
           "Ile hiperwywołań mmu_update to zajmie?",
           "The kernel maps {n} pages; its buffer holds 2048 entries and sends a full buffer with one mmu_update. "
           "How many mmu_update hypercalls will it take?"),
     ("why", "Jedno wywołanie na każde rozpoczęte 2048 wpisów: ⌈{n} / 2048⌉ = {answer}.",
             "One call per 2048 entries begun: ⌈{n} / 2048⌉ = {answer}."),
     ("wrong.per_entry", "Po jednym wywołaniu na wpis kosztowałoby to {n} wejść do Xena; po to jest pakiet.",
                         "One call per entry would cost {n} entries into Xen; that is what the batch is for."),
     ("wrong.one_call", "Xen przyjąłby wszystko jednym wywołaniem, ale bufor XenLinuksa ma 2048 wpisów, więc "
                        "jądro opróżnia go co 2048.",
                        "Xen would take everything in one call, but XenLinux's buffer has 2048 entries, so the "
                        "kernel flushes it every 2048."),
     ("wrong.floor", "Ostatni, niepełny bufor też trzeba wysłać: zaokrąglamy w górę.",
                     "The last, partly filled buffer must be sent too: round up."))
_add("04a.stale_tlb",
     ("q", "Jądro zmienia odwzorowanie adresu (strona 200 → 201) przez update_va_mapping bez flagi "
           "unieważnienia. Która strona zostanie przeczytana spod tego adresu zaraz potem?",
           "The kernel changes an address's mapping (page 200 → 201) with update_va_mapping and no flush flag. "
           "Which page will be read at that address right after?"),
     ("choice.old", "stara (200)", "the old one (200)"),
     ("choice.new", "nowa (201)", "the new one (201)"),
     ("choice.fault", "błąd strony", "a page fault"),
     ("why", "Tłumaczenie starej strony zostało w TLB; procesor nie czyta tablicy, dopóki wpis TLB nie "
             "zostanie unieważniony (UVMF_INVLPG, MMUEXT_INVLPG_LOCAL).",
             "The old page's translation stayed in the TLB; the CPU does not read the table until the TLB entry "
             "is invalidated (UVMF_INVLPG, MMUEXT_INVLPG_LOCAL)."),
     ("wrong.auto_flush", "Ani Xen, ani procesor nie unieważniają TLB same; to obowiązek jądra (flaga w "
                          "hiperwywołaniu).",
                          "Neither Xen nor the CPU invalidates the TLB by itself; that is the kernel's job (a "
                          "flag in the hypercall)."),
     ("wrong.fault", "Nowy wpis jest poprawny i obecny, a stary jeszcze w TLB: błędu nie ma.",
                     "The new entry is valid and present, and the old one still in the TLB: there is no fault."))
_add("quiz.04a.read",
     ("q", "Jak gość PV czyta swoje tablice stron?", "How does a PV guest read its page tables?"),
     ("choice.direct", "bezpośrednio, zwykłym odczytem pamięci", "directly, with an ordinary memory read"),
     ("choice.hypercall", "przez hiperwywołanie", "through a hypercall"),
     ("why", "Tablice są odwzorowane tylko do odczytu: odczyt jest bezpośredni, zapis idzie przez Xena.",
             "The tables are mapped read-only: reads are direct, writes go through Xen."),
     ("wrong.read_via_xen", "Przez Xena idą tylko zapisy; odczyt nie może niczego zepsuć.",
                            "Only writes go through Xen; a read cannot break anything."))
_add("quiz.04a.pdone",
     ("q", "Pakiet 3 żądań mmu_update; drugie jest złe. Ile wyniesie pdone?",
           "A batch of 3 mmu_update requests; the second is bad. What will pdone be?"),
     ("why", "Xen wykonuje żądania po kolei i zatrzymuje się na pierwszym złym (-EINVAL): pdone = 1.",
             "Xen carries out the requests in order and stops at the first bad one (-EINVAL): pdone = 1."),
     ("wrong.all_or_nothing", "Pakiet nie jest transakcją: żądania przed złym zostają wykonane.",
                              "A batch is not a transaction: the requests before the bad one stay done."),
     ("wrong.skip_bad", "Xen nie pomija złego żądania, tylko na nim kończy.",
                        "Xen does not skip the bad request; it stops there."))
_add("quiz.04a.limit",
     ("q", "Czyje jest ograniczenie 2048 wpisów na wywołanie mmu_update?", "Whose limit is 2048 entries per mmu_update call?"),
     ("choice.xenlinux", "bufora XenLinuksa", "XenLinux's buffer"), ("choice.xen", "Xena", "Xen's"),
     ("why", "To rozmiar bufora (QUEUE_SIZE) w XenLinuksie; Xen przyjmuje pakiet dowolnej długości.",
             "It is the size of XenLinux's buffer (QUEUE_SIZE); Xen takes a batch of any length."),
     ("wrong.xen_limit", "do_mmu_update nie ma takiego limitu; długi pakiet dzieli na kontynuacje.",
                         "do_mmu_update has no such limit; it splits a long batch into continuations."))
_add("quiz.04a.pf_code",
     ("q", "Jaki kod błędu strony (liczba) da zapis jądra do strony obecnej, ale tylko do odczytu?",
           "Which page-fault error code (a number) does a kernel write to a present, read-only page give?"),
     ("why", "Bit 0 (P) = 1: strona obecna, naruszenie ochrony; bit 1 (W) = 1: zapis; bit 2 (U) = 0: nadzorca. Razem 3.",
             "Bit 0 (P) = 1: page present, a protection violation; bit 1 (W) = 1: write; bit 2 (U) = 0: supervisor. Together 3."),
     ("wrong.not_present", "2 znaczyłoby zapis do strony nieobecnej; tu strona jest obecna (bit 0).",
                           "2 would be a write to a page that is not present; here the page is present (bit 0)."),
     ("wrong.read", "1 to odczyt; przy zapisie ustawiony jest też bit 1.", "1 is a read; a write sets bit 1 too."))
_add("quiz.04a.hvm_write",
     ("q", "Co kosztuje zapis do tablicy stron gościa HVM przy cieniowych tablicach?",
           "What does a write to an HVM guest's page table cost with shadow page tables?"),
     ("choice.vmexit", "wyjście z maszyny wirtualnej (VM exit) na każdy zapis", "a VM exit for every write"),
     ("choice.hypercall", "hiperwywołanie", "a hypercall"), ("choice.nothing", "nic", "nothing"),
     ("why", "Strony tablic gościa są w cieniu tylko do odczytu, więc każdy zapis to VM exit, w którym Xen go emuluje.",
             "The guest's table pages are read-only in the shadow, so every write is a VM exit in which Xen emulates it."),
     ("wrong.hvm_hypercall", "Niezmodyfikowany gość nie wie o Xenie i nie wykonuje hiperwywołań.",
                             "An unmodified guest knows nothing of Xen and makes no hypercalls."),
     ("wrong.no_cost", "Tak jest dopiero z EPT/NPT; przy cieniach Xen musi widzieć każdy zapis.",
                       "Only with EPT/NPT; with shadows Xen must see every write."))


# -- chapter 04b -----------------------------------------------------------------------------------
_add("04b.m2p",
     ("q", "Strona gościa pfn {pfn} leży w ramce {mfn}. Co zawiera M2P[{mfn}]?",
           "The guest page pfn {pfn} is in the frame {mfn}. What does M2P[{mfn}] hold?"),
     ("why", "M2P odwzorowuje ramkę maszynową z powrotem na numer strony gościa, do którego należy: {answer}. "
             "P2M i M2P są wzajemnie odwrotne.",
             "The M2P maps a machine frame back to the number of the guest page it belongs to: {answer}. "
             "P2M and M2P are inverses of each other."),
     ("wrong.identity", "M2P nie zwraca ramki, tylko numer strony pseudofizycznej (pfn), pod którym gość tę "
                        "ramkę widzi.",
                        "The M2P does not give back the frame but the pseudo-physical page number (pfn) under "
                        "which the guest sees that frame."))
_add("04b.balloon_back",
     ("q", "web oddaje 4096 stron, potem powstaje domena cache (16 MiB), potem web odbiera 4096 stron. Ile z nich "
           "to ramki oddane wcześniej?",
           "web gives back 4096 pages, then the domain cache (16 MiB) is created, then web takes 4096 pages back. "
           "How many of them are frames it gave back before?"),
     ("choice.all", "wszystkie", "all of them"), ("choice.some", "część", "some"), ("choice.none", "żadna", "none"),
     ("why", "Oddane ramki wracają do wspólnej puli Xena. Nowa domena cache wzięła je pierwsza, więc web dostał "
             "inne ramki; P2M gościa ukrywa to przed jego programami.",
             "Frames given back return to Xen's common pool. The new domain cache took them first, so web got "
             "other frames; the guest's P2M hides this from its programs."),
     ("wrong.reserved", "Xen niczego dla domeny nie rezerwuje: po decrease_reservation ramka jest wolna i może ją "
                        "dostać każdy.",
                        "Xen reserves nothing for the domain: after decrease_reservation the frame is free and "
                        "anybody may get it."))
_add("04b.max_pages",
     ("q", "Domena ma memory={mem} MiB i maxmem=96 MiB. Prosi (increase_reservation) o {ask} stron. Ile dostanie?",
           "A domain has memory={mem} MiB and maxmem=96 MiB. It asks (increase_reservation) for {ask} pages. "
           "How many does it get?"),
     ("why", "Xen daje strony po jednej, dopóki tot_pages < max_pages: (96 - {mem}) MiB × 256 stron = {answer}, "
             "i zwraca liczbę przydzielonych.",
             "Xen hands out pages one at a time while tot_pages < max_pages: (96 - {mem}) MiB × 256 pages = "
             "{answer}, and returns how many it gave."),
     ("wrong.no_limit", "max_pages (maxmem) to twardy limit; inaczej jeden gość mógłby zabrać całą pamięć maszyny.",
                        "max_pages (maxmem) is a hard limit; otherwise one guest could take all of the machine's memory."),
     ("wrong.all_or_nothing", "Wynik to liczba przydzielonych stron, a Xen przydziela tyle, ile może, zamiast "
                              "odmówić całości.",
                              "The result is the number of pages given, and Xen gives as many as it may instead "
                              "of refusing the lot."),
     ("wrong.whole_max", "96 MiB to limit całej domeny; ma już {mem} MiB, więc dostanie tylko różnicę.",
                         "96 MiB is the limit of the whole domain; it already has {mem} MiB, so it gets only the difference."))
_add("quiz.04b.p2m",
     ("q", "Kto prowadzi tablicę P2M gościa PV?", "Who keeps a PV guest's P2M table?"),
     ("choice.guest", "gość", "the guest"), ("choice.xen", "Xen", "Xen"),
     ("why", "Gość wpisuje numery ramek do swoich tablic stron, więc sam tłumaczy pfn → mfn.",
             "The guest writes frame numbers into its page tables, so it translates pfn → mfn itself."),
     ("wrong.xen_keeps", "Xen prowadzi M2P; P2M gościa PV to tablica w pamięci gościa (u gości HVM jest inaczej).",
                         "Xen keeps the M2P; a PV guest's P2M is a table in the guest's memory (HVM guests differ)."))
_add("quiz.04b.m2p",
     ("q", "Kto prowadzi tablicę M2P?", "Who keeps the M2P table?"),
     ("choice.guest", "gość", "the guest"), ("choice.xen", "Xen", "Xen"),
     ("why", "M2P jest jedna dla całej maszyny; Xen ją zapisuje, a gość może ją czytać pod 0xFC000000.",
             "There is one M2P for the whole machine; Xen writes it and the guest may read it at 0xFC000000."),
     ("wrong.guest_keeps", "Gość może tylko zgłosić zmianę (MMU_MACHPHYS_UPDATE) dla własnych ramek; zapisuje Xen.",
                           "A guest may only request a change (MMU_MACHPHYS_UPDATE) for its own frames; Xen writes it."))
_add("quiz.04b.invalid",
     ("q", "Co sterownik balonowy wpisuje do P2M w miejsce oddanej strony?",
           "What does the balloon driver write into the P2M in place of a page given back?"),
     ("choice.invalid", "INVALID_P2M_ENTRY", "INVALID_P2M_ENTRY"), ("choice.zero", "0", "0"),
     ("choice.old_mfn", "starą ramkę", "the old frame"),
     ("why", "Strona nie ma już ramki, więc wpis jest nieważny (INVALID_P2M_ENTRY, ~0).",
             "The page has no frame any more, so the entry is invalid (INVALID_P2M_ENTRY, ~0)."),
     ("wrong.zero", "0 to poprawny numer ramki; nieważny wpis musi się od niego różnić.",
                    "0 is a valid frame number; an invalid entry must differ from it."),
     ("wrong.old_mfn", "Ramka wróciła do Xena i może już należeć do innej domeny.",
                       "The frame went back to Xen and may already belong to another domain."))
_add("quiz.04b.foreign",
     ("q", "web oddaje (decrease_reservation) ramkę domeny db. Jaki wynik zwróci hiperwywołanie (liczba)?",
           "web gives back (decrease_reservation) a frame of the domain db. What will the hypercall return (a number)?"),
     ("why", "Wynik to liczba przetworzonych stron: Xen zatrzymał się na pierwszej, cudzej ramce, więc 0.",
             "The result is the number of pages processed: Xen stopped at the first, foreign frame, so 0."),
     ("wrong.errno", "memory_op zwraca tu liczbę stron, a nie kod błędu; błąd widać jako mniejszą liczbę niż nr_extents.",
                     "memory_op returns a number of pages here, not an error code; the error shows as fewer than nr_extents."))
_add("quiz.04b.scatter",
     ("q", "Skąd w modelu ponad tysiąc fragmentów pamięci domeny web?", "Where do the model's thousand-plus runs of web's memory come from?"),
     ("choice.model", "z tasowania wolnej pamięci blokami 64 KiB przy starcie modelu", "from the model shuffling free memory in 64 KiB blocks at boot"),
     ("choice.several_domains", "z utworzenia kilku domen", "from creating several domains"),
     ("why", "Model celowo tasuje pamięć przy starcie, by od razu pokazać stan po długiej pracy; w prawdziwym Xenie "
             "sterta bliźniaków daje pierwszym domenom duże ciągłe kawałki.",
             "The model shuffles memory at boot on purpose, to show the state after a long run at once; in a real "
             "Xen the buddy heap gives the first domains large contiguous chunks."),
     ("wrong.several_domains", "Dwie domeny na świeżej maszynie nie poszatkują pamięci tak bardzo; fragmentacja "
                               "prawdziwego Xena rośnie z czasem.",
                               "Two domains on a fresh machine would not fragment memory that much; a real Xen's "
                               "fragmentation grows over time."))
_add("quiz.04b.pae_levels",
     ("q", "Ile poziomów tablic stron ma 32-bitowy x86 z PAE?", "How many levels of page tables does 32-bit x86 with PAE have?"),
     ("why", "PDPT (L3, 4 wpisy), katalog (L2) i tablica (L1), po 512 wpisów 64-bitowych: podział 2/9/9/12 bitów.",
             "The PDPT (L3, 4 entries), a directory (L2) and a table (L1) of 512 64-bit entries each: 2/9/9/12 bits."),
     ("wrong.two", "Dwa poziomy to x86 bez PAE (10/10/12 bitów).", "Two levels is x86 without PAE (10/10/12 bits)."),
     ("wrong.four", "Cztery poziomy ma tryb 64-bitowy (x86_64).", "Four levels is 64-bit mode (x86_64)."))


# -- chapter 05 ------------------------------------------------------------------------------------
QUESTIONS += [
    ("narration.pv.write_cr3", "mmuext_op(MMUEXT_TLB_FLUSH_LOCAL) (albo MMUEXT_NEW_BASEPTR dla nowej tablicy)",
     "mmuext_op(MMUEXT_TLB_FLUSH_LOCAL) (or MMUEXT_NEW_BASEPTR for a new table)"),
    ("narration.pv.hlt", "set_timer_op(następny takt) + sched_op(SCHEDOP_block)",
     "set_timer_op(next tick) + sched_op(SCHEDOP_block)"),
    ("narration.pv.port", "dom0: Xen emuluje po physdev_op(SET_IOPL); domU: zamiast tego sterownik dzielony",
     "dom0: emulated by Xen after physdev_op(SET_IOPL); domU: a split driver instead"),
    ("narration.pv.cli", "vcpu_info->evtchn_upcall_mask = 1 (zwykły zapis do pamięci)",
     "vcpu_info->evtchn_upcall_mask = 1 (a plain memory write)"),
    ("narration.pv.sti", "vcpu_info->evtchn_upcall_mask = 0, potem sprawdzenie evtchn_upcall_pending",
     "vcpu_info->evtchn_upcall_mask = 0, then check evtchn_upcall_pending"),
]
_add("05.trap_selector",
     ("q", "Co zwróci set_trap_table z procedurą obsługi #GP w segmencie FLAT_USER_CS (pierścień 3) (liczba)?",
           "What will set_trap_table return for a #GP handler in the segment FLAT_USER_CS (ring 3) (a number)?"),
     ("why", "Xen sprawdza selektor każdej procedury (VALID_CODESEL): musi to być kod pierścienia 1. "
             "Selektor pierścienia 3 kończy się kodem -EPERM = {answer}, a tablica się nie zmienia.",
             "Xen checks the selector of every handler (VALID_CODESEL): it must be ring-1 code. A ring-3 selector "
             "ends in -EPERM = {answer}, and the table does not change."),
     ("wrong.no_check", "Bez kontroli aplikacja mogłaby dostać wyjątki jądra, a jądro wykonywałoby procedurę "
                        "w pierścieniu 3; Xen sprawdza każdy wpis.",
                        "Without the check an application could receive the kernel's exceptions and the kernel "
                        "would run a handler in ring 3; Xen checks every entry."),
     ("wrong.einval", "Blisko, ale do_set_trap_table odrzuca zły selektor kodem -EPERM, nie -EINVAL.",
                      "Close, but do_set_trap_table refuses a bad selector with -EPERM, not -EINVAL."))
_add("05.pf_path",
     ("q", "Którędy biegnie błąd strony aplikacji w gościu PV?", "Which way does an application's page fault go in a PV guest?"),
     ("choice.3-1", "3 → 1: prosto do jądra gościa", "3 → 1: straight to the guest kernel"),
     ("choice.3-0-1", "3 → 0 → 1: przez Xena do jądra gościa", "3 → 0 → 1: through Xen to the guest kernel"),
     ("choice.3-0-3", "3 → 0 → 3: Xen obsługuje go sam", "3 → 0 → 3: Xen handles it itself"),
     ("why", "Adres błędu jest w CR2, który może odczytać tylko pierścień 0: Xen przejmuje wyjątek, zapisuje "
             "adres w vcpu_info->arch.cr2 i ramką odbicia przekazuje go procedurze gościa (wektor 14).",
             "The faulting address is in CR2, which only ring 0 can read: Xen takes the exception, writes the "
             "address into vcpu_info->arch.cr2 and passes it to the guest's handler (vector 14) with a bounce frame."),
     ("wrong.direct_pf", "Tak biegnie int $0x80 (bezpośrednia bramka). Wyjątek procesora trafia do prawdziwej IDT, "
                         "czyli do Xena.",
                         "That is the path of int $0x80 (a direct gate). A CPU exception reaches the real IDT, "
                         "which is Xen's."),
     ("wrong.xen_handles", "Xen nie zna przestrzeni adresowej procesów gościa; brakującą stronę odwzorowuje "
                           "jądro gościa (hiperwywołaniem).",
                           "Xen does not know the guest's process address spaces; the guest kernel maps the "
                           "missing page (with a hypercall)."))
_add("05.cli",
     ("q", "Jądro gościa w pierścieniu 1 wykonuje cli. Co się stanie?",
           "The guest kernel in ring 1 executes cli. What happens?"),
     ("choice.executed", "procesor wyłączy przerwania", "the CPU disables interrupts"),
     ("choice.emulated", "Xen zemuluje cli", "Xen emulates cli"),
     ("choice.bounced", "#GP odbity do jądra gościa", "a #GP bounced to the guest kernel"),
     ("why", "Gość PV działa z IOPL 0, więc cli w pierścieniu 1 to #GP; Xen 3.0 nie emuluje cli, tylko odbija "
             "#GP do procedury gościa. Jądro PV zamiast cli ustawia evtchn_upcall_mask w vcpu_info.",
             "A PV guest runs with IOPL 0, so cli in ring 1 is a #GP; Xen 3.0 does not emulate cli but bounces "
             "the #GP to the guest's handler. Instead of cli a PV kernel sets evtchn_upcall_mask in vcpu_info."),
     ("wrong.ring1_cli", "Gdyby gość mógł wyłączyć prawdziwe przerwania, zablokowałby Xena i inne domeny.",
                         "If a guest could disable the real interrupts, it would block Xen and the other domains."),
     ("wrong.emulate_all", "Xen emuluje tylko nieliczne instrukcje (np. przeładowanie CR3); resztę odbija.",
                           "Xen emulates only a few instructions (e.g. a CR3 reload); it bounces the rest."))
_add("quiz.05.kernel_ring",
     ("q", "W którym pierścieniu działa jądro gościa PV (x86_32)?", "In which ring does a PV guest kernel run (x86_32)?"),
     ("why", "Pierścień 0 ma Xen, 3 aplikacje; jądro PV zmodyfikowano do pierścienia 1.",
             "Xen has ring 0, applications ring 3; the PV kernel was modified for ring 1."),
     ("wrong.ring0", "Pierścień 0 należy tylko do Xena.", "Ring 0 belongs to Xen alone."),
     ("wrong.ring3", "Tak jest na 64-bitowym Xenie; na x86_32 jądro gościa ma pierścień 1.",
                     "That is so on 64-bit Xen; on x86_32 the guest kernel has ring 1."))
_add("quiz.05.syscall",
     ("q", "Czy wywołanie systemowe int $0x80 w gościu PV (Xen 3.0, x86_32) przechodzi przez Xena?",
           "Does an int $0x80 system call in a PV guest (Xen 3.0, x86_32) pass through Xen?"),
     ("choice.yes", "tak", "yes"), ("choice.no", "nie", "no"),
     ("why", "Wektor 0x80 z DPL 3 i bez flagi IF dostaje bezpośrednią bramkę w prawdziwej IDT: 3 → 1 bez Xena.",
             "Vector 0x80 with DPL 3 and without the IF flag gets a direct gate in the real IDT: 3 → 1 without Xen."),
     ("wrong.via_xen", "Przez Xena idą wyjątki (np. błąd strony) i hiperwywołania, nie szybkie wywołanie systemowe.",
                       "Exceptions (e.g. a page fault) and hypercalls go through Xen, not the fast system call."))
_add("quiz.05.cr2",
     ("q", "Gdzie Xen 3.0 przekazuje gościowi adres błędu strony?", "Where does Xen 3.0 give the guest the page-fault address?"),
     ("choice.vcpu_info", "w vcpu_info->arch.cr2", "in vcpu_info->arch.cr2"),
     ("choice.stack", "w ramce wyjątku na stosie gościa", "in the exception frame on the guest's stack"),
     ("choice.cr2", "gość sam czyta CR2", "the guest reads CR2 itself"),
     ("why", "Xen 3.0 zapisuje CR2 w polu arch.cr2 struktury vcpu_info w stronie shared_info.",
             "Xen 3.0 writes CR2 into the arch.cr2 field of vcpu_info in the shared_info page."),
     ("wrong.xen2", "Tak robił Xen 2.0; Xen 3.0 używa vcpu_info.", "That was Xen 2.0's way; Xen 3.0 uses vcpu_info."),
     ("wrong.cr2", "CR2 może odczytać tylko pierścień 0, a jądro gościa działa w pierścieniu 1.",
                   "Only ring 0 can read CR2, and the guest kernel runs in ring 1."))
_add("quiz.05.hlt",
     ("q", "Co robi jądro PV zamiast instrukcji hlt, gdy nie ma pracy?", "What does a PV kernel do instead of hlt when it has no work?"),
     ("choice.block", "set_timer_op i sched_op(SCHEDOP_block)", "set_timer_op and sched_op(SCHEDOP_block)"),
     ("choice.hlt", "wykonuje hlt, a Xen go emuluje", "executes hlt and Xen emulates it"),
     ("choice.nothing", "kręci się w pętli", "spins in a loop"),
     ("why", "Jądro ustawia budzik i oddaje procesor hiperwywołaniem; Xen szereguje wtedy inną domenę.",
             "The kernel sets its alarm and gives up the CPU with a hypercall; Xen then schedules another domain."),
     ("wrong.hlt", "hlt w pierścieniu 1 to #GP, który Xen 3.0 odbija do gościa.", "hlt in ring 1 is a #GP, which Xen 3.0 bounces to the guest."),
     ("wrong.spin", "Pętla zużywałaby czas procesora, który mogłyby dostać inne domeny.",
                    "A loop would burn CPU time other domains could use."))
_add("quiz.05.hvm_pf",
     ("q", "Co kosztuje błąd strony gościa HVM przy cieniowych tablicach stron?",
           "What does an HVM guest's page fault cost with shadow page tables?"),
     ("choice.vmexit", "wyjście z maszyny wirtualnej (VM exit)", "a VM exit"),
     ("choice.bounce", "ramkę odbicia, jak u gościa PV", "a bounce frame, as for a PV guest"),
     ("choice.hypercall", "hiperwywołanie", "a hypercall"),
     ("why", "Xen musi zobaczyć błąd, bo może to być brakujący wpis cienia: każdy błąd strony to VM exit.",
             "Xen must see the fault, since it may be a missing shadow entry: every page fault is a VM exit."),
     ("wrong.bounce", "Ramki odbicia buduje Xen dla gości PV; gość HVM dostaje wyjątek wstrzyknięty przy wejściu.",
                      "Xen builds bounce frames for PV guests; an HVM guest gets the exception injected on entry."),
     ("wrong.hypercall", "Niezmodyfikowany gość nie wie o Xenie i nie robi hiperwywołań.",
                         "An unmodified guest knows nothing of Xen and makes no hypercalls."))


# -- chapter 06 ------------------------------------------------------------------------------------
QUESTIONS += [
    ("narration.evtchn.already_pending", "już oczekiwał", "already pending"),
    ("narration.evtchn.masked", "zamaskowany", "masked"),
    ("narration.evtchn.selector_set", "bit selektora już ustawiony", "selector already set"),
    ("narration.evtchn.upcall_pending", "wywołanie już oczekuje", "upcall already pending"),
    ("narration.evtchn.upcall", "wywołanie (upcall)", "upcall"),
]
_add("06.ports",
     ("q", "Porty 1–3 domeny back są zajęte (konsola, XenStore, zegar). back przydziela po kolei porty "
           "niepowiązane (alloc_unbound), razem {k}. Jaki numer dostanie ostatni?",
           "Ports 1–3 of the domain back are taken (console, XenStore, timer). back allocates {k} unbound ports "
           "in a row (alloc_unbound). Which number will the last one get?"),
     ("why", "Xen szuka najniższego wolnego portu (get_free_port): pierwszy dostaje 4, a {k}. dostaje 3 + {k} = {answer}.",
             "Xen looks for the lowest free port (get_free_port): the first gets 4, and number {k} gets 3 + {k} = {answer}."),
     ("wrong.ignore_used", "Porty 1–3 są już zajęte przez konsolę, XenStore i zegar; nowe zaczynają się od 4.",
                           "Ports 1–3 are already taken by the console, XenStore and the timer; new ones start at 4."),
     ("wrong.from_zero", "Port 0 jest zarezerwowany (ECS_RESERVED) i nigdy nie zostaje przydzielony.",
                         "Port 0 is reserved (ECS_RESERVED) and is never allocated."))
_add("06.masked",
     ("q", "Port domeny back jest zamaskowany, a front wysyła powiadomienie. Co się stanie?",
           "The port of the domain back is masked, and front sends a notification. What happens?"),
     ("choice.upcall", "back dostanie wywołanie (upcall) od razu", "back gets an upcall at once"),
     ("choice.pending_only", "bit oczekiwania się ustawi, ale wywołania nie będzie", "the pending bit is set, but there is no upcall"),
     ("choice.lost", "zdarzenie przepadnie", "the event is lost"),
     ("why", "Krok 1 ustawia bit oczekiwania, krok 2 kończy na masce: selektor i evtchn_upcall_pending zostają bez "
             "zmian. Odmaskowanie powtórzy kroki 3–4 i dopiero wtedy przyjdzie wywołanie.",
             "Step 1 sets the pending bit, step 2 stops at the mask: the selector and evtchn_upcall_pending stay "
             "unchanged. Unmasking repeats steps 3–4, and only then does the upcall come."),
     ("wrong.mask_ignored", "Maska portu działa jak wyłączenie jednego przerwania: Xen sprawdza ją w kroku 2.",
                            "A port mask works like disabling one interrupt: Xen checks it in step 2."),
     ("wrong.lost", "Bit oczekiwania zostaje ustawiony, więc po odmaskowaniu zdarzenie zostanie obsłużone.",
                    "The pending bit stays set, so the event is handled after unmasking."))
_add("06.coalesce",
     ("q", "Port back jest zamaskowany; front wysyła kolejno powiadomienia (razem: {sends}), potem back odmaskowuje port. Ile razy "
           "wykona się procedura obsługi tego portu?",
           "back's port is masked; front sends {sends} notifications, then back unmasks the port. How many times "
           "will the port's handler run?"),
     ("why", "Zdarzenie to jeden bit oczekiwania: kolejne powiadomienia przy ustawionym bicie nic nie zmieniają "
             "(krok 1: „już oczekuje”). Procedura wykona się {answer} raz; co się wydarzyło, odczyta z pamięci "
             "współdzielonej (np. z bufora cyklicznego).",
             "An event is one pending bit: further notifications while it is set change nothing (step 1: "
             "\u201calready pending\u201d). The handler runs {answer} time; what happened it reads from shared "
             "memory (e.g. a descriptor ring)."),
     ("wrong.counted", "Zdarzenia się nie liczą i nie niosą danych, więc wszystkie powiadomienia przed obsługą "
                       "(tu: {sends}) dają jedno wywołanie.",
                       "Events are not counted and carry no data, so {sends} notifications before handling are one call."),
     ("wrong.lost", "Maska opóźnia zdarzenie, ale go nie gubi: po odmaskowaniu procedura się wykona.",
                    "The mask delays the event but does not lose it: after unmasking the handler runs."))
_add("quiz.06.ports",
     ("q", "Ile kanałów zdarzeń ma domena w Xenie 3.0 na x86_32?", "How many event channels does a domain have in Xen 3.0 on x86_32?"),
     ("why", "32 słowa po 32 bity (selektor ma 32 bity): 1024 porty (NR_EVENT_CHANNELS).",
             "32 words of 32 bits (the selector has 32 bits): 1024 ports (NR_EVENT_CHANNELS)."),
     ("wrong.x86_64", "4096 to liczba dla 64-bitowego Xena (64 × 64).", "4096 is the figure for a 64-bit Xen (64 × 64)."),
     ("wrong.word", "32 to jedno słowo bitów; selektor wskazuje 32 takie słowa.", "32 is one word of bits; the selector points at 32 such words."),
     ("wrong.fifo", "2^17 to kanały FIFO z Xena 4.4.", "2^17 is the FIFO channels of Xen 4.4."))
_add("quiz.06.data",
     ("q", "Co niesie zdarzenie wysłane kanałem zdarzeń?", "What does an event sent on an event channel carry?"),
     ("choice.nothing", "nic poza faktem, że port oczekuje", "nothing but the fact that the port is pending"),
     ("choice.count", "liczbę powiadomień", "the number of notifications"),
     ("choice.payload", "krótką wiadomość", "a short message"),
     ("why", "Zdarzenie to jeden bit oczekiwania; dane przekazuje się przez pamięć współdzieloną.",
             "An event is one pending bit; data goes through shared memory."),
     ("wrong.count", "Kolejne powiadomienia przy ustawionym bicie nic nie zmieniają: nie ma licznika.",
                     "Further notifications while the bit is set change nothing: there is no counter."),
     ("wrong.payload", "Na dane są bufory cykliczne w stronach współdzielonych (rozdział 9).",
                       "Data go in descriptor rings in shared pages (chapter 9)."))
_add("quiz.06.masked",
     ("q", "Co się dzieje ze zdarzeniem wysłanym na zamaskowany port?", "What happens to an event sent to a masked port?"),
     ("choice.kept", "czeka (bit oczekiwania) do odmaskowania", "it waits (the pending bit) until unmasking"),
     ("choice.lost", "ginie", "it is lost"), ("choice.delivered", "zostaje dostarczone mimo maski", "it is delivered despite the mask"),
     ("why", "Xen ustawia bit oczekiwania i zatrzymuje się na masce; odmaskowanie powtarza kroki 3–4.",
             "Xen sets the pending bit and stops at the mask; unmasking repeats steps 3–4."),
     ("wrong.lost", "Gdyby ginęło, maskowanie gubiłoby przerwania; bit oczekiwania to zapamiętuje.",
                    "If it were lost, masking would lose interrupts; the pending bit remembers it."),
     ("wrong.delivered", "Maska zatrzymuje dostarczenie w kroku 2.", "The mask stops delivery in step 2."))
_add("quiz.06.pirq",
     ("q", "Kto może powiązać port z fizycznym przerwaniem (PIRQ)?", "Who may bind a port to a physical interrupt (PIRQ)?"),
     ("choice.dom0", "tylko domena uprzywilejowana (dom0)", "only the privileged domain (dom0)"),
     ("choice.any", "każda domena", "any domain"),
     ("why", "Fizyczne urządzenia obsługuje dom0; gość dostaje -EPERM.", "dom0 drives the physical devices; a guest gets -EPERM."),
     ("wrong.any", "Gość bez uprawnień dostaje -EPERM (-1), jak w komórce powyżej.",
                   "An unprivileged guest gets -EPERM (-1), as in the cell above."))
_add("quiz.06.eexist",
     ("q", "Jaki kod zwróci ponowne powiązanie VIRQ_TIMER, już powiązanego przy starcie (liczba)?",
           "What code does binding VIRQ_TIMER again, already bound at boot, return (a number)?"),
     ("why", "-EEXIST = -17: VIRQ może mieć na danym vcpu tylko jeden port.", "-EEXIST = -17: a VIRQ may have only one port on a given vcpu."),
     ("wrong.rebind", "Xen nie wiąże VIRQ drugi raz; zwraca błąd.", "Xen does not bind a VIRQ twice; it returns an error."),
     ("wrong.einval", "Argumenty są poprawne; przeszkodą jest istniejące powiązanie (-EEXIST).",
                      "The arguments are valid; the obstacle is the existing binding (-EEXIST)."))


# -- chapter 07 ------------------------------------------------------------------------------------
_add("07.rr_wait",
     ("q", "Round Robin, kwant 10 ms: ile milisekund (mediana) czeka web po obudzeniu, gdy cpu liczy bez przerwy?",
           "Round Robin, a 10 ms slice: how many milliseconds (median) does web wait after waking while cpu "
           "computes all the time?"),
     ("why", "Budzona domena trafia na koniec kolejki i nie wywłaszcza cpu, więc czeka, aż cpu zużyje swój kwant: "
             "w tym przebiegu {answer} ms, czyli jeden kwant.",
             "A waking domain goes to the tail of the queue and does not preempt cpu, so it waits until cpu has used "
             "its slice: {answer} ms in this run, one slice."),
     ("wrong.preempt", "Round Robin nie wywłaszcza działającej domeny przy obudzeniu; to robią BVT (warp) i Credit (BOOST).",
                       "Round Robin does not preempt the running domain on a wake-up; BVT (warp) and Credit (BOOST) do."),
     ("wrong.two_slices", "Przed web w kolejce jest tylko cpu (video zwykle śpi), więc czeka co najwyżej jeden kwant.",
                          "Only cpu is ahead of web in the queue (video is usually asleep), so it waits one slice at most."))
_add("07.bvt",
     ("q", "BVT, dwie domeny liczące bez przerwy: a ma mcu_advance = {adv_a}, b ma {adv_b}. Jaki udział w czasie "
           "procesora dostanie a (ułamek, np. 0,25)?",
           "BVT, two domains computing all the time: a has mcu_advance = {adv_a}, b has {adv_b}. What share of the "
           "CPU will a get (a fraction, e.g. 0.25)?"),
     ("why", "mcu_advance to odwrotność wagi: udział a = (1/{adv_a}) / (1/{adv_a} + 1/{adv_b}) = {adv_b} / "
             "({adv_a} + {adv_b}) ≈ {answer}.",
             "mcu_advance is the inverse of a weight: a's share = (1/{adv_a}) / (1/{adv_a} + 1/{adv_b}) = {adv_b} / "
             "({adv_a} + {adv_b}) ≈ {answer}."),
     ("wrong.inverted", "To udział odwrotny: większe mcu_advance znaczy szybciej rosnący czas wirtualny, więc "
                        "mniej procesora.",
                        "That is the inverted share: a larger mcu_advance means faster-growing virtual time, so "
                        "less CPU."),
     ("wrong.half", "Po równo byłoby przy równych mcu_advance; tu wagi się różnią.",
                    "An equal split needs equal mcu_advance values; here the weights differ."))
_add("07.atropos_rest",
     ("q", "Atropos: video (5 ms / 20 ms) i audio (10 ms / 40 ms) bez xtratime oraz zwykła domena batch; wszystkie "
           "liczą bez przerwy. Kto dostanie pozostałe 50% procesora?",
           "Atropos: video (5 ms / 20 ms) and audio (10 ms / 40 ms) without xtratime, and an ordinary domain batch; "
           "all compute all the time. Who gets the remaining 50% of the CPU?"),
     ("choice.batch", "batch", "batch"),
     ("choice.shared", "wszystkie trzy po równo", "all three equally"),
     ("choice.idle", "nikt: procesor jest bezczynny", "nobody: the CPU is idle"),
     ("why", "Czas wolny dostają tylko domeny z flagą xtratime; zwykła domena ją ma, a video i audio nie, więc "
             "całe 50% bierze batch.",
             "Slack goes only to domains with the xtratime flag; an ordinary domain has it, video and audio do not, "
             "so batch takes the whole 50%."),
     ("wrong.slack_to_all", "video i audio mają xtratime = 0: dostają tylko swoją rezerwację.",
                            "video and audio have xtratime = 0: they get only their reservation."),
     ("wrong.non_work_conserving", "Atropos oddaje czas wolny domenom z xtratime, a batch chce liczyć, więc procesor "
                                   "nie stoi.",
                                   "Atropos gives slack to domains with xtratime, and batch wants to compute, so the "
                                   "CPU is not idle."))
_add("quiz.07.q1_shortest",
     ("q", "Pytanie 1: który planista daje web najmniejsze opóźnienie po obudzeniu?",
           "Question 1: which scheduler gives web the shortest wake-up latency?"),
     ("choice.rrobin", "Round Robin", "Round Robin"), ("choice.bvt", "BVT", "BVT"), ("choice.credit", "Credit", "Credit"),
     ("why", "W przebiegu BVT mediana to 0 ms: web mało liczy, więc jego czas wirtualny jest najmniejszy i po "
             "obudzeniu od razu wyprzedza cpu. Credit: 3 ms, Round Robin: 10 ms.",
             "In the BVT run the median is 0 ms: web computes little, so its virtual time is the lowest and it "
             "overtakes cpu at once on waking. Credit: 3 ms, Round Robin: 10 ms."),
     ("wrong.credit_boost", "Credit też skraca opóźnienie (BOOST), ale w tym przebiegu mediana to 3 ms, a w BVT 0 ms.",
                            "Credit shortens the latency too (BOOST), but in this run its median is 3 ms, BVT's 0 ms."),
     ("wrong.rr_tail", "Round Robin daje najdłuższe opóźnienie: budzona domena idzie na koniec kolejki.",
                       "Round Robin gives the longest latency: a waking domain goes to the tail of the queue."))
_add("quiz.07.q1_longest",
     ("q", "Pytanie 1: który planista daje web największe opóźnienie?", "Question 1: which scheduler gives web the longest latency?"),
     ("choice.rrobin", "Round Robin", "Round Robin"), ("choice.bvt", "BVT", "BVT"), ("choice.credit", "Credit", "Credit"),
     ("why", "Round Robin: 10 ms, cały kwant cpu, bo budzona domena nie wywłaszcza działającej.",
             "Round Robin: 10 ms, a whole slice of cpu's, since a waking domain does not preempt the running one."),
     ("wrong.credit_boost", "Credit podnosi budzącą się domenę UNDER do BOOST; jej opóźnienie jest krótsze niż w Round Robin.",
                            "Credit raises a waking UNDER domain to BOOST; its latency is shorter than under Round Robin."),
     ("wrong.bvt_warp", "W BVT web ma najmniejszy czas wirtualny i wyprzedza cpu od razu.",
                        "Under BVT web has the lowest virtual time and overtakes cpu at once."))
_add("quiz.07.q1_slices",
     ("q", "Pytanie 1: ile kwantów (10 ms) może czekać web w Round Robin, gdy przed nim jest tylko cpu?",
           "Question 1: how many slices (10 ms) can web wait under Round Robin when only cpu is ahead of it?"),
     ("why", "Jeden: cpu dokończy swój kwant, potem przyjdzie kolej web (mediana i maksimum w przebiegu: 10 ms).",
             "One: cpu finishes its slice, then it is web's turn (median and maximum in the run: 10 ms)."),
     ("wrong.two", "W kolejce przed web jest tylko cpu, więc czeka najwyżej jeden kwant.",
                   "Only cpu is ahead of web in the queue, so it waits one slice at most."),
     ("wrong.none", "Round Robin nie wywłaszcza przy obudzeniu, więc web czeka na koniec kwantu cpu.",
                    "Round Robin does not preempt on a wake-up, so web waits for the end of cpu's slice."))
_add("quiz.07.q2_share",
     ("q", "Pytanie 2: jaki udział dostaje domena a z mcu_advance = 10 (obok 20 i 40)?",
           "Question 2: what share does the domain a with mcu_advance = 10 get (next to 20 and 40)?"),
     ("why", "Udziały są odwrotnie proporcjonalne do mcu_advance: 1/10 : 1/20 : 1/40 = 4 : 2 : 1, więc a dostaje "
             "4/7 ≈ 0,571 (przebieg: 0,570), b 2/7, c 1/7.",
             "Shares are inversely proportional to mcu_advance: 1/10 : 1/20 : 1/40 = 4 : 2 : 1, so a gets 4/7 ≈ "
             "0.571 (the run: 0.570), b 2/7, c 1/7."),
     ("wrong.inverted", "1/7 dostaje c, z największym mcu_advance (40).", "1/7 is c's share, with the largest mcu_advance (40)."),
     ("wrong.equal", "Po równo byłoby przy równych wagach.", "An equal split needs equal weights."))
_add("quiz.07.q3_rest",
     ("q", "Pytanie 3: kto w Atroposie dostaje pozostałe 50%?", "Question 3: who gets the remaining 50% under Atropos?"),
     ("choice.batch", "batch", "batch"), ("choice.video_audio", "video i audio", "video and audio"),
     ("choice.nobody", "nikt", "nobody"),
     ("why", "Czas wolny dostają tylko domeny z xtratime; video i audio mają xtratime = 0, więc dostają dokładnie "
             "swoje 25% + 25%, a batch resztę (0,500).",
             "Slack goes only to domains with xtratime; video and audio have xtratime = 0, so they get exactly "
             "their 25% + 25%, and batch the rest (0.500)."),
     ("wrong.no_xtratime", "Bez flagi xtratime domena nie dostaje nic ponad rezerwację, nawet gdy liczy bez przerwy.",
                           "Without the xtratime flag a domain gets nothing beyond its reservation, even computing all the time."),
     ("wrong.idle", "batch ma xtratime i chce liczyć, więc procesor nie stoi.", "batch has xtratime and wants to compute, so the CPU is not idle."))
_add("quiz.07.q3_overload",
     ("q", "Pytanie 3: co się dzieje, gdy suma slice/period przekracza 1 (przeciążenie)?",
           "Question 3: what happens when the sum of slice/period exceeds 1 (overload)?"),
     ("choice.deadlines", "nie wszystkie rezerwacje da się spełnić: domeny przekraczają terminy",
                          "not every reservation can be met: domains miss their deadlines"),
     ("choice.refused", "Xen odrzuca nowe parametry", "Xen refuses the new parameters"),
     ("choice.scaled", "Xen proporcjonalnie zmniejsza rezerwacje", "Xen scales the reservations down"),
     ("why", "Procesor nie ma tyle czasu, ile obiecano; EDF obsługuje najbliższe terminy, a reszta domen nie "
             "dostaje swojego przydziału w okresie (kolumna misses w raporcie).",
             "The CPU does not have the time promised; EDF serves the nearest deadlines, and the other domains do "
             "not get their slice within the period (the misses column of the report)."),
     ("wrong.admission", "Planista Xena 2.0 nie sprawdzał sumy rezerwacji przy adjdom.",
                         "Xen 2.0's scheduler did not check the sum of reservations in adjdom."),
     ("wrong.scaled", "Rezerwacje zostają takie, jak ustawiono; nie da się ich po prostu spełnić.",
                      "The reservations stay as set; they simply cannot be met."))
_add("quiz.07.q4_video_ms",
     ("q", "Pytanie 4: ile milisekund dostaje video w każdym 20-milisekundowym okresie, gdy liczy bez przerwy?",
           "Question 4: how many milliseconds does video get in each 20 ms period when it computes all the time?"),
     ("why", "Dokładnie swój slice, 5 ms (min = max = 5,00): ma extratime = 0, więc czasu wolnego nie dostaje.",
             "Exactly its slice, 5 ms (min = max = 5.00): it has extratime = 0, so it gets no spare time."),
     ("wrong.computes", "Rezerwacja to górna granica dla domeny bez extratime, nie tylko dolna.",
                        "For a domain without extratime the reservation is an upper bound, not only a lower one."),
     ("wrong.extra", "Bez flagi extratime SEDF nie daje jej niczego ponad slice.", "Without the extratime flag SEDF gives it nothing beyond its slice."))
_add("quiz.07.q4_ratio",
     ("q", "Pytanie 4: w jakim stosunku be3 i be1 dzielą czas wolny (be3 / be1)?",
           "Question 4: in what ratio do be3 and be1 share the spare time (be3 / be1)?"),
     ("why", "Według wag czasu dodatkowego, 3 : 1: 0,562 / 0,188 ≈ 3 (i 0,600 / 0,200 = 3 w drugim przebiegu).",
             "By extra-time weight, 3 : 1: 0.562 / 0.188 ≈ 3 (and 0.600 / 0.200 = 3 in the second run)."),
     ("wrong.equal", "Po równo dzieli Atropos; SEDF dzieli według extraweight.", "Atropos shares equally; SEDF shares by extraweight."))
_add("quiz.07.q4_unused",
     ("q", "Pytanie 4: kto dostaje 1 ms rezerwacji, którego video nie zużywa?",
           "Question 4: who gets the 1 ms of its reservation that video leaves unused?"),
     ("choice.best_effort", "be1 i be3, według wag", "be1 and be3, by weight"),
     ("choice.video_later", "video, w następnym okresie", "video, in the next period"),
     ("choice.idle", "nikt: procesor stoi", "nobody: the CPU is idle"),
     ("why", "Niewykorzystany czas staje się czasem wolnym, który SEDF rozdaje domenom z extratime według wag: "
             "be1 0,200, be3 0,600.",
             "Unused time becomes spare time, which SEDF hands to domains with extratime by weight: be1 0.200, be3 0.600."),
     ("wrong.banked", "Rezerwacja nie przechodzi na następny okres: każdy okres zaczyna się od nowego slice.",
                      "A reservation does not carry over: every period starts with a fresh slice."),
     ("wrong.idle", "Domeny best-effort chcą liczyć, więc SEDF oddaje im ten czas.", "The best-effort domains want to compute, so SEDF gives them that time."))
_add("quiz.07.q4_extratime",
     ("q", "Pytanie 4: co by się zmieniło, gdyby video miała extratime = 1?",
           "Question 4: what would change if video had extratime = 1?"),
     ("choice.more", "dostawałaby więcej niż 5 ms na okres, bo walczyłaby też o czas wolny",
                     "it would get more than 5 ms per period, competing for spare time too"),
     ("choice.same", "nic: nadal dokładnie 5 ms", "nothing: still exactly 5 ms"),
     ("why", "Z flagą extratime domena z rezerwacją dostaje czas wolny ponad slice (w modelu video bierze wtedy "
             "większość procesora: 0,92 w sekundowym przebiegu), kosztem be1 i be3.",
             "With the extratime flag a domain with a reservation gets spare time beyond its slice (in the model "
             "video then takes most of the CPU: 0.92 in a one-second run), at the expense of be1 and be3."),
     ("wrong.nothing", "Flaga extratime właśnie na to pozwala: na czas ponad rezerwację.",
                       "That is exactly what the extratime flag allows: time beyond the reservation."))
_add("quiz.07.q5_light",
     ("q", "Pytanie 5: jaki udział dostaje light z limitem 20% (heavy ma wagę 512)?",
           "Question 5: what share does light get with a 20% cap (heavy has weight 512)?"),
     ("why", "Limit ucina light do 0,20 procesora (bez limitu miała 0,34 z wag 256 : 512); heavy bierze resztę, 0,80.",
             "The cap cuts light to 0.20 of the CPU (without it, 0.34 from weights 256 : 512); heavy takes the rest, 0.80."),
     ("wrong.weights", "Tyle light ma bez limitu, z samych wag; limit 20% jest twardszy.",
                       "That is light's share without a cap, from the weights alone; the 20% cap is stricter."))
_add("quiz.07.q5_idle",
     ("q", "Pytanie 5: czy procesor bywa bezczynny po ustawieniu limitu light?", "Question 5: is the CPU ever idle once light is capped?"),
     ("choice.yes", "tak", "yes"), ("choice.no", "nie", "no"),
     ("why", "Nie: heavy liczy bez przerwy i nie ma limitu, więc bierze czas, którego light nie może (0,20 + 0,80 = 1). "
             "Bezczynność grozi dopiero, gdy wszystkie gotowe domeny wyczerpią limity.",
             "No: heavy computes all the time and has no cap, so it takes the time light may not (0.20 + 0.80 = 1). "
             "The CPU idles only when every ready domain has used up its cap."),
     ("wrong.idle", "Credit z limitem może zostawić procesor bezczynny, ale tylko gdy nie ma innej gotowej domeny "
                    "bez limitu; tu jest heavy.",
                    "Credit with a cap may leave the CPU idle, but only when no other ready, uncapped domain exists; "
                    "here there is heavy."))
_add("quiz.07.q6_io_wait",
     ("q", "Pytanie 6 (laboratorium): ile milisekund (mediana) czeka domena I/O po obudzeniu z planistą Credit?",
           "Question 6 (the lab): how many milliseconds (median) does the I/O domain wait after waking with Credit?"),
     ("why", "Zwykle 0 ms: budząca się domena UNDER dostaje BOOST i wywłaszcza domenę cpu. Rzadkie dłuższe "
             "oczekiwania (w przebiegu z domyślnymi domenami do ok. 5 ms) zdarzają się, gdy procesor ma już inna "
             "domena z BOOST, np. video przetwarzająca ramkę.",
             "Usually 0 ms: a waking UNDER domain gets BOOST and preempts the domain cpu. The rare longer waits (up "
             "to about 5 ms in a run with the default domains) happen when another BOOSTed domain has the CPU, "
             "e.g. video processing a frame."),
     ("wrong.slice", "Tak byłoby w Round Robin; Credit wywłaszcza domenę liczącą, gdy budzi się domena UNDER.",
                     "That would be Round Robin; Credit preempts the computing domain when an UNDER domain wakes."))
_add("quiz.07.default",
     ("q", "Którego planisty domyślnie używał Xen 3.0.0?", "Which scheduler did Xen 3.0.0 use by default?"),
     ("choice.sedf", "SEDF", "SEDF"), ("choice.credit", "Credit", "Credit"), ("choice.bvt", "BVT", "BVT"),
     ("why", "Xen 3.0.0 miał BVT i SEDF, a domyślny był SEDF; Credit stał się domyślny w 3.0.3 i jest domyślny w modelu.",
             "Xen 3.0.0 had BVT and SEDF, with SEDF the default; Credit became the default in 3.0.3 and is the model's default."),
     ("wrong.credit_303", "Credit pokazuje xm info modelu, ale domyślny został dopiero w Xenie 3.0.3.",
                          "The model's xm info shows credit, but it became the default only in Xen 3.0.3."),
     ("wrong.bvt_20", "BVT był domyślny w Xenie 2.0.", "BVT was the default in Xen 2.0."))


# -- more of the model's phrases (03's #GP, 04a's page-fault codes) --------------------------------
QUESTIONS += [
    ("narration.seg.gp_limit", "#GP({code}): {reg}:{offset}+{size} poza granicą {limit}",
     "#GP({code}): {reg}:{offset}+{size} beyond limit {limit}"),
    ("narration.pfec.protection", "naruszenie ochrony", "protection"),
    ("narration.pfec.not_present", "strona nieobecna", "not-present"),
    ("narration.pfec.write", "zapis", "write"),
    ("narration.pfec.read", "odczyt", "read"),
    ("narration.pfec.user", "użytkownik", "user"),
    ("narration.pfec.supervisor", "nadzorca", "supervisor"),
]


PL.update({key: pl for key, pl, _en in QUESTIONS})
EN.update({key: en for key, _pl, en in QUESTIONS})
