"""Strings of the toolstack's refusals and failures (xm save, restore, migrate, create).

xm prints every error as ``Error: <message>``; the word "Error:" is xm's own output and stays as it
is, the message after it comes from here.
"""

PL: dict[str, object] = {
    # xm save: the target, checked before the guest is suspended
    "toolstack.target.prefix": "nie można zapisać pliku stanu gościa {path}: {reason}",
    "toolstack.target.no_dir": "katalog {folder} nie istnieje",
    "toolstack.target.is_dir": "to jest katalog",
    "toolstack.target.denied": "brak uprawnień do zapisu",
    "toolstack.target.no_space": "brak miejsca na urządzeniu",
    "toolstack.target.other": "{reason}",
    # a save or a migration that failed: what became of the domain
    "toolstack.save.resumed": "Zachowanie domeny {name} nie powiodło się ({reason}). Domena została "
                              "wznowiona (ID {domid}) i działa dalej.",
    "toolstack.save.running": "Zachowanie domeny {name} nie powiodło się, zanim domena została zawieszona "
                              "({reason}). Domena działa dalej.",
    "toolstack.save.gone": "Zachowanie domeny {name} przerwano: w trakcie domena sama się zamknęła ({reason}).",
    "toolstack.save.lost": "Zachowanie domeny {name} nie powiodło się ({reason}), a Xen odmówił jej "
                           "odbudowania po wznowieniu ({why}): domeny już nie ma.",
    "toolstack.save.stuck": "Zachowanie domeny {name} nie powiodło się ({reason}), a wznowienie też się nie "
                            "udało ({why}): domena pozostaje zawieszona (stan s), jej pamięć jest nienaruszona.",
    "toolstack.migrate.resumed": "Migracja domeny {name} do {host} nie powiodła się ({reason}). Domena "
                                 "została wznowiona na tym hoście (ID {domid}) i działa dalej.",
    "toolstack.migrate.running": "Migracja domeny {name} do {host} nie powiodła się, zanim domena została "
                                 "zawieszona ({reason}). Domena działa dalej na tym hoście.",
    "toolstack.migrate.no_memory": "host docelowy ma {free} MiB wolnej pamięci, a domena {name} potrzebuje "
                                   "{need} MiB",
    "toolstack.resume.no_memory": "za mało wolnych ramek do wznowienia (potrzeba: {need})",
    # restore: the image is checked whole before anything is built
    "toolstack.restore.failed": "Odtworzenie nie powiodło się: {reason}",
    "toolstack.restore.not_found": "plik {path!r} nie istnieje",
    "toolstack.restore.unreadable": "nie można odczytać pliku {path}: {reason}",
    "toolstack.restore.too_big": "obraz ma już {size} B, więcej niż zajmuje każde zachowanie domeny o "
                                 "{memory} MiB (najwyżej {limit} B): uszkodzony plik?",
    "toolstack.restore.max_pfn": "liczba stron w obrazie (max_pfn) to {max_pfn}, a konfiguracja w nim mówi "
                                 "o {memory} MiB, czyli {pages} stronach",
    "toolstack.restore.bad_tag": "strona pfn {pfn:#x} ma nieznany typ {tag:#010x}: uszkodzony plik",
    "toolstack.restore.pt_pfn": "tablica stron (typ L{level}) w pfn {pfn:#x}: wpis {index} wskazuje ramkę "
                                "pfn {target:#x} spoza obrazu (max_pfn {max_pfn:#x}): uszkodzony plik",
    "toolstack.restore.unmapped": "niezmapowany pfn {pfn:#x} leży poza obrazem (max_pfn {max_pfn:#x})",
    "toolstack.restore.suspend_record": "rekord zawieszenia (EDX) wskazuje pfn {pfn:#x}, a to nie jest "
                                        "zwykła strona obrazu (max_pfn {max_pfn:#x})",
    "toolstack.restore.cr3_zero": "CR3 w kontekście VCPU 0 wynosi 0: gość nie ma tablicy stron najwyższego "
                                  "poziomu (uszkodzony plik)",
    "toolstack.restore.cr3_range": "CR3 {cr3:#x} wskazuje pfn {pfn:#x} poza obrazem (max_pfn {max_pfn:#x})",
    "toolstack.restore.cr3_type": "CR3 {cr3:#x} wskazuje pfn {pfn:#x}, który w obrazie nie jest tablicą "
                                  "stron {want} (jest: {got})",
    "toolstack.restore.resume_record": "strona start_info nie zawiera poprawnego rekordu wznowienia "
                                       "gościa ({why})",
    "toolstack.restore.trailing": "po stronie shared_info obraz ciągnie się dalej ({extra} B): uszkodzony plik",
    "toolstack.restore.kind": "obraz opisuje gościa HVM; Xen 3.0 zapisuje i odtwarza tylko gości PV",
    "toolstack.restore.vcpus": "rekord wznowienia opisuje {found} VCPU, a konfiguracja {vcpus}",
    # xm create: config files and values
    "toolstack.config.unreadable": "nie można odczytać pliku konfiguracji {path}: {reason}",
    "toolstack.config.too_big": "plik konfiguracji {path} jest większy niż {limit} B: to nie jest "
                                "konfiguracja domeny",
    "toolstack.config.not_text": "plik konfiguracji {path} nie jest tekstem UTF-8 (bajt {offset})",
    "toolstack.config.not_file": "{path} nie jest zwykłym plikiem",
    "toolstack.config.too_deep": "wyrażenie jest zbyt głęboko zagnieżdżone lub za duże",
    "toolstack.config.cpus_syntax": "cpus={spec!r}: {part!r} nie jest numerem ani zakresem procesorów",
    "toolstack.config.cpus_range": "cpus={spec!r}: procesor {cpu} nie istnieje (Xen 3.0 obsługuje "
                                   "najwyżej NR_CPUS = {limit})",
    "toolstack.config.too_much": "{option}={value}: więcej niż {limit} MiB, które może zaadresować Xen 3.0 "
                                 "na x86_32 (PAE)",
    "toolstack.config.sched_key": "sched: nieznany parametr {param!r} planisty {sched} (znane: {known})",
    "toolstack.config.sched_value": "sched: parametr {param!r} musi być liczbą, a jest {value!r}",
    "toolstack.config.vif_key": "vif {spec!r}: nieznany klucz {param!r} (znane: {known})",
    "toolstack.config.vif_mac": "vif {spec!r}: {mac!r} nie jest adresem MAC (sześć bajtów szesnastkowo, "
                                "np. 00:16:3e:00:00:01)",
    "toolstack.config.vif_multicast": "vif {spec!r}: {mac!r} to adres grupowy (multicast); karta sieciowa "
                                      "potrzebuje adresu pojedynczego",
    "toolstack.config.vif_ip": "vif {spec!r}: {ip!r} nie jest adresem IPv4",
    "toolstack.config.vif_rx": "vif {spec!r}: rx={rx!r}, a dozwolone są copy i flip",
    "toolstack.config.vif_dup_mac": "vif: adres MAC {mac} powtarza się w dwóch interfejsach",
    "toolstack.config.bridge": "vif {spec!r}: most {bridge!r} nie istnieje w domenie 0 (jest: {known})",
    "toolstack.config.disk_dup_dev": "disk: urządzenie {dev} występuje dwa razy",
    "toolstack.config.disk_dup_file": "disk: plik {path} jest podłączony dwa razy, w tym do zapisu "
                                      "(tryb w); dwa zapisujące nadpisywałyby sobie dane",
    "toolstack.config.disk_readonly": "disk {spec!r}: obrazu {path} nie można otworzyć do zapisu ({reason}); "
                                      "podłącz go w trybie r",
    "toolstack.config.bad_value": "{option}: {problem}",
}

EN: dict[str, object] = {
    # xm save: the target, checked before the guest is suspended
    "toolstack.target.prefix": "can't write guest state file {path}: {reason}",
    "toolstack.target.no_dir": "the directory {folder} does not exist",
    "toolstack.target.is_dir": "it is a directory",
    "toolstack.target.denied": "permission denied",
    "toolstack.target.no_space": "no space left on the device",
    "toolstack.target.other": "{reason}",
    # a save or a migration that failed: what became of the domain
    "toolstack.save.resumed": "Saving domain {name} failed ({reason}). The domain was resumed (ID {domid}) "
                              "and runs on.",
    "toolstack.save.running": "Saving domain {name} failed before it was suspended ({reason}). The domain "
                              "runs on.",
    "toolstack.save.gone": "Saving domain {name} stopped: the domain shut down by itself meanwhile ({reason}).",
    "toolstack.save.lost": "Saving domain {name} failed ({reason}) and Xen refused to rebuild it for the "
                           "resume ({why}): the domain is gone.",
    "toolstack.save.stuck": "Saving domain {name} failed ({reason}) and resuming it failed too ({why}): the "
                            "domain stays suspended (state s), its memory untouched.",
    "toolstack.migrate.resumed": "Migrating domain {name} to {host} failed ({reason}). The domain was resumed "
                                 "on this host (ID {domid}) and runs on.",
    "toolstack.migrate.running": "Migrating domain {name} to {host} failed before the domain was suspended "
                                 "({reason}). The domain runs on, on this host.",
    "toolstack.migrate.no_memory": "the target host has {free} MiB free and domain {name} needs {need} MiB",
    "toolstack.resume.no_memory": "{need} free frames are needed to resume it",
    # restore: the image is checked whole before anything is built
    "toolstack.restore.failed": "Restore failed: {reason}",
    "toolstack.restore.not_found": "file {path!r} not found",
    "toolstack.restore.unreadable": "cannot read the file {path}: {reason}",
    "toolstack.restore.too_big": "the image has {size} bytes already, more than any save of a {memory} MiB "
                                 "domain takes (at most {limit}): corrupt file?",
    "toolstack.restore.max_pfn": "the image has {max_pfn} pages but the config in it says {memory} MiB "
                                 "({pages} pages)",
    "toolstack.restore.bad_tag": "page pfn {pfn:#x} has an unknown type {tag:#010x}: corrupt file",
    "toolstack.restore.pt_pfn": "page table (L{level}) at pfn {pfn:#x}: entry {index} points at pfn "
                                "{target:#x}, outside the image (max_pfn {max_pfn:#x}): corrupt file",
    "toolstack.restore.unmapped": "unmapped pfn {pfn:#x} is outside the image (max_pfn {max_pfn:#x})",
    "toolstack.restore.suspend_record": "the suspend record (EDX) names pfn {pfn:#x}, which is not a plain "
                                        "page of the image (max_pfn {max_pfn:#x})",
    "toolstack.restore.cr3_zero": "CR3 in vcpu 0's context is 0: the guest has no top-level page table "
                                  "(corrupt file)",
    "toolstack.restore.cr3_range": "CR3 {cr3:#x} names pfn {pfn:#x}, outside the image (max_pfn {max_pfn:#x})",
    "toolstack.restore.cr3_type": "CR3 {cr3:#x} names pfn {pfn:#x}, which the image does not mark as an {want} "
                                  "page table (it is: {got})",
    "toolstack.restore.resume_record": "the start_info page holds no valid guest resume record ({why})",
    "toolstack.restore.trailing": "the image goes on for {extra} bytes after the shared_info page: corrupt file",
    "toolstack.restore.kind": "the image describes an HVM guest; Xen 3.0 saves and restores PV guests only",
    "toolstack.restore.vcpus": "the resume record describes {found} VCPUs, the config {vcpus}",
    # xm create: config files and values
    "toolstack.config.unreadable": "cannot read the config file {path}: {reason}",
    "toolstack.config.too_big": "the config file {path} is larger than {limit} bytes: not a domain config",
    "toolstack.config.not_text": "the config file {path} is not UTF-8 text (byte {offset})",
    "toolstack.config.not_file": "{path} is not a regular file",
    "toolstack.config.too_deep": "the expression is nested too deeply or too large",
    "toolstack.config.cpus_syntax": "cpus={spec!r}: {part!r} is not a CPU number or range",
    "toolstack.config.cpus_range": "cpus={spec!r}: CPU {cpu} does not exist (Xen 3.0 supports at most {limit} "
                                   "CPUs, NR_CPUS)",
    "toolstack.config.too_much": "{option}={value}: more than the {limit} MiB Xen 3.0 on x86_32 (PAE) can address",
    "toolstack.config.sched_key": "sched: the {sched} scheduler has no parameter {param!r} (known: {known})",
    "toolstack.config.sched_value": "sched: parameter {param!r} must be a number, got {value!r}",
    "toolstack.config.vif_key": "vif {spec!r}: unknown key {param!r} (known: {known})",
    "toolstack.config.vif_mac": "vif {spec!r}: {mac!r} is not a MAC address (six hex bytes, "
                                "e.g. 00:16:3e:00:00:01)",
    "toolstack.config.vif_multicast": "vif {spec!r}: {mac!r} is a multicast address; a network card needs "
                                      "a unicast one",
    "toolstack.config.vif_ip": "vif {spec!r}: {ip!r} is not an IPv4 address",
    "toolstack.config.vif_rx": "vif {spec!r}: rx={rx!r}, allowed are copy and flip",
    "toolstack.config.vif_dup_mac": "vif: the MAC address {mac} is used by two interfaces",
    "toolstack.config.bridge": "vif {spec!r}: bridge {bridge!r} does not exist in domain 0 (there is: {known})",
    "toolstack.config.disk_dup_dev": "disk: device {dev} is given twice",
    "toolstack.config.disk_dup_file": "disk: the file {path} is attached twice, at least once writable "
                                      "(mode w); two writers would overwrite each other's data",
    "toolstack.config.disk_readonly": "disk {spec!r}: the image {path} cannot be opened for writing ({reason}); "
                                      "attach it with mode r",
    "toolstack.config.bad_value": "{option}: {problem}",
}
