"""Where the model's guest kernel puts its text and its vcpus' ring-1 stacks (virtual addresses).

Shared by the trap code (guest/cpu.py: handler addresses, stack_switch), the context switch
(guest/switch_to.py: esp0) and the page-table code (guest/mm.py: the stack pages are never handed out),
so none of them has to import another for three numbers.
"""
from __future__ import annotations

PAGE_OFFSET = 0xC0000000           # the kernel's direct map of its pseudo-physical memory
KERNEL_TEXT = 0xC0100000           # where the model puts the guest's handlers (addresses are labels)
KERNEL_STACK_TOP = 0xC0400000
STACK_SIZE = 0x2000                # 8 KiB per vcpu, as i386 Linux's THREAD_SIZE

__all__ = ["PAGE_OFFSET", "KERNEL_TEXT", "KERNEL_STACK_TOP", "STACK_SIZE"]
