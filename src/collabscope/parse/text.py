"""Small polars string expressions shared by the parsers."""

from __future__ import annotations

import polars as pl

# WoS exports sometimes carry HTML entities ('R&amp; D', 'Ni&#8211; Rh'): the ';' that ends
# one is not a separator ('R&D; Cities' and 'AT&T; Philips' are not entities: named ones are
# lower case). It is parked as a private-use character while splitting.
ENTITY = r"&(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|[a-z][a-z0-9]{1,7});"
ENTITY_END = "\ue000"


def protect_entities(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(ENTITY, "&${1}" + ENTITY_END)


def restore_entities(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(ENTITY_END, ";", literal=True)


def split_list(text: pl.Expr, separator: str = ";") -> pl.Expr:
    """'a; b; ; c' -> ['a', 'b', 'c']: parts stripped, empty parts dropped; null stays null."""
    if separator == ";":
        text = protect_entities(text)
    return (
        text.str.split(separator)
        .list.eval(restore_entities(pl.element()).str.strip_chars())
        .list.eval(pl.element().filter(pl.element().str.len_bytes() > 0))
    )


# What polars' strip_chars() removes (Unicode White_Space). Python's str.strip() also removes
# the separators U+001C-U+001F; the line-by-line tokeniser strips exactly this set instead,
# so that both tokenisers read every line the same way.
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace() and not 0x1C <= c <= 0x1F)
