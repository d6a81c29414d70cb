"""How a notebook script reads: its prose sentences and its code lines, measured the way issue
#41 counts them (list items and paragraphs are sentences of their own; comments and blank lines
are not code lines)."""

from __future__ import annotations

import re
from pathlib import Path

WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
# A sentence ends at . ! or ? followed by a space and a capital, a backtick, a quote or a bracket.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"(*])")


def cells(path: Path) -> list[tuple[str, list[str]]]:
    """The jupytext percent cells of ``path`` as (kind, lines), kind "markdown" or "code"; the
    header before the first cell is left out."""
    found, kind, lines = [], None, []
    for line in Path(path).read_text().splitlines():
        if line.startswith("# %%"):
            if kind:
                found.append((kind, lines))
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind:
            lines.append(line)
    if kind:
        found.append((kind, lines))
    return found


def code_lines(path: Path) -> list[str]:
    """Every code line that is neither blank nor a comment, in order."""
    return [
        line
        for kind, lines in cells(path)
        if kind == "code"
        for line in lines
        if line.strip() and not line.strip().startswith("#")
    ]


def prose_blocks(path: Path) -> list[str]:
    """Paragraphs and list items of the markdown cells, headings left out, one string each."""
    blocks = []
    for kind, lines in cells(path):
        if kind != "markdown":
            continue
        current: list[str] = []
        for line in [line.removeprefix("#").removeprefix(" ") for line in lines] + [""]:
            starts_item = re.match(r"\s*([-*]|\d+\.)\s", line)
            if not line.strip() or line.startswith("#") or starts_item:
                if current:
                    blocks.append(" ".join(current))
                current = [] if not starts_item else [line.strip()]
            else:
                current.append(line.strip())
    return blocks


def sentences(path: Path) -> list[str]:
    return [s for block in prose_blocks(path) for s in SENTENCE_END.split(block) if WORD.search(s)]


def word_count(text: str) -> int:
    return len(WORD.findall(text))


def markdown_words(path: Path) -> int:
    """Every word of the markdown cells, headings included: what a word limit counts."""
    lines = [line.removeprefix("#") for kind, lines in cells(path) if kind == "markdown"
             for line in lines]  # fmt: skip
    return word_count("\n".join(lines))


def prose_stats(path: Path) -> dict:
    found = sentences(path)
    lengths = [word_count(s) for s in found]
    longest = max(found, key=word_count)
    return {
        "words": sum(lengths),
        "words_with_headings": markdown_words(path),
        "sentences": len(found),
        "average": sum(lengths) / len(found),
        "longest": max(lengths),
        "longest_sentence": longest,
    }


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:]:
        stats = prose_stats(Path(name))
        code = code_lines(Path(name))
        first_fit = next((i + 1 for i, line in enumerate(code) if ".fit(" in line), None)
        print(name, {k: v for k, v in stats.items() if k != "longest_sentence"})
        print("  code lines", len(code), "first fit on code line", first_fit)
        print("  longest:", stats["longest_sentence"])
