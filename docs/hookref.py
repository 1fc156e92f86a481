"""Regenerate the hook reference in docs/plugins.md from covtool/hookspecs.py.

python docs/hookref.py          # rewrite the section between the markers
python docs/hookref.py --check  # exit 1 if it is out of date (the tests do this)
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from covtool import hookspecs

START, END = "<!-- hooks:start -->", "<!-- hooks:end -->"
PLUGINS_MD = Path(__file__).with_name("plugins.md")


def kind(function: object) -> str:
    """``firstresult``, ``historic``, ``collected`` or ``notification``."""
    opts = function.covtool_spec  # type: ignore[attr-defined]
    if opts["firstresult"]:
        return "firstresult"
    if opts["historic"]:
        return "historic"
    return "collected" if "(collected)" in (inspect.getdoc(function) or "") else "notification"


def reference() -> str:
    """The markdown for every hook, in the order and under the phases of the spec module."""
    source = inspect.getsource(hookspecs)
    parts = []
    for match in re.finditer(
        r"^# (start-up|profile|baseline|diff|gate|report|end)\b.*$|^def (covtool_\w+)", source, re.M
    ):
        if match.group(1):
            parts.append(f"### {match.group(0)[2:]}\n")
            continue
        function = getattr(hookspecs, match.group(2))
        signature = str(inspect.signature(function)).replace("'", "")
        heading = f"#### `{function.__name__}{signature}`"
        parts.append(f"{heading}\n\n*{kind(function)}*\n\n{inspect.getdoc(function)}\n")
    return "\n".join(parts)


def rewrite(text: str) -> str:
    """``text`` with the section between the markers replaced by the current reference."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{reference()}\n{END}{tail}"


def main() -> int:
    current = PLUGINS_MD.read_text()
    wanted = rewrite(current)
    if "--check" in sys.argv:
        return 0 if wanted == current else 1
    PLUGINS_MD.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
