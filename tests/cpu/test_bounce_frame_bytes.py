"""create_bounce_frame writes a real exception frame on the guest's ring-1 stack
(X@RELEASE-3.0.0:xen/arch/x86/x86_32/entry.S:356-408), read back from machine memory."""
import xenlab
from xenlab.guest.cpu import KERNEL_STACK_TOP, read_stack
from xenlab.hw import idt
from xenlab.hw.paging import walk
from xenlab.xen import traps as T
from xenlab.xen.event import vcpu_info_write
from xenlab.xen.public.arch_x86_32 import FLAT_USER_CS, FLAT_USER_SS


def domu():
    m = xenlab.Machine(seed=11, memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16))
    return m, d, d.vcpus[0]


def raw_words(m, v, va, n):
    return [m.memory.read_u32(walk(m.memory, v.cr3, va + 4 * i, "r", m.paging, set_ad=False)[0]) for i in range(n)]


def test_gp_from_ring3_pushes_error_eip_cs_eflags_esp_ss_below_kernel_sp():
    m, d, v = domu()
    frame = idt.exception(v, 13, error_code=0x1234, from_ring=3)      # the CPU raises #GP, Xen bounces it
    assert frame is not None and frame.frame_esp == KERNEL_STACK_TOP - 24
    # Lowest address first: error code, EIP, CS (mask 0 in bits 16-23), EFLAGS (IF set, as mask was 0),
    # the interrupted ESP and SS (pushed because the guest came from ring 3).
    expected = [0x1234, T.USER_EIP, FLAT_USER_CS, 0x202, T.USER_ESP, FLAT_USER_SS]
    assert raw_words(m, v, frame.frame_esp, 6) == expected
    assert read_stack(d.kernel, v, 6) == expected                      # what the handler sees at its ESP


def test_saved_upcall_mask_goes_into_cs_bits_16_23_and_clears_if():
    m, d, v = domu()
    vcpu_info_write(v, "evtchn_upcall_mask", 1)
    frame = T.do_trap(v, 6, from_ring=3)                                 # #UD: no error code
    words = raw_words(m, v, frame.frame_esp, 5)
    assert frame.frame_esp == KERNEL_STACK_TOP - 20
    assert words[1] == FLAT_USER_CS | 1 << 16
    assert words[2] & (1 << 9) == 0                                      # EFLAGS.IF = !saved_upcall_mask


def test_page_fault_frame_has_the_error_code_and_cr2_is_in_vcpu_info_not_on_the_stack():
    m, d, v = domu()
    frame = T.do_page_fault(v, 0x0804A123, 6, from_ring=3)              # user write, not present
    assert raw_words(m, v, frame.frame_esp, 2) == [6, T.USER_EIP]
    from xenlab.xen.event import vcpu_info_read
    assert vcpu_info_read(v, "arch.cr2") == 0x0804A123


def test_a_stack_xen_cannot_write_crashes_the_domain():
    # The guest maps its own stack page read-only: the FLT* fixup of create_bounce_frame fires.
    m, d, v = domu()
    mm = d.kernel.mm
    page = KERNEL_STACK_TOP - 4096
    pfn = (page - 0xC0000000) >> 12
    assert d.hypercall("update_va_mapping", page, mm.pte(pfn, writable=False), 0) == 0
    assert T.do_trap(v, 13, error_code=0, from_ring=3) is None
    assert d.is_shutdown and d.shutdown_code is not None
    assert any("cannot write the exception frame" in line for line in m.console_ring)
