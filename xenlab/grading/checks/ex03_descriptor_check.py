"""Exercise 03: Xen's check_descriptor (which segment descriptors a PV guest may install).

Oracle: xen-facts section 6 (X@RELEASE-3.0.0:xen/arch/x86/x86_32/mm.c check_descriptor): not present
-> accept; DPL 0 -> refuse; system descriptors other than a call gate -> refuse; a call gate needs a
guest code selector (VALID_CODESEL) and zero reserved bits; a code/data base at or above
GUEST_SEGMENT_MAX_ADDR - PAGE_SIZE -> refuse; a limit reaching past GUEST_SEGMENT_MAX_ADDR is cut back
(only with G=1; byte granularity -> refuse); expand-down segments must not wrap. The reference below
is written independently of xenlab/xen/descriptor.py; tests/xen checks the model against hand-worked values.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect

EX = exercise("ex03", chapter=3, functions=("check_descriptor",),
              title={"pl": "Sprawdzanie deskryptorów segmentów przez Xena", "en": "Xen's segment descriptor check"})

MAX_ADDR = {"2level": 0xFC400000, "pae": 0xF6800000}


def _valid_codesel(sel):
    return sel == 0xE019 or (((sel >> 3) < 7168 or bool(sel & 4)) and (sel & 3) == 1)


def reference_check_descriptor(raw, mode="2level"):
    a, b = raw & 0xFFFFFFFF, raw >> 32
    if not b & (1 << 15):
        return True, raw
    if not b & (3 << 13):
        return False, raw
    if not b & (1 << 12):
        ok = (b >> 8) & 0xF == 0xC and _valid_codesel(a >> 16) and not b & 0xE0
        return ok, raw
    top = MAX_ADDR[mode]
    base = (b & 0xFF000000) | ((b & 0xFF) << 16) | (a >> 16)
    if base >= top - 4096:
        return False, raw
    size = ((b & 0xF0000) | (a & 0xFFFF)) + 1
    if b & (1 << 23):
        size = (size << 12) & 0xFFFFFFFF
    if (b >> 10) & 3 == 1:                                   # data, expand-down
        if (base + size) & 0xFFFFFFFF <= base:
            return True, raw
        new_size = (-(base & ~0xFFF)) & 0xFFFFFFFF
    elif (base + size) & 0xFFFFFFFF > base and base + size <= top:
        return True, raw
    else:
        new_size = top - base
    if not b & (1 << 23):
        return False, raw
    limit = ((new_size >> 12) - 1) & 0xFFFFF
    a = (a & ~0xFFFF) | (limit & 0xFFFF)
    b = (b & ~0xF0000) | (limit & 0xF0000)
    return True, b << 32 | a


def desc(base=0, limit=0xFFFFF, type_=2, s=1, dpl=1, p=1, g=1, db=1):
    a = (base & 0xFFFF) << 16 | (limit & 0xFFFF)
    b = ((base >> 16) & 0xFF) | type_ << 8 | s << 12 | dpl << 13 | p << 15 | (limit >> 16) << 16 \
        | db << 22 | g << 23 | (base >> 24) << 24
    return b << 32 | a


def gate(selector, offset=0xC0100000, dpl=3, reserved=0, type_=0xC):
    a = selector << 16 | (offset & 0xFFFF)
    b = (offset >> 16) << 16 | 1 << 15 | dpl << 13 | type_ << 8 | reserved << 5
    return b << 32 | a


def _call(ctx, raw, mode="2level"):
    got = ctx.fn("check_descriptor")(raw, mode)
    expect(isinstance(got, tuple) and len(got) == 2,
           pl=f"check_descriptor powinna zwrócić krotkę (ok, deskryptor), a zwróciła {got!r}.",
           en=f"check_descriptor should return a tuple (ok, descriptor), but returned {got!r}.")
    return bool(got[0]), int(got[1])


@EX.check(points=1, function="check_descriptor", title={"pl": "pierścień 0 należy do Xena", "en": "ring 0 is Xen's"})
def c_dpl0(ctx):
    ok, _ = _call(ctx, desc(dpl=0, limit=0xFF))
    expect(not ok, pl="Deskryptor z DPL 0 dałby gościowi pierścień 0.", en="A DPL 0 descriptor would give the guest ring 0.")
    ok, _ = _call(ctx, desc(dpl=0, p=0))
    expect(ok, pl="Deskryptor nieobecny (P=0) jest nieszkodliwy.", en="A not-present descriptor (P=0) is harmless.")


@EX.check(points=1, function="check_descriptor", title={"pl": "zwykłe segmenty gościa", "en": "ordinary guest segments"})
def c_plain(ctx):
    for raw in (desc(base=0x8000000, limit=0xFF, dpl=3), desc(base=0x1000, limit=0xFFF, g=0, dpl=1)):
        ok, out = _call(ctx, raw)
        expect(ok and out == raw, pl="Segment leżący w całości poniżej obszaru Xena ma przejść bez zmian.",
               en="A segment that lies entirely below Xen's area must pass unchanged.")


@EX.check(points=2, function="check_descriptor", title={"pl": "segment sięgający obszaru Xena", "en": "a segment reaching Xen's area"})
def c_truncate(ctx):
    for mode in ("2level", "pae"):
        raw = desc(base=0, limit=0xFFFFF, dpl=1)
        ok, out = _call(ctx, raw, mode)
        expect(ok and out == reference_check_descriptor(raw, mode)[1],
               pl=f"Płaski segment 4 GiB ({mode}): Xen go przyjmuje, ale nie w tej postaci.",
               en=f"A flat 4 GiB segment ({mode}): Xen accepts it, but not in this form.")
    ok, _ = _call(ctx, desc(base=0xFFFF0000, limit=0xFFFF, g=0, dpl=3))
    expect(not ok, pl="Ta baza leży w obszarze Xena.", en="This base lies in Xen's area.")
    ok, _ = _call(ctx, desc(base=0xFC3F0000, limit=0xFFFFF, g=0, dpl=3))
    expect(not ok, pl="Segment o ziarnistości bajtowej sięga obszaru Xena.", en="A byte-granular segment reaches Xen's area.")


@EX.check(points=1, function="check_descriptor", title={"pl": "bramki i deskryptory systemowe", "en": "gates and system descriptors"})
def c_system(ctx):
    expect(_call(ctx, gate(0xE019))[0], pl="Bramka wywołania do kodu jądra gościa jest dozwolona.",
           en="A call gate to the guest kernel's code is allowed.")
    expect(not _call(ctx, gate(0xE008))[0], pl="Ta bramka prowadzi do kodu Xena.", en="This gate leads to Xen's code.")
    expect(not _call(ctx, gate(0xE019, type_=0xE))[0], pl="Bramka przerwania nie jest bramką wywołania.",
           en="An interrupt gate is not a call gate.")
    expect(not _call(ctx, desc(type_=0x9, s=0, limit=0x67, g=0))[0], pl="TSS nie jest dla gościa.",
           en="A TSS is not for the guest.")


@EX.check(points=3, function="check_descriptor", hidden=True, title={"pl": "losowe deskryptory", "en": "random descriptors"})
def c_random(ctx):
    for _ in range(400):
        mode = "2level" if ctx.rng.random() < 0.5 else "pae"
        if ctx.rng.random() < 0.2:
            raw = gate(int(ctx.rng.integers(0, 1 << 16)), dpl=int(ctx.rng.integers(0, 4)),
                       reserved=int(ctx.rng.integers(0, 8)) * (ctx.rng.random() < 0.3),
                       type_=int(ctx.rng.choice([0xC, 0xC, 0xE, 0xF, 0x5])))
        else:
            base = int(ctx.rng.choice([0, 0x1000, 0xC0000000, 0xF5000000, 0xF6000000, 0xFC000000, 0xFFFF0000,
                                       int(ctx.rng.integers(0, 1 << 32))]))
            raw = desc(base=base, limit=int(ctx.rng.integers(0, 1 << 20)), type_=int(ctx.rng.integers(0, 16)),
                       s=int(ctx.rng.random() < 0.9), dpl=int(ctx.rng.integers(0, 4)), p=int(ctx.rng.random() < 0.9),
                       g=int(ctx.rng.integers(0, 2)), db=int(ctx.rng.integers(0, 2)))
        want = reference_check_descriptor(raw, mode)
        got = _call(ctx, raw, mode)
        expect(got == want, pl=f"check_descriptor({raw:#018x}, {mode!r}): oczekiwano {want[0]}, {want[1]:#018x}; "
               f"jest {got[0]}, {got[1]:#018x}.",
               en=f"check_descriptor({raw:#018x}, {mode!r}): expected {want[0]}, {want[1]:#018x}; "
               f"got {got[0]}, {got[1]:#018x}.")
