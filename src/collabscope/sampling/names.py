"""Name and e-mail keys for linking and disambiguation, as polars expressions.

Names are compared in a plain form: lower case, accents dropped (NFKD, combining marks
removed), hyphens, dots and apostrophes dropped, spaces collapsed. So 'Li, Xiao-Ming',
'LI, XIAOMING' and 'Li, Xiaoming' have one key, and 'Müller, Jörg' meets 'Muller, Jorg'.

A *full name* is an AF name that says more than the AU form: 'Li, Xiaoming' (AU 'Li, XM') is
one, 'Li, XM' (AF = AU, as old records write it) is not. Only full names take part in the
name rules of disambiguation: two 'Li, X' are never merged by name alone.
"""

from __future__ import annotations

import polars as pl


def plain_text(text: pl.Expr) -> pl.Expr:
    """Lower case, accents dropped, letters, digits, commas and single spaces kept."""
    return (
        text.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[\-\.'’`]", "")
        .str.replace_all(r"[^a-z0-9, ]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def surname(name: pl.Expr) -> pl.Expr:
    """Plain surname: the part before the first comma, spaces dropped ('de souza' -> 'desouza')."""
    return plain_text(name).str.split(",").list.first().str.replace_all(" ", "")


def given_tokens(name: pl.Expr) -> pl.Expr:
    """Plain given-name tokens: the part after the first comma, split on spaces."""
    rest = plain_text(name).str.replace(r"^[^,]*,?", "").str.replace_all(",", " ")
    return rest.str.strip_chars().str.split(" ").list.eval(pl.element().filter(pl.element() != ""))


def initials(au: pl.Expr) -> pl.Expr:
    """Plain initials of an AU name ('Li, XM' -> 'xm', 'Smith, J.A.' -> 'ja')."""
    return given_tokens(au).list.join("")


def au_key(au: pl.Expr) -> pl.Expr:
    """'surname|initials' of an AU name; null when there is no surname."""
    key = pl.concat_str([surname(au), pl.lit("|"), initials(au)])
    return pl.when(surname(au).str.len_chars() > 0).then(key)


def has_full_name(au: pl.Expr, af: pl.Expr) -> pl.Expr:
    """The AF name spells out a given name: a given token of two or more letters, and the
    plain AF differs from the plain AU."""
    longest = given_tokens(af).list.eval(pl.element().str.len_chars()).list.max()
    return (
        af.is_not_null()
        & (longest.fill_null(0) >= 2)
        & (plain_text(af) != plain_text(au.fill_null("")))
    ).fill_null(False)


def full_key(au: pl.Expr, af: pl.Expr) -> pl.Expr:
    """'surname|given given' of a full name; null when the AF is no full name."""
    key = pl.concat_str([surname(af), pl.lit("|"), given_tokens(af).list.join(" ")])
    return pl.when(has_full_name(au, af)).then(key)


def name_key(text: pl.Expr) -> pl.Expr:
    """'surname|given' of a name written by a user ('Li, Xiaoming', 'LI, X.'), for matching
    an exclusion list against both kinds of key."""
    return pl.concat_str([surname(text), pl.lit("|"), given_tokens(text).list.join(" ")])


def email_key(email: pl.Expr) -> pl.Expr:
    """An e-mail address as compared: trimmed, lower case, a 'mailto:' prefix dropped; null
    unless it has the form local@domain."""
    text = email.str.strip_chars().str.to_lowercase().str.replace(r"^mailto:", "")
    return pl.when(text.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")).then(text)


def email_letters(email: pl.Expr) -> pl.Expr:
    """The letters of an e-mail's local part ('angel.vazquez2' -> 'angelvazquez')."""
    local = email.str.split("@").list.first()
    return plain_text(local).str.replace_all(r"[^a-z]", "")


ORCID_PATTERN = r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$"


def orcid_key(orcid: pl.Expr) -> pl.Expr:
    """An ORCID iD as 0000-0000-0000-000X (a resolver prefix dropped); null when malformed."""
    text = (
        orcid.str.strip_chars()
        .str.to_uppercase()
        .str.replace(r"^(?:HTTPS?://)?(?:WWW\.)?ORCID\.ORG/", "")
    )
    return pl.when(text.str.contains(ORCID_PATTERN)).then(text)
