"""Strings added for issue 14's second round of chapter 12's cost model: the operations that copy data
(bytes read or written by system calls) and clear fresh pages (first touches of anonymous memory)."""

PL: dict[str, object] = {
    "perf.op.nullsys": "proste wywołanie (read, write, lseek, close)",
    "perf.op.rbyte": "bajty odczytane z pliku lub potoku",
    "perf.op.wbyte": "bajty zapisane do pliku",
    "perf.op.zero": "zerowanie nowej strony",
}

EN: dict[str, object] = {
    "perf.op.nullsys": "plain system call (read, write, lseek, close)",
    "perf.op.rbyte": "bytes read from a file or pipe",
    "perf.op.wbyte": "bytes written to a file",
    "perf.op.zero": "clearing a fresh page",
}
