"""Strings of the CPU chapter's views: the hypercall tracer, event channels, the four clocks."""

PL: dict[str, object] = {
    # the hypercall tracer (chapter 5)
    "viz.cpu.tracer.title": "Hiperwywołania: liczba wywołań",
    "viz.cpu.tracer.filter": "Filtr",
    "viz.cpu.tracer.domain": "Domena",
    "viz.cpu.tracer.all": "wszystkie",
    "viz.cpu.tracer.run": "Uruchom 10 ms",
    "viz.cpu.tracer.back": "Krok wstecz",
    "viz.cpu.tracer.forward": "Krok naprzód",
    "viz.cpu.tracer.rings": "Przejścia między pierścieniami ochrony",
    "viz.cpu.tracer.ring_axis": "pierścień",
    "viz.cpu.tracer.step": "Krok {i} z {n}: {text}",
    "viz.cpu.tracer.empty": "Brak zarejestrowanych zdarzeń.",
    "viz.cpu.tracer.columns": "czas [ms]|domena|vcpu|hiperwywołanie|argumenty|wynik",
    # every CPU-chapter view
    "viz.cpu.error": "Błąd w widżecie: {error}",
    # event channels (chapter 6)
    "viz.cpu.evtchn.title": "Kanały zdarzeń domeny {domid}: oczekujące (P) i zamaskowane (M)",
    "viz.cpu.evtchn.animate": "Pokaż dostarczenie",
    "viz.cpu.evtchn.port": "Port",
    "viz.cpu.evtchn.refresh": "Odśwież",
    "viz.cpu.evtchn.step1": "1. ustaw bit oczekiwania portu {port} (był: {was})",
    "viz.cpu.evtchn.step2": "2. port zamaskowany? {masked}",
    "viz.cpu.evtchn.step3": "3. ustaw bit {word} selektora evtchn_pending_sel (był: {was})",
    "viz.cpu.evtchn.step4": "4. ustaw evtchn_upcall_pending (było: {was}) i obudź vcpu",
    "viz.cpu.evtchn.stop": "koniec: {why}",
    # the four clocks (chapter 8)
    "viz.cpu.clocks.title": "Cztery rodzaje czasu",
    "viz.cpu.clocks.system": "czas systemowy [ms]",
    "viz.cpu.clocks.tsc_axis": "TSC [mln cykli]",
    "viz.cpu.clocks.system_axis": "systemowy (gość) [ms]",
    "viz.cpu.clocks.virtual_axis": "wirtualny [ms]",
    "viz.cpu.clocks.wall_axis": "zegarowy [ms]",
    "viz.cpu.clocks.wall_base": "czas zegarowy na wykresie: ms od {base} UTC",
    "viz.cpu.clocks.run": "Uruchom 50 ms",
    "viz.cpu.clocks.pause": "Wstrzymaj / wznów",
    "viz.cpu.clocks.legend": "{name}: TSC {tsc} cykli, czas systemowy {system:.3f} ms, wirtualny {virtual:.3f} ms, zegarowy {wall}",
}

EN: dict[str, object] = {
    # the hypercall tracer (chapter 5)
    "viz.cpu.tracer.title": "Hypercalls: number of calls",
    "viz.cpu.tracer.filter": "Filter",
    "viz.cpu.tracer.domain": "Domain",
    "viz.cpu.tracer.all": "all",
    "viz.cpu.tracer.run": "Run 10 ms",
    "viz.cpu.tracer.back": "Step back",
    "viz.cpu.tracer.forward": "Step forward",
    "viz.cpu.tracer.rings": "Crossings between privilege rings",
    "viz.cpu.tracer.ring_axis": "ring",
    "viz.cpu.tracer.step": "Step {i} of {n}: {text}",
    "viz.cpu.tracer.empty": "No events recorded.",
    "viz.cpu.tracer.columns": "time [ms]|domain|vcpu|hypercall|arguments|result",
    # every CPU-chapter view
    "viz.cpu.error": "Error in the widget: {error}",
    # event channels (chapter 6)
    "viz.cpu.evtchn.title": "Event channels of domain {domid}: pending (P) and masked (M)",
    "viz.cpu.evtchn.animate": "Show a delivery",
    "viz.cpu.evtchn.port": "Port",
    "viz.cpu.evtchn.refresh": "Refresh",
    "viz.cpu.evtchn.step1": "1. set the pending bit of port {port} (was: {was})",
    "viz.cpu.evtchn.step2": "2. is the port masked? {masked}",
    "viz.cpu.evtchn.step3": "3. set bit {word} of the selector evtchn_pending_sel (was: {was})",
    "viz.cpu.evtchn.step4": "4. set evtchn_upcall_pending (was: {was}) and kick the vcpu",
    "viz.cpu.evtchn.stop": "stop: {why}",
    # the four clocks (chapter 8)
    "viz.cpu.clocks.title": "The four kinds of time",
    "viz.cpu.clocks.system": "system time [ms]",
    "viz.cpu.clocks.tsc_axis": "TSC [million cycles]",
    "viz.cpu.clocks.system_axis": "system (guest) [ms]",
    "viz.cpu.clocks.virtual_axis": "virtual [ms]",
    "viz.cpu.clocks.wall_axis": "wall clock [ms]",
    "viz.cpu.clocks.wall_base": "wall clock in the plot: ms after {base} UTC",
    "viz.cpu.clocks.run": "Run 50 ms",
    "viz.cpu.clocks.pause": "Pause / unpause",
    "viz.cpu.clocks.legend": "{name}: TSC {tsc} cycles, system time {system:.3f} ms, virtual {virtual:.3f} ms, wall clock {wall}",
}
