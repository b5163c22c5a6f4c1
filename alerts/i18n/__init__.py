"""The user interface's languages: which are shipped, which one a request speaks, and its translations.

Shipped: English (the source language of every message) and twelve languages of the region, as BCP 47
tags (RFC 5646; never ``sr-SR``): ``sq``, ``bs``, ``bg``, ``hr``, ``el``, ``mk``, ``cnr`` (Montenegrin,
ISO 639-3, Latin script), ``ro``, ``sr-Cyrl``, ``sr-Latn``, ``sl``, ``tr``.

Catalogues are GNU gettext ``.po`` files in ``alerts/i18n/catalogues`` (one per tag, from the template
``messages.pot`` that ``python -m alerts.i18n.extract`` writes from the source), compiled in memory when a
process first needs them (``load``; ``create_app`` loads them all at start, so a broken catalogue stops
the start, not a page). Plural forms follow CLDR (through Babel): each catalogue's ``Plural-Forms`` is
Babel's ``to_gettext`` of the language's CLDR rule, so the server (gettext) and the browser
(``Intl.PluralRules``, ``assets/contract.js``) choose the same form. A message missing from ``cnr`` is
looked up in ``sr-Latn`` (``FALLBACK``), then left in English.

The language of the current request is a context variable (``use`` / ``reset``; ``current``): the
authentication middleware sets the user's chosen language, or the best shipped match of the browser's
``Accept-Language`` (``negotiate``). ``gettext``/``ngettext`` translate into it; ``N_`` only marks a
message for extraction where it is defined (a module constant) so that ``gettext`` can translate it
where it is shown. Never translated: TLP labels and classification markings (FIRST TLP 2.0; the
deployment's own levels), alert content (except a CAP ``<info>`` the message carries in the viewer's
language, chosen by ``best_match``), names and identifiers.

Pure Python and Babel: no Dash, no Redis.
"""
from __future__ import annotations

import contextvars
import functools
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.plural import to_gettext
from babel.support import NullTranslations, Translations

#: The source language.
SOURCE = "en"
#: Every shipped UI language (BCP 47), the source first.
SHIPPED = ("en", "sq", "bs", "bg", "hr", "el", "mk", "cnr", "ro", "sr-Cyrl", "sr-Latn", "sl", "tr")
#: Where a language without a message of its own looks next (the issue: ``cnr`` falls back to ``sr-Latn``).
FALLBACK = {"cnr": "sr-Latn"}
#: The CLDR locale (Babel's identifier) whose data (plural rules, number symbols, names) a tag uses: CLDR
#: has no ``cnr``; Montenegrin Latin uses Serbian Latin as written in Montenegro.
CLDR = {"cnr": "sr_Latn_ME", "sr-Cyrl": "sr_Cyrl", "sr-Latn": "sr_Latn"}
#: CLDR plural categories in the order gettext numbers the forms (Babel's ``to_gettext`` order).
PLURAL_ORDER = ("zero", "one", "two", "few", "many", "other")
CATALOGUES = Path(__file__).with_name("catalogues")


class CatalogueError(ValueError):
    """A shipped catalogue that cannot be read or does not match its language (the message says which)."""


def cldr_locale(tag: str) -> Locale:
    """The Babel ``Locale`` of a shipped tag (``CLDR``; else the tag with ``_``)."""
    return Locale.parse(CLDR.get(tag, tag.replace("-", "_")))


def plural_forms(tag: str) -> str:
    """The gettext ``Plural-Forms`` header for ``tag``: its CLDR rule, through ``babel.plural.to_gettext``."""
    return to_gettext(cldr_locale(tag).plural_form)


def plural_categories(tag: str) -> list[str]:
    """The CLDR categories of ``tag`` in gettext form order (``msgstr[i]`` is ``categories[i]``)."""
    tags = set(cldr_locale(tag).plural_form.tags) | {"other"}
    return [c for c in PLURAL_ORDER if c in tags]


def display_name(tag: str) -> str:
    """The language's own name (CLDR), e.g. ``српски (ћирилица)``; Montenegrin says so in its own words."""
    if tag == "cnr":
        return "crnogorski"
    return cldr_locale(tag).get_display_name(cldr_locale(tag)) or tag


# --- choosing the language --------------------------------------------------------------------------------
def canonical(tag: str | None) -> str | None:
    """The shipped tag that ``tag`` names exactly (case-insensitive, ``_`` or ``-``), or None."""
    if not tag:
        return None
    wanted = tag.replace("_", "-").lower()
    return next((s for s in SHIPPED if s.lower() == wanted), None)


def _closest(tag: str) -> str | None:
    """The shipped language for one ``Accept-Language`` range (RFC 4647 lookup, with CLDR likely subtags
    for the script: ``sr`` and ``sr-RS`` are Cyrillic, ``sr-ME`` Latin; ``sh`` is Serbo-Croatian in Latin)."""
    exact = canonical(tag)
    if exact:
        return exact
    parts = tag.replace("_", "-").split("-")
    language = parts[0].lower()
    if language == "sh":
        return "sr-Latn"
    if language == "sr":
        script = next((p.title() for p in parts[1:] if len(p) == 4), None)
        if script is None:
            try:
                script = Locale.parse("_".join(["sr"] + [p.upper() for p in parts[1:] if len(p) == 2])).script
            except (ValueError, UnknownLocaleError):
                script = None
            if script is None:  # CLDR likely subtags: sr -> sr_Cyrl_RS; sr_ME -> sr_Latn_ME
                region = next((p.upper() for p in parts[1:] if len(p) == 2), "RS")
                script = "Latn" if region in ("ME",) else "Cyrl"
        return canonical(f"sr-{script}")
    return canonical(language)


def negotiate(accept_language: str | None) -> str:
    """The shipped language that best answers an HTTP ``Accept-Language`` header (RFC 9110 section 12.5.4:
    ranges by ``q`` weight, ``q=0`` refused), or ``SOURCE`` when none does. Never raises."""
    ranges = []
    for position, item in enumerate((accept_language or "")[:1024].split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and tag != "*" and weight > 0:
            ranges.append((-weight, position, tag.strip()))
    for _weight, _position, tag in sorted(ranges):
        found = _closest(tag)
        if found:
            return found
    return SOURCE


# --- the current language --------------------------------------------------------------------------------
_current: contextvars.ContextVar[str] = contextvars.ContextVar("crisis_language", default=SOURCE)


def use(tag: str) -> contextvars.Token:
    """Make ``tag`` (a shipped tag; anything else means ``SOURCE``) the current language; returns the token
    to ``reset`` with."""
    return _current.set(canonical(tag) or SOURCE)


def reset(token: contextvars.Token) -> None:
    """Restore the language that was current before ``use``."""
    _current.reset(token)


def current() -> str:
    """The current request's language (a shipped tag)."""
    return _current.get()


# --- catalogues --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Catalogue:
    """One language's compiled messages: ``translations`` (gettext, with the fallback chain) and the
    messages the browser scripts use (``browser``: msgid -> text, or for a plural msgid -> {category: text})."""

    tag: str
    translations: NullTranslations
    browser: dict


def catalogue_path(tag: str) -> Path:
    """The ``.po`` file of a shipped tag."""
    return CATALOGUES / f"{tag}.po"


@functools.cache
def load(tag: str) -> Catalogue:
    """The compiled catalogue of a shipped tag (read once per process). Raises ``CatalogueError`` for a
    file that cannot be read or parsed, or whose ``Plural-Forms`` differs from CLDR's (``plural_forms``)."""
    tag = canonical(tag) or SOURCE
    if tag == SOURCE:
        return Catalogue(tag, NullTranslations(), {})
    path = catalogue_path(tag)
    try:
        with path.open("rb") as po:
            catalog = read_po(po, locale=CLDR.get(tag, tag.replace("-", "_")), abort_invalid=True)
    except (OSError, ValueError, UnknownLocaleError) as error:
        raise CatalogueError(f"{path.name}: {error}") from error
    header = catalog.mime_headers
    declared = dict(header).get("Plural-Forms", "").strip()
    if declared != plural_forms(tag):
        raise CatalogueError(f"{path.name}: Plural-Forms {declared!r} is not CLDR's {plural_forms(tag)!r}")
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    translations = Translations(compiled)
    if tag in FALLBACK:
        translations.add_fallback(load(FALLBACK[tag]).translations)
    categories = plural_categories(tag)
    browser = dict(load(FALLBACK[tag]).browser) if tag in FALLBACK else {}
    for message in catalog:
        if not message.id or not any(path.endswith(".js") for path, _line in message.locations):
            continue
        if isinstance(message.id, tuple):
            if any(message.string):
                browser[message.id[0]] = {c: message.string[i] for i, c in enumerate(categories)
                                          if i < len(message.string) and message.string[i]}
        elif message.string:
            browser[message.id] = message.string
    return Catalogue(tag, translations, browser)


def load_all() -> None:
    """Compile every shipped catalogue now (raises ``CatalogueError`` for the first broken one)."""
    for tag in SHIPPED:
        load(tag)


def gettext(message: str) -> str:
    """``message`` (English) in the current language; itself where the catalogue has no translation."""
    return load(current()).translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for the count ``n`` (CLDR plural rules) in the current language;
    format the count in afterwards, e.g. ``ngettext("%(n)s asset", "%(n)s assets", n) % {"n": number(n)}``."""
    return load(current()).translations.ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Mark ``message`` for extraction without translating it (a module constant, translated where shown)."""
    return message


def number(value: float | int, digits: int | None = None) -> str:
    """``value`` written the current language's way (CLDR decimal symbols and grouping), ``digits`` fixed
    fraction digits when given (``1 234,5`` in ``bg``)."""
    pattern = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=cldr_locale(current()))


def upper(text: str) -> str:
    """``text`` in capitals as the current language writes them: Greek drops the tonos in all-capitals
    (``κρίσιμη`` -> ``ΚΡΙΣΙΜΗ``, not ``ΚΡΊΣΙΜΗ``; the dialytika stays), as ``text-transform: uppercase``
    does in browsers for ``lang="el"``; every other language as ``str.upper``."""
    capitals = text.upper()
    if current() != "el":
        return capitals
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", capitals).replace("\u0301", ""))


def browser_catalogue() -> dict:
    """What the browser scripts need to speak the current language (``assets/contract.js``):
    ``{"tag", "cldr": the CLDR locale as a BCP 47 tag (for ``Intl``), "plural": [CLDR categories in form
    order], "messages": {msgid: text | {category: text}}}``."""
    tag = current()
    return {"tag": tag, "cldr": str(cldr_locale(tag)).replace("_", "-"), "plural": plural_categories(tag),
            "messages": load(tag).browser}


def best_match(available: list[str]) -> int | None:
    """The index of the entry of ``available`` (language tags of a message's alternatives, e.g. a CAP
    alert's ``<info><language>``, RFC 3066) that best suits the current language: exact or script-aware
    match, then its ``FALLBACK`` (``cnr``: Serbian Latin), then the same primary language; None when none
    does."""
    wanted = current()
    for language in (wanted, FALLBACK.get(wanted)):  # cnr: then Serbian Latin, as its messages do
        for index, tag in enumerate(available):
            if language and tag and _closest(tag) == language:
                return index
    primary = wanted.split("-")[0]
    for index, tag in enumerate(available):
        if tag and tag.replace("_", "-").split("-")[0].lower() == primary:
            return index
    return None
