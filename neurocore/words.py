"""How counts are spelt in what neurocore prints: "1 epoch", "2 epochs", "1 tile"."""

from __future__ import annotations


def plural(n: int | float, word: str, many: str | None = None) -> str:
    """`n` and `word`, in the plural (`many`, default word + "s") unless n is 1."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
