#!/usr/bin/env python3
"""The API reference is complete: every function, type, macro and result code of the C header
has a doc comment, and each function's says, like a libcurl man page, its threads, the
ownership of what it takes and returns, and the errors it gives (the **Threads:**,
**Ownership:** and **Errors:** items that `make docs` renders).

    scripts/check-docs.py include/codex_app_server.h

With --pages, the prose is honest: every relative link of the given Markdown files points at a
file or directory that exists (and, for `#anchor` links into a Markdown file, at one of its
headings, spelled as GitHub spells them); http(s) and mailto links are not followed. Every
```c block compiles: `cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -Iinclude` ($CC if set).

    scripts/check-docs.py --pages README.md docs/*.md

How a ```c block is compiled (errors point at the Markdown file's lines):
- <stdio.h>, <stdlib.h>, <string.h>, <stdint.h> and "codex_app_server.h" are included first;
  the block's own #include lines stay at file scope.
- A function definition (from a line at column 0 such as `static void f(...) {` to the `}`
  that closes it) stays at file scope; every other line is a statement, and the statements
  become the body of a function `int snippet_N(void)` (so a fragment may `return 1;`).
- Variables a fragment uses but does not declare are declared by a marker right before the
  fence (an HTML comment, one or more lines); they are declared at the top of that body:
      <!-- compile: given codex_client *client = NULL; codex_error *err = NULL; -->
- A block that is not meant to compile says so, with the reason (use it sparingly):
      <!-- compile: skip pseudo-code of the protocol, not C -->
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

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


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STD_HEADERS = ("stdio.h", "stdlib.h", "string.h", "stdint.h")
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MARKER = re.compile(r"^\s*<!--\s*compile:\s*(\w+)\s*(.*?)\s*-->\s*$")
FUNCTION = re.compile(r"^(?!(?:if|for|while|switch|do|else|return)\b)[A-Za-z_][\w\s\*]*?[\s\*]\w+\s*"
                      r"\([^;]*\)\s*\{")


def github_slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"`|\*\*|__", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def split_blocks(text):
    """The prose lines (fences excluded) and the fenced blocks (language, first line, lines,
    and the text before the fence: its last line that is not blank, or the whole HTML comment
    that ends there) of a Markdown text; lines are 1-based."""
    prose, blocks = [], []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        fence, lang, start = m.group(2), m.group(3).lower(), i + 1
        j = next((j for j in range(i - 1, -1, -1) if lines[j].strip()), -1)
        before = lines[j] if j >= 0 else ""
        if before.rstrip().endswith("-->"):           # an HTML comment, maybe over several lines
            k = j
            while k > 0 and "<!--" not in lines[k]:
                k -= 1
            before = " ".join(l.strip() for l in lines[k:j + 1])
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence[0] * len(fence)):
            body.append(lines[i])
            i += 1
        i += 1
        blocks.append((lang, start + 1, body, before))
    return prose, blocks


def headings(path):
    prose, _ = split_blocks(open(path, encoding="utf-8").read())
    slugs = set()
    for _, line in prose:
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            slugs.add(github_slug(m.group(1)))
    return slugs


def check_links(path, prose, problems):
    count = 0
    for n, line in prose:
        line = re.sub(r"`[^`]*`", "", line)          # code spans are not links
        for target in LINK.findall(line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):   # http:, https:, mailto:
                continue
            count += 1
            file_part, _, anchor = target.partition("#")
            where = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            if not os.path.exists(where):
                problems.append(f"{path}:{n}: link to {target}: {where} does not exist")
            elif anchor and where.endswith(".md") and anchor not in headings(where):
                problems.append(f"{path}:{n}: link to {target}: {where} has no heading #{anchor}")
    return count


def snippet_source(path, start, body, given, index):
    """A C translation unit of one ```c block, #line directives pointing at the Markdown."""
    out = [f"#include <{h}>" for h in STD_HEADERS] + ['#include "codex_app_server.h"']
    statements = []
    i = 0
    while i < len(body):
        line, n = body[i], start + i
        if line.startswith("#"):
            out += [f'#line {n} "{path}"', line]
        elif FUNCTION.match(line):
            depth = 0
            while True:
                out += [f'#line {start + i} "{path}"', body[i]]
                code = re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'|/\*.*?\*/|//.*', "", body[i])
                depth += code.count("{") - code.count("}")
                if depth <= 0 or i + 1 == len(body):
                    break
                i += 1
        elif line.strip():
            statements.append((n, line))
        i += 1
    if statements or given:
        out.append(f"int snippet_{index}(void);")
        out.append(f"int snippet_{index}(void) {{")
        if given:
            out += [f'#line {start - 1} "{path}"', "    " + given]
        for n, line in statements:
            out += [f'#line {n} "{path}"', "    " + line]
        out += ["    return 0;", "}"]
    return "\n".join(out) + "\n"


def compile_snippet(source):
    cc = os.environ.get("CC", "cc")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "snippet.c")
        with open(src, "w", encoding="utf-8") as f:
            f.write(source)
        r = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                            "-I" + os.path.join(ROOT, "include"), src],
                           capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


def check_pages(paths):
    problems = []
    links = compiled = skipped = 0
    for path in paths:
        prose, blocks = split_blocks(open(path, encoding="utf-8").read())
        links += check_links(path, prose, problems)
        for lang, start, body, before in blocks:
            if lang != "c":
                continue
            marker = MARKER.match(before)
            mode, rest = (marker.group(1), marker.group(2)) if marker else ("given", "")
            if mode == "skip":
                if not rest:
                    problems.append(f"{path}:{start - 1}: a skipped C block must say why")
                skipped += 1
                continue
            if mode != "given":
                problems.append(f"{path}:{start - 1}: unknown marker 'compile: {mode}'")
                continue
            rc, output = compile_snippet(snippet_source(path, start, body, rest, compiled + skipped))
            compiled += 1
            if rc != 0:
                problems.append(f"{path}:{start}: the C block does not compile:\n" +
                                "\n".join("    " + l for l in output.split("\n")))
    if problems:
        print("docs: the pages are not honest:")
        for p in problems:
            print("  " + p)
        return 1
    note = f" ({skipped} skipped, each saying why)" if skipped else ""
    print(f"docs: {links} links checked, {compiled} C snippets compiled{note} "
          f"in {len(paths)} pages")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pages"]:
        pages = sys.argv[2:] or ["README.md"] + sorted(glob.glob("docs/*.md"))
        sys.exit(check_pages(pages))
    sys.exit(main(sys.argv[1]))
