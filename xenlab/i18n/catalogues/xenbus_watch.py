"""What chapter 10's xenbus-watch cell prints in its own words, in Polish and English: the count of
watch events each kernel's xenbus handled while the handshake ran (guest/xenbus.py ``XenbusProbe``).
Paths, state names and driver names stay as Xen and Linux spell them."""

# (the English phrase a cell prints, as a regex; its catalogue key)
PHRASES: list[tuple[str, str]] = [
    (r"watch events handled: dom0 (?P<a>\d+), guest (?P<b>\d+)", "out.10.watch_count"),
]

PL: dict[str, object] = {
    "out.10.watch_count": "zdarzenia czujek obsłużone: dom0 {a}, gość {b}",
}

EN: dict[str, object] = {
    "out.10.watch_count": "watch events handled: dom0 {a}, guest {b}",
}
