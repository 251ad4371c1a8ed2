"""Extract Xen's numeric #defines from a tag of Xen's history into a JSON table of facts.

    python tools/xen_defines.py GIT_DIR RELEASE-3.0.0 > tests/data/xen_3_0_0_defines.json
    python tools/xen_defines.py GIT_DIR RELEASE-2.0.0 > tests/data/xen_2_0_0_defines.json

GIT_DIR is a clone (or bare mirror) of Xen's repository. The script reads the public headers and the
few internal headers whose constants the model mirrors, keeps every ``#define NAME <integer expression>``
it can evaluate (decimal, hex, shifts, |, +, -, ~ and parentheses over earlier names), and prints
``{name: [[value, "path:line"], ...]}`` (several entries where #ifdef branches define a name differently). Only the values and where they are defined are kept: no code.
tests/xen/test_every_constant.py compares the model's constants with this table and with Debian's
libxen-dev headers.
"""
from __future__ import annotations

import ast
import json
import operator
import re
import subprocess
import sys

HEADERS = ("xen/include/public/", "xen/include/asm-x86/mm.h", "xen/include/asm-x86/shadow.h",
           "xen/include/asm-x86/page.h", "xen/include/asm-x86/x86_32/page-2level.h",
           "xen/include/asm-x86/x86_32/page-3level.h", "xen/include/xen/softirq.h", "xen/include/xen/sched.h",
           "xen/include/asm-x86/config.h", "xen/include/xen/grant_table.h", "xen/include/xen/errno.h",
           "xen/include/asm-x86/desc.h", "xen/include/asm-x86/processor.h", "xen/include/xen/time.h",
           "xen/include/asm-x86/grant_table.h", "xen/include/xen/ac_timer.h")
DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.+?)\s*(?:/\*.*)?$")
OPS = {ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
       ast.BitAnd: operator.and_, ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
       ast.BitXor: operator.xor}


def _eval(node, env):
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in OPS:
        return OPS[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        return ~_eval(node.operand, env) & 0xFFFFFFFF           # 32-bit unsigned, as on x86_32
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand, env)
    raise ValueError("not an integer expression")


def parse(text: str, path: str, env: dict, out: dict) -> None:
    for lineno, line in enumerate(text.splitlines(), 1):
        m = DEFINE.match(line)
        if not m:
            continue
        name, expr = m.group(1), m.group(2)
        expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr)        # 1UL -> 1
        expr = re.sub(r"\(\s*(unsigned\s+)?(long|int|u32|u64|uint32_t|uint64_t)\s*\)", "", expr)   # casts
        try:
            value = _eval(ast.parse(expr.strip(), mode="eval").body, env)
        except (SyntaxError, ValueError, TypeError, KeyError, RecursionError):
            continue
        env.setdefault(name, value)
        alternatives = out.setdefault(name, [])
        if [value, f"{path}:{lineno}"] not in alternatives:
            alternatives.append([value, f"{path}:{lineno}"])


def main(git_dir: str, tag: str) -> None:
    files = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "--name-only", tag, "xen/include"],
                           check=True, capture_output=True, text=True).stdout.split()
    wanted = sorted(f for f in files if f.endswith(".h") and any(f == h or (h.endswith("/") and f.startswith(h))
                                                                 for h in HEADERS))
    env, out = {}, {}
    for _ in range(2):                       # a second pass resolves names defined in a later file
        for f in wanted:
            text = subprocess.run(["git", "--git-dir", git_dir, "show", f"{tag}:{f}"], check=True,
                                  capture_output=True, text=True).stdout
            parse(text, f, env, out)
    json.dump({"_source": f"xen-project/xen {tag}", "defines": dict(sorted(out.items()))}, sys.stdout, indent=0)
    print()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
