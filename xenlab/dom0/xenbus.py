"""xenbus in dom0's kernel: the same Linux code as the guest's (drivers/xen/xenbus), used by the back
ends. It lives in xenlab/guest/xenbus.py; this module keeps the old import path working."""
from xenlab.guest.xenbus import (LEGAL_TRANSITIONS, S, XenbusDevice, XenbusError, XenbusProbe,  # noqa: F401
                                 backend_path, emit_state, frontend_path, publish, read_state, switch_state,
                                 transaction, xenbus_dev_fatal, xenbus_switch_state)
