"""Hole 4 of issue 10: dom0's console daemon as a confused deputy.

mallory drops its own mapping of its console page and balloons it out; a victim is then built from
the free memory with a page that looks like a console ring full of secrets. Judged on bytes: what
``xm console mallory`` shows must not contain the victim's bytes, and no byte of the victim's memory
may change when the daemon services mallory's console."""
import xenlab
from xenlab.xen.page_alloc import FREE
from xenlab.xen.public.memory import XENMEM_decrease_reservation, xen_memory_reservation
from xenlab.xen.public.xen import (UVMF_INVLPG, XENCONS_OFF_OUT, XENCONS_OFF_OUT_CONS, XENCONS_OFF_OUT_PROD)

from sec_helpers import PAGE, boot, frame_bytes, owned

SECRET = b"VICTIM-SECRET-KEY:0123456789abcdef\n"


def _ring_page() -> bytes:
    page = bytearray(PAGE)
    page[XENCONS_OFF_OUT:XENCONS_OFF_OUT + len(SECRET)] = SECRET
    page[XENCONS_OFF_OUT_CONS:XENCONS_OFF_OUT_CONS + 4] = (0).to_bytes(4, "little")
    page[XENCONS_OFF_OUT_PROD:XENCONS_OFF_OUT_PROD + 4] = len(SECRET).to_bytes(4, "little")
    return bytes(page)


def test_ballooned_console_page_is_never_handed_to_a_victim():
    m, mallory = boot(victims=0)
    m.run_for(20_000_000)
    console = mallory.console_mfn
    # mallory unmaps the page from its direct map and gives it back to Xen
    assert mallory.hypercall("update_va_mapping", 0xC0000000 + (1 << 12), 0, UVMF_INVLPG) == 0
    res = xen_memory_reservation(extent_start=[console], nr_extents=1)
    assert mallory.hypercall("memory_op", XENMEM_decrease_reservation, res) == 1
    assert int(m.frame_table.owner[console]) == mallory.domain_id      # dom0's mapping still holds it
    free_mb = (m.frame_table.free_frames - 64) >> 8
    victim = m.create_domain(xenlab.DomainConfig(name="victim", memory=free_mb))
    assert console not in owned(m, victim)
    ring = _ring_page()
    frames = sorted(owned(m, victim) - m.xen_heap_frames - {victim.console_mfn})
    for f in frames:
        if int(m.frame_table.type_info[f]) >> 29 in (0, 7):
            m.memory.write_bytes(f * PAGE, ring)
    before = {f: frame_bytes(m, f) for f in owned(m, victim)}
    m.xend.consoled.handle(mallory.domain_id)                           # a notification from mallory
    assert before == {f: frame_bytes(m, f) for f in owned(m, victim)}, "dom0 wrote into the victim"
    out = "\n".join(mallory.console_output) + m.xend.consoled.partial.get(mallory.domain_id, "")
    assert "VICTIM-SECRET" not in out and "VICTIM-SECRET" not in str(xenlab.xm(m, "console mallory"))
    # mallory dies: the daemon lets go of the page and it is freed
    xenlab.xm(m, "destroy mallory")
    assert int(m.frame_table.owner[console]) == FREE and mallory.domain_id not in m.domains


def test_console_still_works_and_mapping_is_released_on_destroy():
    m, mallory, other = boot(victims=1)
    m.run_for(50_000_000)
    assert "Linux version" in str(xenlab.xm(m, "console victim0"))
    consoled = m.xend.consoled
    assert other.domain_id in consoled.mapped
    assert consoled.page(other.domain_id) == other.console_mfn << 12     # what dom0's entry reaches
    mfns = owned(m, other)
    free0 = m.frame_table.free_frames
    xenlab.xm(m, "destroy victim0")
    assert other.domain_id not in consoled.mapped and other.domain_id not in m.domains
    assert m.frame_table.free_frames == free0 + len(mfns)
