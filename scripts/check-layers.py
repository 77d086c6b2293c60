#!/usr/bin/env python3
"""The floors of src/core import one way: each file names only modules of its own floor or of
floors below it (src/core/mod.rs draws the picture). A lower floor that needs to tell a higher
one something takes a hook passed down instead. Two modules of one floor may use each other
one way only (a circle between them is refused too).

    scripts/check-layers.py src/core
"""
import os
import re
import sys

# Bottom to top; modules on one line share a floor.
FLOORS = [
    {"error", "timer", "panic"},
    {"transport"},
    {"protocol", "options"},
    {"routing"},
    {"connection", "reconnect"},
    {"client"},
    {"pool"},
]
FLOOR_OF = {m: i for i, floor in enumerate(FLOORS) for m in floor}
PATH = re.compile(r"\b((?:crate|super)(?:::super)*)::(\w+)(?:::(\w+))?")


def module_path(root, path):
    rel = os.path.relpath(path, root)[: -len(".rs")].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    return ["core"] + rel


def resolve(module, head, first, second):
    if head == "crate":
        return second if first == "core" else None
    up = head.count("super")
    base = module[:-up] if up else module
    target = base + [first]
    return target[1] if len(target) > 1 and target[0] == "core" else None


def main(root):
    problems, checked = [], 0
    beside = {}  # (from, to) on one floor -> where first seen
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            module = module_path(root, path)
            if len(module) < 2:
                continue  # core/mod.rs declares every floor
            own = FLOOR_OF.get(module[1])
            if own is None:
                problems.append(f"{path}: module {module[1]} is on no floor (add it to FLOORS)")
                continue
            checked += 1
            for n, line in enumerate(open(path, encoding="utf-8"), 1):
                code = line.split("//")[0]
                for head, first, second in PATH.findall(code):
                    target = resolve(module, head, first, second)
                    floor = FLOOR_OF.get(target)
                    if floor is not None and floor > own:
                        problems.append(
                            f"{path}:{n}: {module[1]} (floor {own}) imports {target} (floor {floor})"
                        )
                    elif floor == own and target != module[1]:
                        beside.setdefault((module[1], target), f"{path}:{n}")
    for (a, b), where in sorted(beside.items()):
        if a < b and (b, a) in beside:
            problems.append(f"{a} and {b} import each other: {where} and {beside[(b, a)]}")
    if problems:
        print("src/core imports upwards or in a circle:")
        print("\n".join("  " + p for p in problems))
        return 1
    print(f"layers: {checked} files of src/core import only their own floor or lower ones")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "src/core"))
