"""CPU exceptions raised by the hardware model (#GP, #NP, #SS, #PF).

These are Python exceptions of the *hardware*: the segment and paging units raise them when the x86
rules say the CPU would fault. They carry the vector and the error code the CPU would push, so the
hypervisor can catch one and turn it into a trap (Xen's ``do_general_protection``, ``do_page_fault``
in ``xen/arch/x86/traps.c``) exactly as it would handle the real exception.

Vector names are Xen's (``TRAP_*`` in ``X@RELEASE-3.0.0:xen/include/asm-x86/processor.h``).

Simplifications:
- Only the exceptions the memory model can raise exist; no #DF escalation, no EXT/IDT error-code bits.
"""
from __future__ import annotations

TRAP_no_segment = 11      # #NP: segment not present
TRAP_stack_error = 12     # #SS: stack segment fault
TRAP_gp_fault = 13        # #GP: general protection
TRAP_page_fault = 14      # #PF


class X86Fault(Exception):
    """A CPU exception: ``vector`` and the ``error_code`` the CPU pushes on the stack."""

    vector = -1
    mnemonic = "#??"

    def __init__(self, error_code: int = 0, reason: str = ""):
        self.error_code = int(error_code)
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"{self.mnemonic}({self.error_code:#x}){why}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(error_code={self.error_code:#x}, reason={self.reason!r})"


class GeneralProtectionFault(X86Fault):
    """#GP: a segment rule broken. For a bad selector the error code is ``selector & 0xfffc``."""

    vector = TRAP_gp_fault
    mnemonic = "#GP"


class SegmentNotPresent(X86Fault):
    """#NP: loading a data/code segment whose descriptor has P=0."""

    vector = TRAP_no_segment
    mnemonic = "#NP"


class StackFault(X86Fault):
    """#SS: a not-present stack segment, or an access outside SS's limit."""

    vector = TRAP_stack_error
    mnemonic = "#SS"
