"""Predictions and self-check quizzes of chapters 8-14: ``learn.<qid>.q`` (the question), ``.why`` (shown
after every answer), ``.wrong.<tag>`` (one misconception) and ``.choice.<c>`` (a choice's label). Qids:
``NN.name`` for a chapter's predictions (the model behind them: xenlab/predictions_08_14.py) and
``quiz.NN.name`` for its quiz (data: xenlab/learn_quizzes/chNN.py).
"""

PL: dict[str, object] = {
    # ---- chapter 8: time ------------------------------------------------------------------------
    "learn.08.frozen.q": "Domena `web` zostaje wstrzymana na {ms} ms. Który z jej czterech zegarów przez ten "
                         "czas stoi w miejscu?",
    "learn.08.frozen.choice.tsc": "licznik cykli (TSC)",
    "learn.08.frozen.choice.system": "czas systemowy",
    "learn.08.frozen.choice.virtual": "wirtualny czas domeny",
    "learn.08.frozen.choice.wallclock": "czas zegarowy",
    "learn.08.frozen.choice.none": "żaden",
    "learn.08.frozen.why": "stoi {answer}: liczy on tylko czas, w którym domena naprawdę działa. Czas systemowy "
                           "przesunął się o {system_ms:.0f} ms, a wirtualny o {virtual_ms:.0f} ms.",
    "learn.08.frozen.wrong.system_per_domain": "Czas systemowy należy do maszyny, nie do domeny: to nanosekundy "
                                               "od startu systemu i płyną dla wszystkich tak samo.",
    "learn.08.frozen.wrong.wallclock_own": "Czas zegarowy to wc + czas systemowy, więc płynie razem z czasem "
                                           "systemowym; wstrzymanie domeny go nie zatrzymuje.",
    "learn.08.frozen.wrong.tsc_stops": "TSC to licznik procesora fizycznego, nie domeny: tyka, czy domena działa, "
                                       "czy nie.",
    "learn.08.frozen.wrong.nothing_stops": "Jeden zegar jednak staje: ten, który mierzy czas procesora zużyty "
                                           "przez domenę.",
    "learn.08.shift.q": "Procesor ma {mhz} MHz. Jakie `tsc_shift` wybierze `set_time_scale`, żeby przesunięta "
                        "częstotliwość leżała w przedziale (1 GHz, 2 GHz]?",
    "learn.08.shift.why": "tsc_shift = {answer}: {mhz} MHz · 2^({answer}) = {shifted_mhz:.0f} MHz, a mnożnik "
                          "tsc_to_system_mul = {mul}. Ujemne przesunięcie to przesunięcie w prawo (dzielenie).",
    "learn.08.shift.wrong.sign": "Dobra wielkość, zły znak: szybki zegar trzeba spowolnić (przesunięcie w prawo, "
                                 "wartość ujemna), a wolny przyspieszyć (w lewo, dodatnia).",
    "learn.08.guest_ns.q": "Procesor {mhz} MHz. W `vcpu_time_info` jest system_time = 1 000 000 000 ns, a od "
                           "znacznika `tsc_timestamp` minęło {ticks} taktów. Jaki czas systemowy (ns) policzy gość?",
    "learn.08.guest_ns.why": "{answer} ns: system_time plus {delta_ns} ns, bo ((Δtsc << tsc_shift) · "
                             "tsc_to_system_mul) >> 32 przy shift {shift} i mul {mul}. Gość liczy to sam, bez "
                             "hiperwywołania.",
    "learn.08.guest_ns.wrong.no_base": "To tylko czas od znacznika: gość musi jeszcze dodać system_time z chwili "
                                       "znacznika.",
    "learn.08.guest_ns.wrong.ticks": "Takty to nie nanosekundy: trzeba je przeliczyć według częstotliwości "
                                     "procesora (skalą tsc_shift i tsc_to_system_mul).",
    "learn.quiz.08.version.q": "Gość czyta `vcpu_time_info` i widzi nieparzyste `version`. Co robi?",
    "learn.quiz.08.version.choice.retry": "czyta strukturę jeszcze raz",
    "learn.quiz.08.version.choice.use": "używa odczytanych wartości",
    "learn.quiz.08.version.choice.hypercall": "pyta Xena hiperwywołaniem",
    "learn.quiz.08.version.why": "{answer}: nieparzyste version znaczy, że Xen właśnie pisze strukturę; gość ponawia "
                                 "odczyt, aż version będzie parzyste i takie samo przed odczytem i po nim (jak seqlock).",
    "learn.quiz.08.version.wrong.torn": "Wartości mogą być w połowie stare, a w połowie nowe: Xen jest w trakcie "
                                        "zapisu.",
    "learn.quiz.08.version.wrong.hypercall": "Cały sens tej struktury to czytanie czasu bez hiperwywołania.",
    "learn.quiz.08.virtual.q": "Który zegar płynie tylko wtedy, gdy domena działa?",
    "learn.quiz.08.virtual.choice.tsc": "licznik cykli (TSC)",
    "learn.quiz.08.virtual.choice.system": "czas systemowy",
    "learn.quiz.08.virtual.choice.virtual": "wirtualny czas domeny",
    "learn.quiz.08.virtual.choice.wallclock": "czas zegarowy",
    "learn.quiz.08.virtual.why": "{answer}: to czas procesora zużyty przez domenę; na nim opierają się planiści.",
    "learn.quiz.08.virtual.wrong.system": "Czas systemowy jest wspólny dla maszyny i płynie zawsze.",
    "learn.quiz.08.wallclock.q": "Jak gość otrzymuje czas zegarowy (datę i godzinę)?",
    "learn.quiz.08.wallclock.choice.offset": "wc_sec/wc_nsec z shared_info + czas systemowy",
    "learn.quiz.08.wallclock.choice.hypercall": "hiperwywołaniem przy każdym odczycie",
    "learn.quiz.08.wallclock.choice.tsc": "z samego TSC",
    "learn.quiz.08.wallclock.why": "{answer}: czas zegarowy to przesunięcie względem czasu systemowego, więc Xen "
                                   "może go skorygować, nie ruszając czasu systemowego.",
    "learn.quiz.08.wallclock.wrong.hypercall": "Niepotrzebne: wszystko, czego trzeba, leży we wspólnej stronie "
                                               "shared_info.",
    "learn.quiz.08.timer.q": "Co ile milisekund działająca domena dostaje `VIRQ_TIMER`?",
    "learn.quiz.08.timer.why": "co {answer} ms (rozdział 6); jednorazowy budzik ustawia się dodatkowo "
                               "`set_timer_op`.",
    # ---- chapter 9: rings -----------------------------------------------------------------------
    "learn.09.notify.q": "Bufor 8 miejsc, świeżo zainicjowany. Kroki RingLab: {steps}. Czy ostatnie `push` "
                         "wyśle zdarzenie do części zaplecza?",
    "learn.09.notify.choice.yes": "tak",
    "learn.09.notify.choice.no": "nie",
    "learn.09.notify.why": "{answer}: req_event = {req_event}, a opublikowano indeksy ({old}, {new}]. Zdarzenie "
                           "idzie tylko wtedy, gdy req_event leży w tym przedziale.",
    "learn.09.notify.wrong.every_push": "Powiadomienie nie idzie przy każdym żądaniu: część zaplecza, która "
                                        "jeszcze pracuje (nie przestawiła req_event), i tak zajrzy do bufora.",
    "learn.09.notify.wrong.never_again": "Część zaplecza skończyła pracę i w ostatnim sprawdzeniu ustawiła "
                                         "req_event = req_cons + 1: następne żądanie musi ją obudzić.",
    "learn.09.free.q": "Bufor ma {size} miejsc. Liczba żądań, które gość wstawił i opublikował: {produced}; które "
                       "część zaplecza pobrała: {taken}; na które odpowiedziała i opublikowała odpowiedź: "
                       "{answered}; odpowiedzi, które gość pobrał: {collected}. Ile żądań gość może jeszcze "
                       "wstawić?",
    "learn.09.free.why": "{answer}: wolne = size − (req_prod_pvt − rsp_cons) = {size} − ({produced} − {collected}). "
                         "Miejsce zwalnia się dopiero, gdy gość pobierze odpowiedź.",
    "learn.09.free.wrong.on_take": "Pobranie żądania przez część zaplecza nie zwalnia miejsca: w tym miejscu "
                                   "stanie potem odpowiedź.",
    "learn.09.free.wrong.on_answer": "Odpowiedź zajmuje miejsce, dopóki gość jej nie pobierze (rsp_cons).",
    "learn.09.wrap.q": "Bufor ma {size} miejsc, a req_prod_pvt = {index} (tuż przed zawinięciem 32-bitowego "
                       "licznika). W którym miejscu wyląduje następne żądanie?",
    "learn.09.wrap.why": "w miejscu {answer} = {index} & ({size} − 1). Indeksy rosną bez redukcji modulo i "
                         "zawijają się dopiero przy 2³²; 2³² jest wielokrotnością rozmiaru, więc kolejne miejsca "
                         "idą po kolei także przez zawinięcie.",
    "learn.09.wrap.wrong.zero": "Licznik jeszcze się nie zawinął, a nawet po zawinięciu liczy się tylko "
                                "idx & (size − 1).",
    "learn.quiz.09.event_data.q": "Czy zdarzenie wysłane kanałem zdarzeń niesie dane żądania?",
    "learn.quiz.09.event_data.choice.no": "nie: to tylko bit „zajrzyj do bufora”",
    "learn.quiz.09.event_data.choice.yes": "tak: żądanie jedzie w zdarzeniu",
    "learn.quiz.09.event_data.why": "{answer}. Zdarzenie ustawia bit oczekujący; dane leżą w buforze "
                                    "cyklicznym i w udostępnionych stronach.",
    "learn.quiz.09.event_data.wrong.carries": "Zdarzenie nie ma treści; kilka zdarzeń przed obsłużeniem zlewa się "
                                              "w jeden bit.",
    "learn.quiz.09.every.q": "Czy gość powiadamia część zaplecza o każdym żądaniu?",
    "learn.quiz.09.every.choice.no": "nie",
    "learn.quiz.09.every.choice.yes": "tak",
    "learn.quiz.09.every.why": "{answer}: tylko gdy req_event leży wśród właśnie opublikowanych indeksów, czyli "
                               "gdy druga strona poprosiła o obudzenie.",
    "learn.quiz.09.every.wrong.each": "To byłoby kosztowne; pakiety żądań oszczędzają właśnie powiadomienia.",
    "learn.quiz.09.slot.q": "Bufor 32 miejsc, indeks żądania 70. Które to miejsce?",
    "learn.quiz.09.slot.why": "{answer} = 70 & 31.",
    "learn.quiz.09.final.q": "Po co konsument po ustawieniu req_event sprawdza bufor jeszcze raz?",
    "learn.quiz.09.final.choice.race": "żeby nie przegapić żądania z międzyczasu",
    "learn.quiz.09.final.choice.count": "żeby policzyć żądania",
    "learn.quiz.09.final.choice.xen": "bo wymaga tego Xen",
    "learn.quiz.09.final.why": "{answer}: żądanie opublikowane między ostatnim spojrzeniem a ustawieniem "
                               "req_event nie wywoła zdarzenia; bez ponownego sprawdzenia obie strony by zasnęły.",
    # ---- chapter 10: block devices --------------------------------------------------------------
    "learn.10.requests.q": "Gość zapisuje jednym wywołaniem ciąg sektorów o długości {n}. Ile żądań w buforze "
                           "cyklicznym utworzy blkfront?",
    "learn.10.requests.why": "{answer}: żądanie ma najwyżej 11 segmentów po jednej stronie (8 sektorów), czyli "
                             "88 sektorów, a ⌈{n}/88⌉ = {answer}.",
    "learn.10.requests.wrong.per_page": "Jedno żądanie niesie do 11 stron (segmentów), nie jedną.",
    "learn.10.requests.wrong.one": "Żądanie ma ograniczoną liczbę segmentów (11), więc duże I/O się dzieli.",
    "learn.10.first.q": "Gość wstawia w jednym pakiecie odczyty sektorów {sectors} (w tej kolejności). Który "
                        "odczyt skończy się pierwszy?",
    "learn.10.first.why": "sektor {answer}: część zaplecza obsługuje pakiet według numerów sektorów (algorytm "
                          "windy), kolejność zakończenia: {order}.",
    "learn.10.first.wrong.fifo": "Kolejność żądań w buforze nie musi być kolejnością odpowiedzi: część zaplecza "
                                 "może je przestawić.",
    "learn.10.rsp_slot.q": "Te same odczyty: żądanie odczytu sektora {sector} trafiło do miejsca {req_slot}. "
                           "W którym miejscu bufora wyląduje odpowiedź na nie?",
    "learn.10.rsp_slot.why": "w miejscu {answer}: odpowiedź idzie pod rsp_prod_pvt, czyli w kolejne miejsce na "
                             "odpowiedź, w kolejności obsługi ({order}), a nie w miejsce swojego żądania. Gość "
                             "rozpoznaje ją po id.",
    "learn.10.rsp_slot.wrong.same_slot": "Odpowiedź nie wraca w miejsce swojego żądania: część zaplecza pisze pod "
                                         "rsp_prod_pvt.",
    "learn.quiz.10.segments.q": "Ile segmentów może mieć najwyżej jedno `blkif_request`?",
    "learn.quiz.10.segments.why": "{answer} (BLKIF_MAX_SEGMENTS_PER_REQUEST).",
    "learn.quiz.10.match.q": "Skąd blkfront wie, na które żądanie odpowiada odpowiedź?",
    "learn.quiz.10.match.choice.id": "z pola id",
    "learn.quiz.10.match.choice.slot": "z miejsca w buforze",
    "learn.quiz.10.match.choice.order": "z kolejności",
    "learn.quiz.10.match.why": "{answer}: część zaplecza przepisuje id żądania do odpowiedzi, bo miejsce i "
                               "kolejność mogą być inne.",
    "learn.quiz.10.match.wrong.slot": "Odpowiedź trafia pod rsp_prod_pvt, nie w miejsce swojego żądania.",
    "learn.quiz.10.match.wrong.order": "Część zaplecza może zmienić kolejność (algorytm windy).",
    "learn.quiz.10.map.q": "Jak blkback dostaje się do strony gościa z danymi?",
    "learn.quiz.10.map.choice.map": "odwzorowuje ją przez GNTTABOP_map_grant_ref",
    "learn.quiz.10.map.choice.direct": "czyta ją wprost, dom0 widzi całą pamięć",
    "learn.quiz.10.map.choice.event": "dostaje ją w zdarzeniu",
    "learn.quiz.10.map.why": "{answer}: Xen sprawdza w tablicy uprawnień gościa, czy wpis daje tej domenie dostęp.",
    "learn.quiz.10.map.wrong.all_memory": "dom0 nie widzi cudzej pamięci bez zgody: potrzebny jest odnośnik "
                                          "uprawnienia.",
    "learn.quiz.10.bad.q": "Żądanie wychodzi poza koniec dysku. Co się dzieje?",
    "learn.quiz.10.bad.choice.error": "odpowiedź BLKIF_RSP_ERROR, część zaplecza działa dalej",
    "learn.quiz.10.bad.choice.halt": "część zaplecza zatrzymuje bufor",
    "learn.quiz.10.bad.choice.kill": "Xen niszczy gościa",
    "learn.quiz.10.bad.why": "{answer}: błędne dane od gościa to zwykłe dane wejściowe, a nie powód do awarii.",
    # ---- chapter 11: network --------------------------------------------------------------------
    "learn.11.tx.q": "`alpha` (pusta pamięć podręczna ARP) wysyła do `beta` pingi, jeden po drugim, razem: "
                     "{count}. Ile ramek wyjdzie przez bufor TX `alpha`?",
    "learn.11.tx.why": "{answer}: najpierw zapytanie ARP (kto ma 10.0.0.12?), potem po jednym żądaniu echa na "
                       "ping; odpowiedź ARP i odpowiedzi echa wracają buforem RX.",
    "learn.11.tx.wrong.no_arp": "Zanim wyjdzie pierwsze żądanie echa, `alpha` musi poznać adres MAC `beta`.",
    "learn.11.owner.q": "`beta` odbiera przez przerzucanie stron. Do kogo należy ramka maszynowa z odebraną "
                        "ramką Ethernet zaraz po `GNTTABOP_transfer`?",
    "learn.11.owner.choice.Domain-0": "do dom0",
    "learn.11.owner.choice.beta": "do `beta`",
    "learn.11.owner.choice.Xen": "do Xena",
    "learn.11.owner.why": "{answer}: transfer zmienia właściciela strony (ramka {mfn}); w zamian gość oddał "
                          "wcześniej pustą stronę.",
    "learn.11.owner.wrong.copy": "Tak jest przy kopiowaniu (GNTTABOP_copy); przerzucanie oddaje całą stronę.",
    "learn.11.owner.wrong.xen_keeps": "Xen tylko przekazuje stronę; nie zatrzymuje jej.",
    "learn.11.rx.q": "Przed pingami w buforze RX `alpha` czeka tyle żądań (pustych stron): {before}. Ile "
                     "będzie ich czekać po kolejnych pingach do `beta` (razem: {frames})?",
    "learn.11.rx.why": "{answer}: gość po pobraniu każdej odpowiedzi od razu wstawia nowe żądanie, więc kolejka "
                       "żądań RX jest stale pełna.",
    "learn.11.rx.wrong.drains": "Każda odebrana ramka zużywa żądanie, ale gość natychmiast je uzupełnia.",
    "learn.quiz.11.rings.q": "Ile buforów cyklicznych ma jeden wirtualny interfejs sieciowy?",
    "learn.quiz.11.rings.why": "{answer}: TX (wysyłanie) i RX (odbiór).",
    "learn.quiz.11.copy.q": "Przy odbiorze przez kopiowanie (`GNTTABOP_copy`) do kogo należy strona, w której "
                            "ląduje ramka?",
    "learn.quiz.11.copy.choice.guest": "do gościa",
    "learn.quiz.11.copy.choice.dom0": "do dom0",
    "learn.quiz.11.copy.why": "{answer}: Xen kopiuje dane do strony, którą gość udostępnił; nikt nie zmienia "
                              "właściciela.",
    "learn.quiz.11.copy.wrong.dom0": "Tak jest tylko przed skopiowaniem; dane trafiają do strony gościa.",
    "learn.quiz.11.mac.q": "Jakim prefiksem zaczynają się adresy MAC gości Xena?",
    "learn.quiz.11.mac.why": "{answer}: prefiks przydzielony projektowi Xen.",
    "learn.quiz.11.mac.wrong.vmware": "To prefiks VMware (tu: fizyczna karta peth0).",
    "learn.quiz.11.bridge.q": "Co przełącza ramki między interfejsami gości a `peth0`?",
    "learn.quiz.11.bridge.choice.bridge": "most xenbr0 w dom0",
    "learn.quiz.11.bridge.choice.xen": "Xen",
    "learn.quiz.11.bridge.choice.nic": "karta sieciowa",
    "learn.quiz.11.bridge.why": "{answer}: to zwykły most Linuksa w dom0; Xen nie zna Ethernetu.",
    "learn.quiz.11.bridge.wrong.xen": "Xen tylko przekazuje strony i zdarzenia; ramki przełącza dom0.",
    # ---- chapter 12: performance -----------------------------------------------------------------
    "learn.12.null.q": "W tabeli 3 artykułu (lmbench): który system ma najwolniejsze puste wywołanie systemowe?",
    "learn.12.null.why": "{answer}: {us} µs wobec {linux_us} µs natywnie. UML przechwytuje każde wywołanie "
                         "systemowe przez ptrace, co kosztuje kilka przełączeń kontekstu w systemie gospodarza.",
    "learn.12.null.wrong.syscall_via_xen": "Wywołanie systemowe w XenLinuksie nie przechodzi przez Xena: idzie "
                                           "z pierścienia 3 prosto do jądra gościa (0,46 µs).",
    "learn.12.null.wrong.bt": "VMware wykonuje kod użytkownika bezpośrednio; wywołanie kosztuje tam mniej niż "
                              "1 µs.",
    "learn.12.score.q": "Ile procent wyniku natywnego Linuksa osiąga {system} w teście {benchmark} (rysunek 3)?",
    "learn.12.score.why": "około {answer}% (z dokładnością do 10 punktów procentowych przyjmujemy Twoją odpowiedź).",
    "learn.12.cost.q": "Ta sama praca jako gość PV i gość HVM w modelu. Który więcej cykli traci na przejścia "
                       "do Xena?",
    "learn.12.cost.choice.PV": "gość PV",
    "learn.12.cost.choice.HVM": "gość HVM",
    "learn.12.cost.why": "{answer}: przejść jest podobnie wiele (PV {pv_crossings}, HVM {hvm_crossings}), ale "
                         "wyjście z maszyny wirtualnej jest droższe: {hvm_cycles} wobec {pv_cycles} cykli.",
    "learn.12.cost.wrong.hypercalls_costly": "Hiperwywołania są tanie w porównaniu z wyjściem z maszyny wirtualnej, "
                                             "a gość PV dodatkowo łączy aktualizacje w pakiety.",
    "learn.quiz.12.syscall.q": "Czy wywołanie systemowe procesu w XenLinuksie przechodzi przez Xena?",
    "learn.quiz.12.syscall.choice.no": "nie",
    "learn.quiz.12.syscall.choice.yes": "tak",
    "learn.quiz.12.syscall.why": "{answer}: Xen instaluje procedurę jądra gościa bezpośrednio jako bramkę "
                                 "pułapki (int 0x80), więc przejście 3 → 1 odbywa się bez Xena. Hiperwywołania "
                                 "zastępują operacje uprzywilejowane, nie wywołania systemowe.",
    "learn.quiz.12.syscall.wrong.via_xen": "To częsty błąd; wtedy XenLinux nie miałby prawie natywnego "
                                           "„null call”.",
    "learn.quiz.12.vmware.q": "Jak VMware Workstation 3.2 wykonywał jądro gościa na x86 bez VT-x?",
    "learn.quiz.12.vmware.choice.bt": "translacja binarna",
    "learn.quiz.12.vmware.choice.pv": "parawirtualizacja",
    "learn.quiz.12.vmware.choice.vtx": "VT-x",
    "learn.quiz.12.vmware.why": "{answer}: przepisywał kod jądra gościa w locie; procesory z VT-x pojawiły się w 2005 r.",
    "learn.quiz.12.vmware.wrong.vtx": "Procesory z VT-x są młodsze od VMware Workstation 3.2 (2002).",
    "learn.quiz.12.uml.q": "Jak User-Mode Linux przechwytuje wywołania systemowe swoich procesów?",
    "learn.quiz.12.uml.choice.ptrace": "przez ptrace",
    "learn.quiz.12.uml.choice.hypercall": "hiperwywołaniem",
    "learn.quiz.12.uml.choice.vmexit": "przez wyjście z maszyny wirtualnej",
    "learn.quiz.12.uml.why": "{answer}: jądro gościa to zwykły proces Linuksa, który śledzi swoje procesy.",
    "learn.quiz.12.specint.q": "Dlaczego SPEC INT2000 wypada prawie tak samo we wszystkich czterech systemach?",
    "learn.quiz.12.specint.choice.little_os": "prawie nie korzysta z systemu operacyjnego",
    "learn.quiz.12.specint.choice.faster_cpu": "wirtualizacja przyspiesza procesor",
    "learn.quiz.12.specint.why": "{answer}: wirtualizacja kosztuje przy przejściach do jądra i nadzorcy, a tych "
                                 "w obliczeniach prawie nie ma.",
    # ---- chapter 13: domain management ----------------------------------------------------------------
    "learn.13.reboot.q": "Domena `db` ma numer {old}. Jaki numer będzie miała po `xm reboot db`?",
    "learn.13.reboot.why": "{answer}: przy restarcie xend niszczy domenę i buduje ją na nowo, z nowym numerem.",
    "learn.13.reboot.wrong.same_id": "Restart nie zachowuje numeru: to nowa domena z tą samą konfiguracją.",
    "learn.13.running.q": "Procesory fizyczne maszyny: {cpus}; domeny, które bez przerwy liczą: {busy}. Ile "
                          "wierszy `xm list` (z Domain-0) pokaże `r` w kolumnie State?",
    "learn.13.running.why": "{answer}: `r` ma domena, której procesor wirtualny akurat zajmuje procesor fizyczny, "
                            "a jeden z nich zajmuje dom0, bo to w niej działa xm. Gotowych do działania, ale "
                            "czekających (`------`): {runnable}.",
    "learn.13.running.wrong.all_run": "Domen z `r` nie może być więcej niż procesorów fizycznych: reszta czeka "
                                      "i ma `------`.",
    "learn.13.running.wrong.dom0_forgot": "Nie zapomnij o dom0: xm działa w niej, więc ona też ma `r`.",
    "learn.13.cpu.q": "Domena liczy bez przerwy na wszystkich swoich procesorach wirtualnych (jest ich: "
                      "{vcpus}) na maszynie z 4 procesorami fizycznymi. Jaki CPU(%) pokaże xentop?",
    "learn.13.cpu.why": "około {answer}%: CPU(%) = Δ(czas CPU w ns) / 10 / Δ(czas w µs), sumowany po procesorach "
                        "wirtualnych, więc może przekroczyć 100.",
    "learn.13.cpu.wrong.cap100": "100% to jeden zajęty procesor; domena z kilkoma zajętymi procesorami "
                                 "wirtualnymi ma więcej.",
    "learn.quiz.13.pause.q": "Czy po `xm pause` domena zachowuje swoją pamięć?",
    "learn.quiz.13.pause.choice.yes": "tak",
    "learn.quiz.13.pause.choice.no": "nie",
    "learn.quiz.13.pause.why": "{answer}: wstrzymanie tylko zdejmuje ją z planisty.",
    "learn.quiz.13.b.q": "Co znaczy litera `b` w `xm list`?",
    "learn.quiz.13.b.choice.blocked": "wszystkie procesory wirtualne czekają na zdarzenie",
    "learn.quiz.13.b.choice.building": "domena jest budowana",
    "learn.quiz.13.b.choice.paused": "domena jest wstrzymana",
    "learn.quiz.13.b.why": "{answer} (blocked); wstrzymanie to `p`.",
    "learn.quiz.13.reboot.q": "Kto zamyka system przy `xm reboot`?",
    "learn.quiz.13.reboot.choice.guest": "sam gość, poproszony przez XenStore",
    "learn.quiz.13.reboot.choice.xend": "xend niszczy domenę od razu",
    "learn.quiz.13.reboot.why": "{answer}: xend zapisuje `control/shutdown`, gość się zamyka (SCHEDOP_shutdown), "
                                "a potem xend robi to, co każe on_reboot.",
    "learn.quiz.13.two.q": "Domena z dwoma zajętymi procesorami wirtualnymi: jaki CPU(%) w xentop?",
    "learn.quiz.13.two.why": "{answer}: po 100 na każdy zajęty procesor.",
    # ---- chapter 14: save, restore, migration -----------------------------------------------------------
    "learn.14.save.q": "Co pokaże `xm list` dla `web` zaraz po `xm save web plik`?",
    "learn.14.save.choice.paused": "wstrzymaną domenę (`--p---`)",
    "learn.14.save.choice.shutdown": "zamkniętą domenę (`---s--`)",
    "learn.14.save.choice.gone": "nic: domeny nie ma",
    "learn.14.save.why": "{answer}: po zapisaniu pliku xend niszczy domenę i zwalnia jej pamięć; wróci tylko "
                         "przez `xm restore`.",
    "learn.14.save.wrong.save_is_pause": "Zachowanie to nie wstrzymanie: wstrzymana domena trzyma pamięć, a "
                                         "zachowana istnieje już tylko w pliku.",
    "learn.14.save.wrong.stays": "Gość zawiesił się (SHUTDOWN_suspend), ale xend nie zostawia go na liście: "
                                 "niszczy domenę.",
    "learn.14.restore.q": "`web` ma numer {old}. Jaki numer będzie miała po `xm save` i `xm restore`?",
    "learn.14.restore.why": "{answer}: odtworzenie buduje nową domenę, w innych ramkach maszynowych i z nowym "
                            "numerem.",
    "learn.14.restore.wrong.same_id": "Stara domena została zniszczona; odtworzona dostaje nowy numer.",
    "learn.14.stop.q": "Gość brudzi {rate} stron/s w zbiorze 1500 stron. Dlaczego kopiowanie wstępne "
                       "przejdzie do ostatniej iteracji?",
    "learn.14.stop.choice.few_pages": "zostało mniej niż 50 stron",
    "learn.14.stop.choice.rate": "maksymalna prędkość, a wysłano więcej niż poprzednio",
    "learn.14.stop.choice.iterations": "29 iteracji",
    "learn.14.stop.choice.factor": "wysłano ponad 3 razy tyle, ile ma pamięci",
    "learn.14.stop.why": "{answer} (iteracji: {iterations}, przestój {downtime_ms} ms).",
    "learn.14.stop.wrong.few_rule": "Tak kończy się, gdy gość brudzi wolno: kolejne iteracje maleją poniżej 50 "
                                    "stron.",
    "learn.14.stop.wrong.rate_rule": "Ta reguła działa dopiero, gdy gość brudzi szybciej, niż można wysyłać.",
    "learn.14.stop.wrong.iter_rule": "29 iteracji to rzadki bezpiecznik; wcześniej zadziała inna reguła.",
    "learn.14.stop.wrong.factor_rule": "Do trzykrotności pamięci daleko: zbiór zapisywanych stron jest mały.",
    "learn.quiz.14.save_pause.q": "Czy `xm save` to to samo co `xm pause` plus plik?",
    "learn.quiz.14.save_pause.choice.no": "nie",
    "learn.quiz.14.save_pause.choice.yes": "tak",
    "learn.quiz.14.save_pause.why": "{answer}: po zapisaniu domena jest niszczona, a jej pamięć zwolniona; "
                                    "wstrzymana domena trwa w pamięci.",
    "learn.quiz.14.save_pause.wrong.same": "Wykład mówi „pauzuje”, ale Xen 3.0 po zapisie niszczy domenę.",
    "learn.quiz.14.canonical.q": "Co zawierają wpisy tablic stron w zapisanym pliku?",
    "learn.quiz.14.canonical.choice.pfn": "numery pseudofizyczne (PFN)",
    "learn.quiz.14.canonical.choice.mfn": "numery ramek maszynowych (MFN)",
    "learn.quiz.14.canonical.choice.vaddr": "adresy wirtualne",
    "learn.quiz.14.canonical.why": "{answer}: postać kanoniczna; przy odtworzeniu zamienia się je na nowe MFN.",
    "learn.quiz.14.canonical.wrong.mfn": "Na innym komputerze (albo po odtworzeniu) ramki maszynowe będą inne.",
    "learn.quiz.14.logdirty.q": "Skąd Xen wie, które strony wysłać ponownie?",
    "learn.quiz.14.logdirty.choice.bitmap": "z mapy bitowej trybu log-dirty",
    "learn.quiz.14.logdirty.choice.guest": "gość mu mówi",
    "learn.quiz.14.logdirty.choice.compare": "porównuje wszystkie strony",
    "learn.quiz.14.logdirty.why": "{answer}: Xen zaznacza każdą stronę, do której gość zapisał (CLEAN czyta i "
                                  "czyści mapę).",
    "learn.quiz.14.downtime.q": "Z czego składa się czas przestoju przy migracji na żywo?",
    "learn.quiz.14.downtime.choice.last": "ostatnie kopiowanie i wznowienie na nowym hoście",
    "learn.quiz.14.downtime.choice.all": "cała migracja",
    "learn.quiz.14.downtime.choice.first": "pierwsza iteracja",
    "learn.quiz.14.downtime.why": "{answer}: przez resztę czasu gość działa.",
}

EN: dict[str, object] = {
    # ---- chapter 8: time ------------------------------------------------------------------------
    "learn.08.frozen.q": "Domain `web` is paused for {ms} ms. Which of its four clocks stands still meanwhile?",
    "learn.08.frozen.choice.tsc": "the cycle counter (TSC)",
    "learn.08.frozen.choice.system": "system time",
    "learn.08.frozen.choice.virtual": "domain virtual time",
    "learn.08.frozen.choice.wallclock": "wall-clock time",
    "learn.08.frozen.choice.none": "none",
    "learn.08.frozen.why": "{answer} stands still: it counts only the time the domain really runs. System time "
                           "moved by {system_ms:.0f} ms, virtual time by {virtual_ms:.0f} ms.",
    "learn.08.frozen.wrong.system_per_domain": "System time belongs to the machine, not to a domain: nanoseconds "
                                               "since boot, the same for everyone.",
    "learn.08.frozen.wrong.wallclock_own": "Wall-clock time is wc + system time, so it moves with system time; "
                                           "pausing a domain does not stop it.",
    "learn.08.frozen.wrong.tsc_stops": "The TSC counts the physical CPU's ticks, not the domain's: it ticks "
                                       "whether the domain runs or not.",
    "learn.08.frozen.wrong.nothing_stops": "One clock does stop: the one that measures the CPU time the domain "
                                           "has used.",
    "learn.08.shift.q": "The CPU runs at {mhz} MHz. What `tsc_shift` does `set_time_scale` choose so that the "
                        "shifted frequency lies in (1 GHz, 2 GHz]?",
    "learn.08.shift.why": "tsc_shift = {answer}: {mhz} MHz · 2^({answer}) = {shifted_mhz:.0f} MHz, and the "
                          "multiplier tsc_to_system_mul = {mul}. A negative shift is a right shift (a division).",
    "learn.08.shift.wrong.sign": "The right size, the wrong sign: a fast clock has to be slowed down (right shift, "
                                 "negative) and a slow one sped up (left shift, positive).",
    "learn.08.guest_ns.q": "A {mhz} MHz CPU. `vcpu_time_info` holds system_time = 1,000,000,000 ns, and {ticks} "
                           "ticks have passed since the stamp `tsc_timestamp`. What system time (ns) does the "
                           "guest compute?",
    "learn.08.guest_ns.why": "{answer} ns: system_time plus {delta_ns} ns, from ((Δtsc << tsc_shift) · "
                             "tsc_to_system_mul) >> 32 with shift {shift} and mul {mul}. The guest computes it "
                             "itself, with no hypercall.",
    "learn.08.guest_ns.wrong.no_base": "That is only the time since the stamp: the guest still adds the "
                                       "system_time of the stamp.",
    "learn.08.guest_ns.wrong.ticks": "Ticks are not nanoseconds: they must be converted by the CPU's frequency "
                                     "(the tsc_shift and tsc_to_system_mul scale).",
    "learn.quiz.08.version.q": "A guest reads `vcpu_time_info` and sees an odd `version`. What does it do?",
    "learn.quiz.08.version.choice.retry": "reads the structure again",
    "learn.quiz.08.version.choice.use": "uses the values it read",
    "learn.quiz.08.version.choice.hypercall": "asks Xen with a hypercall",
    "learn.quiz.08.version.why": "{answer}: an odd version means Xen is writing the structure; the guest reads "
                                 "again until version is even and the same before and after (like a seqlock).",
    "learn.quiz.08.version.wrong.torn": "The values may be half old, half new: Xen is in the middle of writing.",
    "learn.quiz.08.version.wrong.hypercall": "The whole point of the structure is reading time without a "
                                             "hypercall.",
    "learn.quiz.08.virtual.q": "Which clock advances only while the domain runs?",
    "learn.quiz.08.virtual.choice.tsc": "the cycle counter (TSC)",
    "learn.quiz.08.virtual.choice.system": "system time",
    "learn.quiz.08.virtual.choice.virtual": "domain virtual time",
    "learn.quiz.08.virtual.choice.wallclock": "wall-clock time",
    "learn.quiz.08.virtual.why": "{answer}: the CPU time the domain has used; schedulers are built on it.",
    "learn.quiz.08.virtual.wrong.system": "System time is the machine's and always advances.",
    "learn.quiz.08.wallclock.q": "How does a guest get wall-clock time (the date and time of day)?",
    "learn.quiz.08.wallclock.choice.offset": "wc_sec/wc_nsec from shared_info + system time",
    "learn.quiz.08.wallclock.choice.hypercall": "a hypercall at every read",
    "learn.quiz.08.wallclock.choice.tsc": "from the TSC alone",
    "learn.quiz.08.wallclock.why": "{answer}: wall-clock time is an offset to system time, so Xen can adjust it "
                                   "without touching system time.",
    "learn.quiz.08.wallclock.wrong.hypercall": "No need: everything it takes is in the shared_info page.",
    "learn.quiz.08.timer.q": "Every how many milliseconds does a running domain receive `VIRQ_TIMER`?",
    "learn.quiz.08.timer.why": "every {answer} ms (chapter 6); a one-shot alarm is set with `set_timer_op` on top.",
    # ---- chapter 9: rings -----------------------------------------------------------------------
    "learn.09.notify.q": "A freshly initialised ring of 8 slots. RingLab steps: {steps}. Will the last `push` "
                         "send an event to the back end?",
    "learn.09.notify.choice.yes": "yes",
    "learn.09.notify.choice.no": "no",
    "learn.09.notify.why": "{answer}: req_event = {req_event} and the indices just published are ({old}, {new}]. "
                           "An event goes only when req_event lies in that window.",
    "learn.09.notify.wrong.every_push": "A notification does not go with every request: a back end still at work "
                                        "(it has not moved req_event) will look at the ring anyway.",
    "learn.09.notify.wrong.never_again": "The back end ran out of work and its final check set req_event = "
                                         "req_cons + 1: the next request must wake it.",
    "learn.09.free.q": "A ring of {size} slots. The guest produced and pushed {produced} requests, the back end "
                       "took {taken}, answered {answered} and pushed the responses, and the guest collected "
                       "{collected} of them. How many more requests can the guest produce?",
    "learn.09.free.why": "{answer}: free = size − (req_prod_pvt − rsp_cons) = {size} − ({produced} − {collected}). "
                         "A slot is freed only when the guest collects the response.",
    "learn.09.free.wrong.on_take": "The back end taking a request frees no slot: a response will stand there.",
    "learn.09.free.wrong.on_answer": "A response holds its slot until the guest collects it (rsp_cons).",
    "learn.09.wrap.q": "The ring has {size} slots and req_prod_pvt = {index} (just before the 32-bit counter "
                       "wraps). Which slot does the next request go into?",
    "learn.09.wrap.why": "slot {answer} = {index} & ({size} − 1). The indices run free and wrap only at 2³²; 2³² "
                         "is a multiple of the size, so the slots go round in order through the wrap too.",
    "learn.09.wrap.wrong.zero": "The counter has not wrapped yet, and even when it does, only idx & (size − 1) "
                                "counts.",
    "learn.quiz.09.event_data.q": "Does an event sent over an event channel carry the request's data?",
    "learn.quiz.09.event_data.choice.no": "no: it is only a 'look at the ring' bit",
    "learn.quiz.09.event_data.choice.yes": "yes: the request travels in the event",
    "learn.quiz.09.event_data.why": "{answer}. An event sets a pending bit; the data is in the ring and the "
                                    "granted pages.",
    "learn.quiz.09.event_data.wrong.carries": "An event has no content; several events before it is handled "
                                              "merge into one bit.",
    "learn.quiz.09.every.q": "Does the guest notify the back end of every request?",
    "learn.quiz.09.every.choice.no": "no",
    "learn.quiz.09.every.choice.yes": "yes",
    "learn.quiz.09.every.why": "{answer}: only when req_event lies among the indices just published, i.e. when "
                               "the other side asked to be woken.",
    "learn.quiz.09.every.wrong.each": "That would be expensive; batching saves exactly these notifications.",
    "learn.quiz.09.slot.q": "A ring of 32 slots, request index 70. Which slot is it?",
    "learn.quiz.09.slot.why": "{answer} = 70 & 31.",
    "learn.quiz.09.final.q": "Why does a consumer check the ring once more after setting req_event?",
    "learn.quiz.09.final.choice.race": "not to miss a request published meanwhile",
    "learn.quiz.09.final.choice.count": "to count the requests",
    "learn.quiz.09.final.choice.xen": "because Xen demands it",
    "learn.quiz.09.final.why": "{answer}: a request published between its last look and the new req_event raises "
                               "no event; without the second check both sides would sleep.",
    # ---- chapter 10: block devices --------------------------------------------------------------
    "learn.10.requests.q": "A guest writes {n} sectors in one call. How many ring requests does blkfront make?",
    "learn.10.requests.why": "{answer}: a request has at most 11 segments of one page (8 sectors) each, i.e. 88 "
                             "sectors, and ⌈{n}/88⌉ = {answer}.",
    "learn.10.requests.wrong.per_page": "One request carries up to 11 pages (segments), not one.",
    "learn.10.requests.wrong.one": "A request has a bounded number of segments (11), so a large I/O is split.",
    "learn.10.first.q": "A guest puts reads of sectors {sectors} (in this order) into the ring in one batch. "
                        "Which read completes first?",
    "learn.10.first.why": "sector {answer}: the back end serves a batch in sector order (an elevator); completion "
                          "order: {order}.",
    "learn.10.first.wrong.fifo": "The order of requests in the ring need not be the order of responses: the back "
                                 "end may reorder them.",
    "learn.10.rsp_slot.q": "The same reads: the request to read sector {sector} went into slot {req_slot}. Which "
                           "slot of the ring does its response land in?",
    "learn.10.rsp_slot.why": "slot {answer}: a response goes at rsp_prod_pvt, into the next response slot in the "
                             "order of service ({order}), not into its request's slot. The guest matches it by id.",
    "learn.10.rsp_slot.wrong.same_slot": "A response does not go back into its request's slot: the back end "
                                         "writes at rsp_prod_pvt.",
    "learn.quiz.10.segments.q": "At most how many segments may one `blkif_request` have?",
    "learn.quiz.10.segments.why": "{answer} (BLKIF_MAX_SEGMENTS_PER_REQUEST).",
    "learn.quiz.10.match.q": "How does blkfront know which request a response answers?",
    "learn.quiz.10.match.choice.id": "by the id field",
    "learn.quiz.10.match.choice.slot": "by its slot in the ring",
    "learn.quiz.10.match.choice.order": "by the order",
    "learn.quiz.10.match.why": "{answer}: the back end copies the request's id into the response, because the "
                               "slot and the order may differ.",
    "learn.quiz.10.match.wrong.slot": "A response goes at rsp_prod_pvt, not into its request's slot.",
    "learn.quiz.10.match.wrong.order": "The back end may reorder (an elevator).",
    "learn.quiz.10.map.q": "How does blkback get at the guest's page holding the data?",
    "learn.quiz.10.map.choice.map": "it maps it with GNTTABOP_map_grant_ref",
    "learn.quiz.10.map.choice.direct": "it reads it directly, dom0 sees all memory",
    "learn.quiz.10.map.choice.event": "it receives it in the event",
    "learn.quiz.10.map.why": "{answer}: Xen checks in the guest's grant table that the entry allows this domain "
                             "access.",
    "learn.quiz.10.map.wrong.all_memory": "dom0 does not see another domain's memory without its consent: it needs "
                                          "a grant reference.",
    "learn.quiz.10.bad.q": "A request goes past the end of the disk. What happens?",
    "learn.quiz.10.bad.choice.error": "a BLKIF_RSP_ERROR response, the back end carries on",
    "learn.quiz.10.bad.choice.halt": "the back end halts the ring",
    "learn.quiz.10.bad.choice.kill": "Xen destroys the guest",
    "learn.quiz.10.bad.why": "{answer}: bad data from a guest is ordinary input, not a reason to fail.",
    # ---- chapter 11: network --------------------------------------------------------------------
    "learn.11.tx.q": "`alpha` (an empty ARP cache) sends {count} pings to `beta`. How many frames leave through "
                     "`alpha`'s TX ring?",
    "learn.11.tx.why": "{answer}: first an ARP request (who has 10.0.0.12?), then one echo request per ping; the "
                       "ARP reply and the echo replies come back through RX.",
    "learn.11.tx.wrong.no_arp": "Before the first echo request can leave, `alpha` must learn `beta`'s MAC address.",
    "learn.11.owner.q": "`beta` receives by page flipping. Who owns the machine frame holding the received Ethernet "
                        "frame right after `GNTTABOP_transfer`?",
    "learn.11.owner.choice.Domain-0": "dom0",
    "learn.11.owner.choice.beta": "`beta`",
    "learn.11.owner.choice.Xen": "Xen",
    "learn.11.owner.why": "{answer}: a transfer changes the page's owner (frame {mfn}); in exchange the guest gave "
                          "an empty page away earlier.",
    "learn.11.owner.wrong.copy": "That is how copying (GNTTABOP_copy) works; flipping gives the whole page away.",
    "learn.11.owner.wrong.xen_keeps": "Xen only passes the page on; it does not keep it.",
    "learn.11.rx.q": "How many requests (empty pages) wait in `alpha`'s RX ring after {frames} pings, if {before} "
                     "waited before them?",
    "learn.11.rx.why": "{answer}: after collecting each response the guest posts a new request at once, so the RX "
                       "request queue stays full.",
    "learn.11.rx.wrong.drains": "Each received frame uses up a request, but the guest refills it at once.",
    "learn.quiz.11.rings.q": "How many rings does one virtual network interface have?",
    "learn.quiz.11.rings.why": "{answer}: TX (sending) and RX (receiving).",
    "learn.quiz.11.copy.q": "With receive by copying (`GNTTABOP_copy`), who owns the page the frame lands in?",
    "learn.quiz.11.copy.choice.guest": "the guest",
    "learn.quiz.11.copy.choice.dom0": "dom0",
    "learn.quiz.11.copy.why": "{answer}: Xen copies the data into a page the guest granted; no owner changes.",
    "learn.quiz.11.copy.wrong.dom0": "Only before the copy; the data ends up in the guest's page.",
    "learn.quiz.11.mac.q": "Which prefix do Xen guests' MAC addresses start with?",
    "learn.quiz.11.mac.why": "{answer}: the prefix assigned to the Xen project.",
    "learn.quiz.11.mac.wrong.vmware": "That is VMware's prefix (here: the physical card peth0).",
    "learn.quiz.11.bridge.q": "What switches frames between the guests' interfaces and `peth0`?",
    "learn.quiz.11.bridge.choice.bridge": "the bridge xenbr0 in dom0",
    "learn.quiz.11.bridge.choice.xen": "Xen",
    "learn.quiz.11.bridge.choice.nic": "the network card",
    "learn.quiz.11.bridge.why": "{answer}: an ordinary Linux bridge in dom0; Xen knows nothing of Ethernet.",
    "learn.quiz.11.bridge.wrong.xen": "Xen only passes pages and events; dom0 switches the frames.",
    # ---- chapter 12: performance -----------------------------------------------------------------
    "learn.12.null.q": "In the paper's Table 3 (lmbench): which system has the slowest null system call?",
    "learn.12.null.why": "{answer}: {us} µs against {linux_us} µs native. UML catches every system call with "
                         "ptrace, which costs several context switches in the host.",
    "learn.12.null.wrong.syscall_via_xen": "A system call in XenLinux does not go through Xen: it goes from ring 3 "
                                           "straight to the guest kernel (0.46 µs).",
    "learn.12.null.wrong.bt": "VMware runs user code directly; a system call costs less than 1 µs there.",
    "learn.12.score.q": "What percentage of native Linux's score does {system} reach in {benchmark} (Figure 3)?",
    "learn.12.score.why": "about {answer}% (your answer counts within 10 percentage points).",
    "learn.12.cost.q": "The same work as a PV and as an HVM guest on the model. Which loses more cycles crossing "
                       "into Xen?",
    "learn.12.cost.choice.PV": "the PV guest",
    "learn.12.cost.choice.HVM": "the HVM guest",
    "learn.12.cost.why": "{answer}: the crossings are about as many (PV {pv_crossings}, HVM {hvm_crossings}), but a "
                         "VM exit costs more: {hvm_cycles} against {pv_cycles} cycles.",
    "learn.12.cost.wrong.hypercalls_costly": "Hypercalls are cheap next to a VM exit, and the PV guest batches its "
                                             "updates too.",
    "learn.quiz.12.syscall.q": "Does a system call of a XenLinux process go through Xen?",
    "learn.quiz.12.syscall.choice.no": "no",
    "learn.quiz.12.syscall.choice.yes": "yes",
    "learn.quiz.12.syscall.why": "{answer}: Xen installs the guest kernel's handler directly as a trap gate "
                                 "(int 0x80), so the 3 → 1 switch happens without Xen. Hypercalls replace "
                                 "privileged operations, not system calls.",
    "learn.quiz.12.syscall.wrong.via_xen": "A common mistake; XenLinux's null call would then be far from native.",
    "learn.quiz.12.vmware.q": "How did VMware Workstation 3.2 run a guest kernel on x86 without VT-x?",
    "learn.quiz.12.vmware.choice.bt": "binary translation",
    "learn.quiz.12.vmware.choice.pv": "paravirtualisation",
    "learn.quiz.12.vmware.choice.vtx": "VT-x",
    "learn.quiz.12.vmware.why": "{answer}: it rewrote the guest kernel's code on the fly; VT-x arrived in 2005.",
    "learn.quiz.12.vmware.wrong.vtx": "VT-x is younger than VMware Workstation 3.2 (2002).",
    "learn.quiz.12.uml.q": "How does User-Mode Linux catch its processes' system calls?",
    "learn.quiz.12.uml.choice.ptrace": "with ptrace",
    "learn.quiz.12.uml.choice.hypercall": "with a hypercall",
    "learn.quiz.12.uml.choice.vmexit": "with a VM exit",
    "learn.quiz.12.uml.why": "{answer}: the guest kernel is an ordinary Linux process tracing its own processes.",
    "learn.quiz.12.specint.q": "Why does SPEC INT2000 score almost the same on all four systems?",
    "learn.quiz.12.specint.choice.little_os": "it hardly uses the operating system",
    "learn.quiz.12.specint.choice.faster_cpu": "virtualisation speeds up the CPU",
    "learn.quiz.12.specint.why": "{answer}: virtualisation costs at crossings into the kernel and the hypervisor, "
                                 "and pure computation has hardly any.",
    # ---- chapter 13: domain management ----------------------------------------------------------------
    "learn.13.reboot.q": "Domain `db` has id {old}. What id will it have after `xm reboot db`?",
    "learn.13.reboot.why": "{answer}: on a reboot xend destroys the domain and builds it again, with a new id.",
    "learn.13.reboot.wrong.same_id": "A reboot does not keep the id: it is a new domain with the same config.",
    "learn.13.running.q": "The machine has {cpus} physical CPUs and {busy} domains that compute all the time. How "
                          "many rows of `xm list` (Domain-0 included) show `r` in the State column?",
    "learn.13.running.why": "{answer}: `r` means a virtual CPU of the domain sits on a physical CPU right now, and "
                            "dom0 holds one of them, since xm runs in it. Runnable but waiting (`------`): "
                            "{runnable}.",
    "learn.13.running.wrong.all_run": "There cannot be more `r` domains than physical CPUs: the others wait and "
                                      "show `------`.",
    "learn.13.running.wrong.dom0_forgot": "Do not forget dom0: xm runs in it, so it is `r` too.",
    "learn.13.cpu.q": "A domain with {vcpus} virtual CPUs computes all the time on a 4-CPU machine. What CPU(%) "
                      "does xentop show?",
    "learn.13.cpu.why": "about {answer}%: CPU(%) = Δ(CPU time in ns) / 10 / Δ(time in µs), summed over the "
                        "virtual CPUs, so it can exceed 100.",
    "learn.13.cpu.wrong.cap100": "100% is one busy CPU; a domain with several busy virtual CPUs shows more.",
    "learn.quiz.13.pause.q": "Does a domain keep its memory after `xm pause`?",
    "learn.quiz.13.pause.choice.yes": "yes",
    "learn.quiz.13.pause.choice.no": "no",
    "learn.quiz.13.pause.why": "{answer}: pausing only takes it off the scheduler.",
    "learn.quiz.13.b.q": "What does the letter `b` mean in `xm list`?",
    "learn.quiz.13.b.choice.blocked": "all its virtual CPUs wait for an event",
    "learn.quiz.13.b.choice.building": "the domain is being built",
    "learn.quiz.13.b.choice.paused": "the domain is paused",
    "learn.quiz.13.b.why": "{answer} (blocked); paused is `p`.",
    "learn.quiz.13.reboot.q": "Who shuts the system down on `xm reboot`?",
    "learn.quiz.13.reboot.choice.guest": "the guest itself, asked through XenStore",
    "learn.quiz.13.reboot.choice.xend": "xend destroys the domain at once",
    "learn.quiz.13.reboot.why": "{answer}: xend writes `control/shutdown`, the guest shuts down (SCHEDOP_shutdown), "
                                "and xend then does what on_reboot says.",
    "learn.quiz.13.two.q": "A domain with two busy virtual CPUs: what CPU(%) in xentop?",
    "learn.quiz.13.two.why": "{answer}: 100 for each busy CPU.",
    # ---- chapter 14: save, restore, migration -----------------------------------------------------------
    "learn.14.save.q": "What does `xm list` show for `web` right after `xm save web file`?",
    "learn.14.save.choice.paused": "a paused domain (`--p---`)",
    "learn.14.save.choice.shutdown": "a shut-down domain (`---s--`)",
    "learn.14.save.choice.gone": "nothing: the domain is gone",
    "learn.14.save.why": "{answer}: once the file is written xend destroys the domain and frees its memory; it "
                         "comes back only through `xm restore`.",
    "learn.14.save.wrong.save_is_pause": "Saving is not pausing: a paused domain keeps its memory, a saved one "
                                         "exists only in the file.",
    "learn.14.save.wrong.stays": "The guest has suspended (SHUTDOWN_suspend), but xend does not leave it on the "
                                 "list: it destroys the domain.",
    "learn.14.restore.q": "`web` has id {old}. What id will it have after `xm save` and `xm restore`?",
    "learn.14.restore.why": "{answer}: restoring builds a new domain, in other machine frames and with a new id.",
    "learn.14.restore.wrong.same_id": "The old domain was destroyed; the restored one gets a new id.",
    "learn.14.stop.q": "A guest dirties {rate} pages/s over a set of 1500 pages. Why will the pre-copy move on to "
                       "the last iteration?",
    "learn.14.stop.choice.few_pages": "fewer than 50 pages are left",
    "learn.14.stop.choice.rate": "at the maximum rate and sending more than last time",
    "learn.14.stop.choice.iterations": "29 iterations",
    "learn.14.stop.choice.factor": "over 3 times its memory has been sent",
    "learn.14.stop.why": "{answer} ({iterations} iterations, downtime {downtime_ms} ms).",
    "learn.14.stop.wrong.few_rule": "That is how it ends when the guest dirties slowly: the iterations shrink "
                                    "below 50 pages.",
    "learn.14.stop.wrong.rate_rule": "That rule fires only when the guest dirties faster than we can send.",
    "learn.14.stop.wrong.iter_rule": "29 iterations is a rare safety net; another rule fires first.",
    "learn.14.stop.wrong.factor_rule": "Three times the memory is far off: the writable working set is small.",
    "learn.quiz.14.save_pause.q": "Is `xm save` the same as `xm pause` plus a file?",
    "learn.quiz.14.save_pause.choice.no": "no",
    "learn.quiz.14.save_pause.choice.yes": "yes",
    "learn.quiz.14.save_pause.why": "{answer}: once saved the domain is destroyed and its memory freed; a paused "
                                    "domain stays in memory.",
    "learn.quiz.14.save_pause.wrong.same": "The lecture says \"pauses\", but Xen 3.0 destroys the domain after "
                                           "the save.",
    "learn.quiz.14.canonical.q": "What do the page-table entries in a saved file hold?",
    "learn.quiz.14.canonical.choice.pfn": "pseudo-physical frame numbers (PFN)",
    "learn.quiz.14.canonical.choice.mfn": "machine frame numbers (MFN)",
    "learn.quiz.14.canonical.choice.vaddr": "virtual addresses",
    "learn.quiz.14.canonical.why": "{answer}: the canonical form; restore turns them into the new MFNs.",
    "learn.quiz.14.canonical.wrong.mfn": "On another computer (or after a restore) the machine frames differ.",
    "learn.quiz.14.logdirty.q": "How does Xen know which pages to send again?",
    "learn.quiz.14.logdirty.choice.bitmap": "from the log-dirty bitmap",
    "learn.quiz.14.logdirty.choice.guest": "the guest tells it",
    "learn.quiz.14.logdirty.choice.compare": "it compares every page",
    "learn.quiz.14.logdirty.why": "{answer}: Xen marks every page the guest writes to (CLEAN reads and clears the "
                                  "bitmap).",
    "learn.quiz.14.downtime.q": "What is the downtime of a live migration made of?",
    "learn.quiz.14.downtime.choice.last": "the last copy and the resume on the new host",
    "learn.quiz.14.downtime.choice.all": "the whole migration",
    "learn.quiz.14.downtime.choice.first": "the first iteration",
    "learn.quiz.14.downtime.why": "{answer}: the rest of the time the guest runs.",
}
