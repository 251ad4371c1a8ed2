"""Xen's errno values (xen/include/xen/errno.h at RELEASE-3.0.0; identical in public/errno.h today).

Hypercalls return the negative of these, exactly as in C: ``-EINVAL`` is ``-22``.
"""
EPERM = 1
ENOENT = 2
ESRCH = 3
EINTR = 4
EIO = 5
ENXIO = 6
E2BIG = 7
ENOEXEC = 8
EBADF = 9
ECHILD = 10
EAGAIN = 11
ENOMEM = 12
EACCES = 13
EFAULT = 14
EBUSY = 16
EEXIST = 17
EXDEV = 18
ENODEV = 19
EISDIR = 21
EINVAL = 22
ENFILE = 23
EMFILE = 24
ENOSPC = 28
ERANGE = 34
EDEADLK = 35
ENOSYS = 38
ENOTEMPTY = 39
EOVERFLOW = 75
EOPNOTSUPP = 95
ENOTCONN = 107
ETIMEDOUT = 110
EALREADY = 114

ERRNO_NAMES: dict[int, str] = {v: k for k, v in dict(globals()).items()
                               if k.startswith("E") and isinstance(v, int)}


def errno_name(rc: int) -> str:
    """'-EINVAL' for -22, '0' for 0, the number itself for a positive result."""
    if rc >= 0:
        return str(rc)
    return "-" + ERRNO_NAMES.get(-rc, f"E?{-rc}")
