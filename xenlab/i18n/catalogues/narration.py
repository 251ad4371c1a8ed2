"""What the model says about itself in the notebooks (chapters 8-14), in Polish and English.

The model's numbers and Xen's identifiers (req_prod, rsp_event, ...) stay as they are; the words around
them come from here, so a Polish notebook prints Polish. Keys: ``narration.ring.*`` (the hand-driven ring
of chapter 9, ``xenlab.viz.ring.RingLab``), ``narration.net.*`` (a frame's hops, chapter 11,
``xenlab.viz.netflow.hops``) and ``narration.precopy.*`` (why xc_linux_save's pre-copy stopped, chapter
14, ``xenlab.toolstack.migrate.precopy_summary``).
"""

PL: dict[str, object] = {
    "narration.ring.full": "bufor pełny: gość musi poczekać na odpowiedzi",
    "narration.ring.produced": "gość wstawił żądanie {id} (req_prod_pvt={pvt})",
    "narration.ring.pushed": "gość opublikował req_prod={prod}: {outcome}",
    "narration.ring.no_request": "brak żądań do pobrania",
    "narration.ring.took_request": "część zaplecza pobrała żądanie {id}",
    "narration.ring.nothing_to_answer": "brak pobranego żądania, na które można odpowiedzieć",
    "narration.ring.answered": "część zaplecza wpisała odpowiedź na żądanie {id} pod rsp_prod_pvt={pvt} (miejsce {slot})",
    "narration.ring.bpushed": "część zaplecza opublikowała rsp_prod={prod}: {outcome}",
    "narration.ring.no_response": "brak odpowiedzi do pobrania",
    "narration.ring.took_response": "gość pobrał odpowiedź {id}",
    "narration.ring.gfinal": "gość, ostatnie sprawdzenie: jeszcze {n} (rsp_event={event})",
    "narration.ring.bfinal": "część zaplecza, ostatnie sprawdzenie: jeszcze {n} (req_event={event})",
    "narration.ring.event_sent": "ZDARZENIE wysłane",
    "narration.ring.event_held": "bez zdarzenia (wstrzymane)",
    # a ring hop of a frame (chapter 11, xenlab.viz.netflow.hops): the ring slot it went through
    "narration.net.slot": "miejsce {slot}",
    "narration.net.bridge": "most",
    # the migration report (xenlab.toolstack.migrate.MigrationReport.text, xm migrate)
    "narration.migrate.head": "Migracja domeny {domain} ({how}), stron: {pages} ({mib} MiB)",
    "narration.migrate.live": "na żywo",
    "narration.migrate.stop_and_copy": "zatrzymaj i kopiuj",
    "narration.migrate.suspended": "(domena zawieszona)",
    "narration.migrate.because": "Ostatnia iteracja, bo: {why}",
    "narration.migrate.total": "Czas całkowity {total_s:.3f} s, przestój {downtime_ms:.1f} ms, wysłano {mb:.1f} MB",
    # xc_linux_save's reasons for starting the last iteration (precopy_should_stop's return values)
    "narration.precopy.rate": "maksymalna prędkość, a wysłano więcej niż poprzednio",
    "narration.precopy.iterations": "limit iteracji",
    "narration.precopy.few_pages": "mało stron",
    "narration.precopy.factor": "wysłano ponad 3 razy więcej niż pamięć domeny",
    "narration.precopy.not_live": "migracja nie na żywo",
    "narration.precopy.stop_rule": "reguła zatrzymania",
    "narration.precopy.summary": ("{rate:6d} str./s: iteracje: {iters:2d}, w ostatniej {last:5d} str., "
                                  "przestój {downtime_ms:7.1f} ms, koniec: {why}"),
}

EN: dict[str, object] = {
    "narration.ring.full": "ring full: the guest must wait for responses",
    "narration.ring.produced": "guest produced request {id} (req_prod_pvt={pvt})",
    "narration.ring.pushed": "guest pushed req_prod={prod}: {outcome}",
    "narration.ring.no_request": "no request to consume",
    "narration.ring.took_request": "back end took request {id}",
    "narration.ring.nothing_to_answer": "no consumed request to answer",
    "narration.ring.answered": "back end wrote the response to request {id} at rsp_prod_pvt={pvt} (slot {slot})",
    "narration.ring.bpushed": "back end pushed rsp_prod={prod}: {outcome}",
    "narration.ring.no_response": "no response to consume",
    "narration.ring.took_response": "guest took response {id}",
    "narration.ring.gfinal": "guest final check: {n} more (rsp_event={event})",
    "narration.ring.bfinal": "back end final check: {n} more (req_event={event})",
    "narration.ring.event_sent": "EVENT sent",
    "narration.ring.event_held": "no event (held off)",
    "narration.net.slot": "slot {slot}",
    "narration.net.bridge": "bridge",
    "narration.migrate.head": "Migrating {domain} ({how}), {pages} pages ({mib} MiB)",
    "narration.migrate.live": "live",
    "narration.migrate.stop_and_copy": "stop-and-copy",
    "narration.migrate.suspended": "(domain suspended)",
    "narration.migrate.because": "Last iteration started because: {why}",
    "narration.migrate.total": "Total time {total_s:.3f} s, downtime {downtime_ms:.1f} ms, {mb:.1f} MB sent",
    "narration.precopy.rate": "at the maximum rate and sending more than last time",
    "narration.precopy.iterations": "iteration limit",
    "narration.precopy.few_pages": "few pages",
    "narration.precopy.factor": "sent over 3 times the domain's memory",
    "narration.precopy.not_live": "not live",
    "narration.precopy.stop_rule": "stop rule",
    "narration.precopy.summary": ("{rate:6d} pages/s: {iters:2d} iterations, last {last:5d} pages, "
                                  "downtime {downtime_ms:7.1f} ms, stop: {why}"),
}
