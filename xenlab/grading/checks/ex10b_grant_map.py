"""Exercise 10b: what GNTTABOP_map_grant_ref answers, and the entry's flags after it.

Oracle: xen-facts section 4 (X@RELEASE-3.0.0:xen/common/grant_table.c, map_grant_ref): in order,
ref out of range or neither host_map nor device_map -> GNTST_bad_gntref; granting domain unknown or
the caller itself -> GNTST_bad_domain; maptrack full -> GNTST_no_device_space; on the first pin the
entry must be GTF_permit_access naming the caller, a writable map needs an entry without
GTF_readonly, and the frame must belong to the granting domain, else GNTST_general_error; success
sets GTF_reading, and GTF_writing unless GNTMAP_readonly. Every case is also made for real on a
machine (``GrantLab``), so the answers are the model's gnttab.c; the reference below is checked
against it in tests/grading/test_ex09_ex10.py.
"""
from __future__ import annotations

from xenlab.grading.mapcase import NR_GRANT_ENTRIES, GrantLab, MapCase
from xenlab.grading.registry import exercise, expect
from xenlab.xen.public import grant_table as G

EX = exercise("ex10b", chapter=10, functions=("map_grant_ref",),
              title={"pl": "Reguły odwzorowania uprawnień (GNTTABOP_map_grant_ref)",
                     "en": "Grant-map rules (GNTTABOP_map_grant_ref)"})
SLOW = 30

HOST, DEV, RO = G.GNTMAP_host_map, G.GNTMAP_device_map, G.GNTMAP_readonly
PERMIT, RO_ENTRY = G.GTF_permit_access, G.GTF_readonly


def reference_map_grant_ref(c: MapCase) -> tuple[int, int]:
    if not 0 <= c.ref < NR_GRANT_ENTRIES or not c.flags & (DEV | HOST):
        return G.GNTST_bad_gntref, c.sha_flags
    if c.dom not in c.domains or c.dom == c.caller:
        return G.GNTST_bad_domain, c.sha_flags
    if c.maptrack_free == 0:
        return G.GNTST_no_device_space, c.sha_flags
    readonly = bool(c.flags & RO)
    if c.sha_flags & G.GTF_type_mask != PERMIT or c.sha_domid != c.caller:
        return G.GNTST_general_error, c.sha_flags
    if not readonly and c.sha_flags & RO_ENTRY:
        return G.GNTST_general_error, c.sha_flags
    if c.frame_owner != c.dom:
        return G.GNTST_general_error, c.sha_flags
    return G.GNTST_okay, c.sha_flags | G.GTF_reading | (0 if readonly else G.GTF_writing)


def name(status) -> str:
    return G.GNTST_NAMES.get(status, str(status))


def compare(ctx, lab: GrantLab, case: MapCase, give_answer: bool = False, why_pl: str = "", why_en: str = ""):
    want_status, want_flags = lab.xen(case)
    got = ctx.fn("map_grant_ref")(case)
    expect(isinstance(got, tuple) and len(got) == 2 and all(isinstance(x, int) for x in got),
           pl=f"map_grant_ref powinna zwrócić krotkę (status, flags) dwóch liczb całkowitych, a zwróciła {got!r}.",
           en=f"map_grant_ref should return a tuple (status, flags) of two integers, but returned {got!r}.")
    status, flags = got
    answer = f" Xen: {name(want_status)}." if give_answer else ""
    expect(status == want_status,
           pl=f"{why_pl}Dla przypadku [{case}] status {name(status)} jest inny niż w Xenie.{answer}",
           en=f"{why_en}For the case [{case}] the status {name(status)} differs from Xen's.{answer}")
    answer = f" Xen: {want_flags:#x}." if give_answer else ""
    expect(flags == want_flags,
           pl=f"{why_pl}Dla przypadku [{case}] status się zgadza, ale flagi wpisu po wywołaniu ({flags:#x}) są "
              f"inne niż w Xenie.{answer}",
           en=f"{why_en}For the case [{case}] the status agrees, but the entry's flags after the call "
              f"({flags:#x}) differ from Xen's.{answer}")


def lab_check(fn):
    def check(ctx):
        fn(ctx, GrantLab(seed=int(ctx.rng.integers(0, 1000))))
    check.__name__ = fn.__name__
    return check


def _ref(ctx) -> int:
    return int(ctx.rng.integers(8, NR_GRANT_ENTRIES))


@EX.check(points=1, function="map_grant_ref", timeout=SLOW,
          title={"pl": "poprawne odwzorowanie do zapisu i tylko do odczytu",
                 "en": "a valid read-write and read-only map"})
@lab_check
def valid_maps(ctx, lab):
    compare(ctx, lab, lab.case(0, _ref(ctx), HOST, 1, PERMIT, 0, lab.page[1]))
    compare(ctx, lab, lab.case(0, _ref(ctx), HOST | RO, 1, PERMIT, 0, lab.page[1]))
    compare(ctx, lab, lab.case(2, _ref(ctx), HOST | RO, 1, PERMIT | RO_ENTRY, 2, lab.page[1]))


@EX.check(points=1, function="map_grant_ref", timeout=SLOW,
          title={"pl": "zły numer wpisu albo brak host_map/device_map",
                 "en": "a bad entry number, or neither host_map nor device_map"})
@lab_check
def bad_ref(ctx, lab):
    compare(ctx, lab, lab.case(0, NR_GRANT_ENTRIES + int(ctx.rng.integers(0, 50)), HOST, 1, PERMIT, 0, lab.page[1]))
    compare(ctx, lab, lab.case(0, _ref(ctx), RO, 1, PERMIT, 0, lab.page[1]))


@EX.check(points=1, function="map_grant_ref", timeout=SLOW,
          title={"pl": "zła domena udostępniająca", "en": "a bad granting domain"})
@lab_check
def bad_domain(ctx, lab):
    compare(ctx, lab, lab.case(0, _ref(ctx), HOST, 9, PERMIT, 0, lab.page[1]),
            why_pl="Domena 9 nie istnieje. ", why_en="Domain 9 does not exist. ")
    compare(ctx, lab, lab.case(1, _ref(ctx), HOST, 1, PERMIT, 1, lab.page[1]),
            why_pl="Domena odwzorowuje własny wpis. ", why_en="A domain maps its own entry. ")


@EX.check(points=1, function="map_grant_ref", timeout=SLOW,
          title={"pl": "wpis nie dla wołającego, złego typu albo tylko do odczytu",
                 "en": "an entry not for the caller, of the wrong type, or read-only"})
@lab_check
def entry_rules(ctx, lab):
    compare(ctx, lab, lab.case(0, _ref(ctx), HOST, 1, PERMIT, 2, lab.page[1]))
    compare(ctx, lab, lab.case(0, _ref(ctx), HOST, 1, G.GTF_accept_transfer, 0, lab.page[1]))
    compare(ctx, lab, lab.case(0, _ref(ctx), HOST | RO, 1, G.GTF_invalid, 0, lab.page[1]))
    compare(ctx, lab, lab.case(2, _ref(ctx), HOST, 1, PERMIT | RO_ENTRY, 2, lab.page[1]))


@EX.check(points=1, function="map_grant_ref", timeout=SLOW,
          title={"pl": "pełna tablica maptrack", "en": "a full maptrack table"})
@lab_check
def maptrack_full(ctx, lab):
    compare(ctx, lab, lab.case(0, _ref(ctx), HOST, 1, PERMIT, 0, lab.page[1], maptrack_full=True))
    compare(ctx, lab, lab.case(2, _ref(ctx), HOST | RO, 1, G.GTF_invalid, 7, lab.page[1], maptrack_full=True))


@EX.check(points=1, function="map_grant_ref", hidden=True, timeout=SLOW,
          title={"pl": "ramka nienależąca do domeny udostępniającej",
                 "en": "a frame the granting domain does not own"})
@lab_check
def foreign_frame(ctx, lab):
    compare(ctx, lab, lab.case(0, _ref(ctx), HOST, 1, PERMIT, 0, lab.page[2]), give_answer=True)
    compare(ctx, lab, lab.case(2, _ref(ctx), HOST | RO, 1, PERMIT, 2, lab.free_frame), give_answer=True)
    compare(ctx, lab, lab.case(0, _ref(ctx), HOST | RO, 1, PERMIT, 0, lab.page[0]), give_answer=True)


@EX.check(points=2, function="map_grant_ref", hidden=True, timeout=SLOW,
          title={"pl": "kolejność sprawdzeń, gdy źle jest kilka rzeczy naraz",
                 "en": "the order of the checks when several things are wrong"})
@lab_check
def check_order(ctx, lab):
    big = NR_GRANT_ENTRIES + 1
    cases = [lab.case(0, big, HOST, 9, G.GTF_invalid, 7, lab.free_frame, maptrack_full=True),
             lab.case(0, _ref(ctx), 0, 9, PERMIT, 0, lab.page[1]),
             lab.case(2, _ref(ctx), HOST, 2, G.GTF_invalid, 7, lab.free_frame, maptrack_full=True),
             lab.case(0, _ref(ctx), HOST, 1, G.GTF_invalid, 7, lab.free_frame, maptrack_full=True),
             lab.case(0, _ref(ctx), HOST, 1, PERMIT | RO_ENTRY, 2, lab.page[2]),
             lab.case(0, _ref(ctx), DEV, 1, PERMIT | RO_ENTRY, 0, lab.page[1]),
             lab.case(0, _ref(ctx), DEV | RO, 1, PERMIT | RO_ENTRY, 0, lab.page[1])]
    for i in ctx.rng.permutation(len(cases)):
        compare(ctx, lab, cases[i], give_answer=True)


@EX.check(points=3, function="map_grant_ref", hidden=True, timeout=SLOW,
          title={"pl": "losowe wywołania porównane z gnttab.c modelu",
                 "en": "random calls compared with the model's gnttab.c"})
@lab_check
def random_cases(ctx, lab):
    for _ in range(200):
        compare(ctx, lab, lab.random_case(ctx.rng), give_answer=True)
