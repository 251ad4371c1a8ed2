"""Exercise 11: netback's receive path, page flipping (Xen 3.0) versus copying (Xen 3.1).

Oracle: xen-facts section 2b and the sources it cites (X@RELEASE-3.0.0: xen/common/grant_table.c
gnttab_transfer, xen/common/memory.c; linux-2.6-xen-sparse/drivers/xen/netback/netback.c net_rx_action,
netfront.c network_alloc_rx_buffers / netif_poll; GNTTABOP_copy from Xen 3.1), as the model's
dom0/netback.py and guest/netfront.py implement them:
- flip: the guest posts an empty buffer by giving its frame B back to Xen (decrease_reservation; the
  pfn becomes a hole, M2P[B] = INVALID) and writing a GTF_accept_transfer grant; netback puts the packet
  in its own page S, gives S to the guest with GNTTABOP_transfer (ownership moves), and refills its own
  hole with a fresh frame R (increase_reservation, M2P[R] = netback's pfn); the guest puts S at the
  buffer's pfn (P2M and MMU_MACHPHYS_UPDATE, M2P[S] = buffer pfn);
- copy: the guest grants netback access to its buffer frame B (which it keeps); netback puts the
  packet in its page S and asks Xen to copy S into B (GNTTABOP_copy): no frame changes hands, no
  P2M/M2P entry changes, and R is never needed.
tests/grading/test_exercises_i12.py compares the references with the live model.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect

EX = exercise("ex11", chapter=11, functions=("owners", "flip_tables"),
              title={"pl": "Odbiór w netback: przerzucanie stron a kopiowanie",
                     "en": "netback's receive path: page flipping versus copying"})

STEPS = ("posted", "filled", "handed_over", "refilled", "received")
MODES = ("flip", "copy")
INVALID = 0xFFFFFFFF

_FLIP = {"posted": ("xen", "dom0", "xen"), "filled": ("xen", "dom0", "xen"),
         "handed_over": ("xen", "guest", "xen"), "refilled": ("xen", "guest", "dom0"),
         "received": ("xen", "guest", "dom0")}


def reference_owners(mode: str, step: str) -> dict:
    if mode == "copy":
        return {"B": "guest", "S": "dom0", "R": "xen"}
    return dict(zip("BSR", _FLIP[step]))


def reference_flip_tables(buf_pfn, dom0_pfn, B, S, R) -> dict:
    return {"guest_p2m": {buf_pfn: S}, "dom0_p2m": {dom0_pfn: R},
            "m2p": {B: INVALID, S: buf_pfn, R: dom0_pfn}}


def _owners(ctx, mode, step):
    got = ctx.fn("owners")(mode, step)
    expect(isinstance(got, dict) and set(got) == set("BSR") and all(v in ("guest", "dom0", "xen") for v in got.values()),
           pl=f"owners({mode!r}, {step!r}) powinna zwrócić słownik {{'B', 'S', 'R'}} -> 'guest'/'dom0'/'xen', "
              f"a zwróciła {got!r}.",
           en=f"owners({mode!r}, {step!r}) should return a dict {{'B', 'S', 'R'}} -> 'guest'/'dom0'/'xen', "
              f"but returned {got!r}.")
    return got


def _tables(ctx, *args):
    got = ctx.fn("flip_tables")(*args)
    ok = isinstance(got, dict) and set(got) == {"guest_p2m", "dom0_p2m", "m2p"} and \
        all(isinstance(v, dict) for v in got.values())
    expect(ok, pl=f"flip_tables powinna zwrócić słownik z kluczami guest_p2m, dom0_p2m, m2p (każdy to słownik), "
                  f"a zwróciła {got!r}.",
           en=f"flip_tables should return a dict with keys guest_p2m, dom0_p2m, m2p (each a dict), "
              f"but returned {got!r}.")
    return {k: {int(a): int(b) for a, b in v.items()} for k, v in got.items()}


# --- owners --------------------------------------------------------------------------------------------
@EX.check(points=1, function="owners", title={"pl": "kopiowanie: kto jest właścicielem", "en": "copying: who owns what"})
def owners_copy(ctx):
    got = _owners(ctx, "copy", "received")
    expect(got == reference_owners("copy", "received"),
           pl="Tryb kopiowania po odebraniu ramki: właściciele się nie zgadzają (czy GNTTABOP_copy przenosi "
              "własność ramek?).",
           en="Copy mode once the frame is received: the owners are wrong (does GNTTABOP_copy move any "
              "frame's ownership?).")


@EX.check(points=1, function="owners", title={"pl": "przerzucanie: bufor gościa po wystawieniu",
                                              "en": "flipping: the guest's buffer once posted"})
def owners_flip_posted(ctx):
    got = _owners(ctx, "flip", "posted")
    expect(got["B"] == reference_owners("flip", "posted")["B"],
           pl="Przerzucanie: po wystawieniu pustego bufora właściciel ramki B jest zły (co gość robi z tą "
              "ramką w network_alloc_rx_buffers?).",
           en="Flipping: once the empty buffer is posted, frame B's owner is wrong (what does the guest do "
              "with that frame in network_alloc_rx_buffers?).")
    expect(got == reference_owners("flip", "posted"),
           pl="Przerzucanie, bufor wystawiony: ramki S lub R mają złego właściciela.",
           en="Flipping, buffer posted: frame S or R has the wrong owner.")


@EX.check(points=1, function="owners", title={"pl": "przerzucanie: po GNTTABOP_transfer i po uzupełnieniu",
                                              "en": "flipping: after GNTTABOP_transfer and after the refill"})
def owners_flip_transfer(ctx):
    expect(_owners(ctx, "flip", "handed_over") == reference_owners("flip", "handed_over"),
           pl="Przerzucanie zaraz po GNTTABOP_transfer: właściciele się nie zgadzają.",
           en="Flipping right after GNTTABOP_transfer: the owners are wrong.")
    expect(_owners(ctx, "flip", "refilled") == reference_owners("flip", "refilled"),
           pl="Przerzucanie po uzupełnieniu dziury w netback: właściciele się nie zgadzają.",
           en="Flipping after netback refilled its hole: the owners are wrong.")


@EX.check(points=2, function="owners", hidden=True, title={"pl": "wszystkie kroki obu trybów",
                                                           "en": "every step of both modes"})
def owners_all(ctx):
    cases = [(m, s) for m in MODES for s in STEPS]
    for i in ctx.rng.permutation(len(cases)):
        mode, step = cases[int(i)]
        want, got = reference_owners(mode, step), _owners(ctx, mode, step)
        expect(got == want, pl=f"owners({mode!r}, {step!r}): oczekiwano {want}, jest {got}.",
               en=f"owners({mode!r}, {step!r}): expected {want}, got {got}.")


# --- flip_tables ----------------------------------------------------------------------------------------
def _expect_tables(ctx, args, public: bool):
    want, got = reference_flip_tables(*args), _tables(ctx, *args)
    names = {"guest_p2m": ("P2M gościa", "the guest's P2M"), "dom0_p2m": ("P2M dom0", "dom0's P2M"),
             "m2p": ("M2P Xena", "Xen's M2P")}
    for key, (pl, en) in names.items():
        if public:
            expect(got[key] == want[key], pl=f"Zmienione wpisy w tablicy {pl} się nie zgadzają.",
                   en=f"The changed entries of {en} are wrong.")
        else:
            expect(got[key] == want[key],
                   pl=f"flip_tables{args}: {pl}: oczekiwano {want[key]}, jest {got[key]}.",
                   en=f"flip_tables{args}: {en}: expected {want[key]}, got {got[key]}.")


@EX.check(points=1, function="flip_tables", title={"pl": "P2M gościa i dom0", "en": "the guest's and dom0's P2M"})
def tables_p2m(ctx):
    args = (9, 8, 0x1FA9, 0x0872, 0x2210)
    want, got = reference_flip_tables(*args), _tables(ctx, *args)
    expect(got["guest_p2m"] == want["guest_p2m"],
           pl="P2M gościa po odebraniu ramki jest zły: jaka ramka leży teraz pod pfn bufora?",
           en="The guest's P2M after receiving is wrong: which frame is under the buffer's pfn now?")
    expect(got["dom0_p2m"] == want["dom0_p2m"],
           pl="P2M dom0 jest zły: czym netback wypełnia dziurę po oddanej stronie?",
           en="dom0's P2M is wrong: what does netback fill the hole of the page it gave away with?")


@EX.check(points=1, function="flip_tables", title={"pl": "M2P Xena", "en": "Xen's M2P"})
def tables_m2p(ctx):
    _expect_tables(ctx, (9, 8, 0x1FA9, 0x0872, 0x2210), public=True)


@EX.check(points=2, function="flip_tables", hidden=True, title={"pl": "losowe ramki", "en": "random frames"})
def tables_random(ctx):
    for _ in range(20):
        buf_pfn, dom0_pfn = (int(x) for x in ctx.rng.choice(4096, size=2, replace=False))
        B, S, R = (int(x) for x in ctx.rng.choice(1 << 16, size=3, replace=False))
        _expect_tables(ctx, (buf_pfn, dom0_pfn, B, S, R), public=False)
