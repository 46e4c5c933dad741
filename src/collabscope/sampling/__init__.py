"""Interview sampling: the participant pool, a seeded stratified draw and the invitations.

- :mod:`.names`: name and e-mail keys (case, accents, punctuation dropped).
- :mod:`.pool`: each author's side on each paper, e-mails linked to authors, the paper's lead
  side, disambiguation into people (every merge with its reason) and one row per person.
- :mod:`.draw`: strata, filters and the user's exclusion list; the seeded draw and the codes.
- :mod:`.invitations`: the user's Jinja template rendered per invitee, and a mail-merge CSV.
- :mod:`.stage`: file I/O, with everything personal under ``results/private/`` (0700/0600).
"""
