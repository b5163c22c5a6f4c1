"""User names in one form: what is stored, keyed, audited and compared.

``normalise`` is applied before anything is stored or keyed (the sign-in
form, ``crisisdash user add`` and every account look-up), so ``Alice``,
``alice`` and ``ａｌｉｃｅ`` (full-width) name one account and hit one
sign-in lock (OWASP Authentication Cheat Sheet: user names are
case-insensitive; Unicode TR #15 for NFKC; Unicode TR #31 / Python
``str.casefold`` for caseless matching).

The raw input is cut at ``MAX_RAW`` characters before any work on it, so a
megabyte posted as a user name costs no more than a short one; a name still
longer than ``MAX_LENGTH`` once normalised names no account and is refused
with ``UserNameTooLong`` (callers key and audit ``bounded(raw)`` instead).

Existing accounts need no migration: every name ever stored matched
``^[a-z0-9][a-z0-9._-]{1,63}$`` (lower-case ASCII), which ``normalise``
leaves unchanged.

Domain core: standard library only.
"""
from __future__ import annotations

import unicodedata

#: Longest user name an account may have (characters, after normalising).
MAX_LENGTH = 64
#: Characters of raw input looked at (NFKC can expand a character up to 18-fold, never shrink many to one).
MAX_RAW = 4 * MAX_LENGTH
#: Appended to a name that was cut (``bounded``).
CUT_MARK = "…[cut]"


class UserNameTooLong(ValueError):
    """A user name longer than ``MAX_LENGTH`` characters once normalised (no account has it)."""


def _fold(raw: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw[:MAX_RAW]).casefold()).strip()


def normalise(raw: str) -> str:
    """``raw`` (a str of any length) as NFKC, case-folded, stripped of surrounding white space.

    Raises ``UserNameTooLong`` when the result (of at most the first ``MAX_RAW`` characters) is longer than
    ``MAX_LENGTH`` characters, or ``raw`` itself is longer than ``MAX_RAW``.
    """
    if len(raw) > MAX_RAW:
        raise UserNameTooLong(f"user names are at most {MAX_LENGTH} characters")
    name = _fold(raw)
    if len(name) > MAX_LENGTH:
        raise UserNameTooLong(f"user names are at most {MAX_LENGTH} characters")
    return name


def bounded(raw: str) -> str:
    """``raw`` normalised, or, when too long, its first ``MAX_LENGTH`` normalised characters and ``CUT_MARK``:
    at most ``MAX_LENGTH + len(CUT_MARK)`` characters, for keys and audit entries. Never raises."""
    try:
        return normalise(raw)
    except UserNameTooLong:
        return _fold(raw)[:MAX_LENGTH] + CUT_MARK
