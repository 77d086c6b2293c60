#!/usr/bin/env python3
"""The API reference is complete: every function, type, macro and result code of the C header
has a doc comment, and each function's says, like a libcurl man page, its threads, the
ownership of what it takes and returns, and the errors it gives (the **Threads:**,
**Ownership:** and **Errors:** items that `make docs` renders).

    scripts/check-docs.py include/codex_app_server.h
"""
import re
import sys

SECTIONS = ("**Threads:**", "**Ownership:**", "**Errors:**")


def main(path):
    text = open(path, encoding="utf-8").read()
    lines = text.split("\n")
    problems = []
    functions = 0
    others = 0
    guard = None
    for i, line in enumerate(lines):
        m = re.match(r"#ifndef (\w+)", line)
        if m and guard is None:
            guard = m.group(1)
        decl = None
        kind = None
        if re.match(r"#define (\w+)", line):
            decl, kind = re.match(r"#define (\w+)", line).group(1), "macro"
            if decl == guard:
                continue
        elif re.match(r"typedef .*\(\*(\w+)\)", line):
            decl, kind = re.match(r"typedef .*\(\*(\w+)\)", line).group(1), "callback type"
        elif re.match(r"typedef [^(]*?(\w+);", line):
            decl, kind = re.match(r"typedef [^(]*?(\w+);", line).group(1), "type"
        elif re.match(r"[a-z][^(]*?[ *](codex_\w+)\(", line):
            decl, kind = re.match(r"[a-z][^(]*?[ *](codex_\w+)\(", line).group(1), "function"
        if decl is None:
            continue
        # The doc comment right above: "/** ... */" ending on the line before.
        if i == 0 or not lines[i - 1].rstrip().endswith("*/"):
            problems.append(f"{kind} {decl}: no doc comment")
            continue
        start = i - 1
        while start > 0 and "/*" not in lines[start]:
            start -= 1
        doc = "\n".join(lines[start:i])
        if not lines[start].lstrip().startswith("/**"):
            problems.append(f"{kind} {decl}: its comment is not a doc comment (/** ... */)")
            continue
        if kind == "function":
            functions += 1
            missing = [s.strip("*:") for s in SECTIONS if s not in doc]
            if missing:
                problems.append(f"function {decl}: its doc does not say {', '.join(missing)}")
        else:
            others += 1
    if problems:
        print(f"{path}: the reference is incomplete:")
        for p in problems:
            print("  " + p)
        print("(document it in the Rust source, src/ffi/, then run `make header`)")
        return 1
    print(f"docs: {functions} functions, each with its threads, ownership and errors; "
          f"{others} types, macros and result codes documented")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
