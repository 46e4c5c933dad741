"""Small polars string expressions shared by the parsers."""

from __future__ import annotations

import polars as pl


def split_list(text: pl.Expr, separator: str = ";") -> pl.Expr:
    """'a; b; ; c' -> ['a', 'b', 'c']: parts stripped, empty parts dropped; null stays null."""
    return (
        text.str.split(separator)
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element().str.len_bytes() > 0))
    )


# What polars' strip_chars() removes (Unicode White_Space). Python's str.strip() also removes
# the separators U+001C-U+001F; the line-by-line tokeniser strips exactly this set instead,
# so that both tokenisers read every line the same way.
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace() and not 0x1C <= c <= 0x1F)
