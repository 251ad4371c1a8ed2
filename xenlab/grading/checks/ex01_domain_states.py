"""Exercise 01: the domain state field of `xm list` and who may make which hypercall.

Oracles (reference/xen-facts.md):
- section 10, `xm list`: State is 6 characters in the order r b p s c d (running, blocked, paused,
  shutdown, crashed, dying), '-' where false (xend XendDomainInfo.sxpr, Xen 3.0).
- section 7: `dom0_op` checks IS_PRIV and returns -EPERM to an unprivileged domain; in 3.0,
  non-VERBOSE builds allow `console_io` only to dom0 (-EPERM otherwise); an unknown hypercall
  returns -ENOSYS to everybody (do_ni_hypercall). dom0 (domid 0) is the privileged domain.
Public checks never print the expected answer; hidden checks cover every case.
"""
from __future__ import annotations

from itertools import product

from xenlab.grading.registry import exercise, expect

EX = exercise(
    "ex01", chapter=1, functions=("xm_state_string", "hypercall_allowed"),
    title={"pl": "Stany domeny i uprzywilejowane hiperwywołania",
           "en": "Domain states and privileged hypercalls"},
)

FLAGS = ("running", "blocked", "paused", "shutdown", "crashed", "dying")
LETTERS = "rbpscd"

# Xen 3.0.0 x86_32 hypercall table (xen/include/public/xen.h); 11 is unused, 25 is x86_64 only.
HYPERCALLS_30_X86_32 = {
    "set_trap_table": 0, "mmu_update": 1, "set_gdt": 2, "stack_switch": 3, "set_callbacks": 4,
    "fpu_taskswitch": 5, "sched_op": 6, "dom0_op": 7, "set_debugreg": 8, "get_debugreg": 9,
    "update_descriptor": 10, "memory_op": 12, "multicall": 13, "update_va_mapping": 14,
    "set_timer_op": 15, "event_channel_op": 16, "xen_version": 17, "console_io": 18,
    "physdev_op": 19, "grant_table_op": 20, "vm_assist": 21, "update_va_mapping_otherdomain": 22,
    "switch_vm86": 23, "vcpu_op": 24, "mmuext_op": 26, "acm_op": 27,
}
DOM0_ONLY = ("dom0_op", "console_io")
NOT_IN_30 = ("set_fast_trap", "dom_mem_op", "console_write", "iret", "domctl", "sysctl", "hvm_op",
             "fork", "")


def reference_state_string(*flags) -> str:
    return "".join(letter if flag else "-" for letter, flag in zip(LETTERS, flags))


def reference_hypercall_allowed(domid: int, name: str) -> bool:
    if name not in HYPERCALLS_30_X86_32:
        return False
    return domid == 0 or name not in DOM0_ONLY


def _state_call(ctx, flags):
    return ctx.fn("xm_state_string")(*flags)


# --- xm_state_string ------------------------------------------------------------------------------

@EX.check(points=1, function="xm_state_string",
          title={"pl": "xm_state_string zwraca 6 znaków z r, b, p, s, c, d, -",
                 "en": "xm_state_string returns 6 characters out of r, b, p, s, c, d, -"})
def state_shape(ctx):
    for flags in ((False,) * 6, (True, False, False, False, False, False)):
        got = _state_call(ctx, flags)
        expect(isinstance(got, str),
               pl=f"Wynik powinien być napisem (str), a jest typu {type(got).__name__}.",
               en=f"The result should be a string (str), not a {type(got).__name__}.")
        expect(len(got) == 6 and set(got) <= set(LETTERS + "-"),
               pl=f"Pole stanu ma dokładnie 6 znaków, każdy z liter r b p s c d albo '-'; otrzymano {got!r}.",
               en=f"The state field is exactly 6 characters, each one of r b p s c d or '-'; got {got!r}.")


@EX.check(points=1, function="xm_state_string",
          title={"pl": "domena działająca i domena bez żadnej flagi",
                 "en": "a running domain and a domain with no flag set"})
def state_running(ctx):
    idle = _state_call(ctx, (False,) * 6)
    expect(idle == "-" * 6,
           pl="Gdy żadna flaga nie jest ustawiona, wszystkie pozycje powinny być kreskami.",
           en="With no flag set, every position should be a dash.")
    got = _state_call(ctx, (True, False, False, False, False, False))
    expect(got.count("-") == 5,
           pl="Domena, która tylko działa (running), powinna mieć jedną literę i pięć kresek.",
           en="A domain that is only running should show one letter and five dashes.")
    expect(got[0] != "-",
           pl="Litera stanu „running” stoi na swojej stałej pozycji w kolejności xm; sprawdź tabelę w treści.",
           en="The 'running' letter has a fixed position in xm's order; check the table in the text.")


@EX.check(points=1, function="xm_state_string",
          title={"pl": "domena wstrzymana i zablokowana naraz",
                 "en": "a domain that is both paused and blocked"})
def state_paused_blocked(ctx):
    got = _state_call(ctx, (False, True, True, False, False, False))
    expect(got.count("-") == 4,
           pl="Dwie ustawione flagi to dwie litery i cztery kreski.",
           en="Two flags set means two letters and four dashes.")
    expect(reference_state_string(False, True, True, False, False, False) == got,
           pl="Litery są we właściwych miejscach tylko wtedy, gdy każda flaga ma swoją stałą pozycję (kolejność xm).",
           en="The letters land in the right places only if each flag has its own fixed position (xm's order).")


@EX.check(points=2, function="xm_state_string", hidden=True,
          title={"pl": "wszystkie 64 kombinacje flag", "en": "all 64 combinations of flags"})
def state_all_combinations(ctx):
    combos = list(product((False, True), repeat=6))
    for i in ctx.rng.permutation(len(combos)):
        flags = combos[i]
        got = _state_call(ctx, flags)
        want = reference_state_string(*flags)
        shown = ", ".join(f"{n}={f}" for n, f in zip(FLAGS, flags))
        expect(got == want, pl=f"Dla ({shown}) oczekiwano {want!r}, otrzymano {got!r}.",
               en=f"For ({shown}) expected {want!r}, got {got!r}.")
    # Truthy values that are not bools (xend read them from integers).
    got = _state_call(ctx, (1, 0, 0, 0, 0, 0))
    expect(got == "r-----", pl="Flagi podane jako liczby 1/0 też powinny działać.",
           en="Flags given as the integers 1/0 should work too.")


# --- hypercall_allowed ----------------------------------------------------------------------------

def _allowed(ctx, domid, name):
    got = ctx.fn("hypercall_allowed")(domid, name)
    expect(isinstance(got, bool),
           pl=f"hypercall_allowed powinna zwracać True albo False, a zwróciła {got!r}.",
           en=f"hypercall_allowed should return True or False, but returned {got!r}.")
    return got


@EX.check(points=1, function="hypercall_allowed",
          title={"pl": "domU może aktualizować swoje tablice stron (mmu_update)",
                 "en": "a domU may update its page tables (mmu_update)"})
def hc_domu_mmu_update(ctx):
    expect(_allowed(ctx, 1, "mmu_update"),
           pl="Parawirtualizowany gość sam zarządza swoimi tablicami stron przez hiperwywołania; "
              "zwykłe hiperwywołanie nie wymaga uprzywilejowania.",
           en="A paravirtualised guest manages its own page tables through hypercalls; an "
              "ordinary hypercall needs no privilege.")


@EX.check(points=1, function="hypercall_allowed",
          title={"pl": "domU nie może zarządzać domenami (dom0_op)",
                 "en": "a domU may not manage domains (dom0_op)"})
def hc_domu_dom0_op(ctx):
    expect(not _allowed(ctx, 3, "dom0_op"),
           pl="Zarządzanie domenami jest zastrzeżone dla domeny uprzywilejowanej (Xen sprawdza IS_PRIV).",
           en="Domain management is reserved for the privileged domain (Xen checks IS_PRIV).")


@EX.check(points=1, function="hypercall_allowed",
          title={"pl": "dom0 może zarządzać domenami", "en": "dom0 may manage domains"})
def hc_dom0_dom0_op(ctx):
    expect(_allowed(ctx, 0, "dom0_op"),
           pl="Domena 0 jest uprzywilejowana: to ona, przez narzędzia xm, tworzy i niszczy inne domeny.",
           en="Domain 0 is privileged: it is what creates and destroys other domains, through xm.")


@EX.check(points=2, function="hypercall_allowed", hidden=True,
          title={"pl": "cała tablica hiperwywołań Xena 3.0 dla losowych domen",
                 "en": "the whole Xen 3.0 hypercall table for random domains"})
def hc_table(ctx):
    domids = [0] + [int(d) for d in ctx.rng.integers(1, 0x7FF0, size=3)]
    names = list(HYPERCALLS_30_X86_32)
    for i in ctx.rng.permutation(len(names)):
        for domid in domids:
            name = names[i]
            want = reference_hypercall_allowed(domid, name)
            got = _allowed(ctx, domid, name)
            expect(got == want, pl=f"hypercall_allowed({domid}, {name!r}) powinno dać {want}.",
                   en=f"hypercall_allowed({domid}, {name!r}) should be {want}.")


@EX.check(points=1, function="hypercall_allowed", hidden=True,
          title={"pl": "nieznane hiperwywołania (-ENOSYS)", "en": "unknown hypercalls (-ENOSYS)"})
def hc_unknown(ctx):
    for name in NOT_IN_30:
        for domid in (0, 1):
            expect(not _allowed(ctx, domid, name),
                   pl=f"{name!r} nie ma w tablicy Xena 3.0, więc Xen odpowiada -ENOSYS nawet domenie {domid}.",
                   en=f"{name!r} is not in Xen 3.0's table, so Xen answers -ENOSYS even to domain {domid}.")
