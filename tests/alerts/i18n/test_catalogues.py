"""The shipped catalogues: current with the source, complete in every language, placeholders kept, CLDR
plural forms, machine translation declared in each header."""
from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from alerts import i18n
from alerts.i18n import extract

LANGUAGES = [t for t in i18n.SHIPPED if t != i18n.SOURCE]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalogue(tag):
    with i18n.catalogue_path(tag).open("rb") as po:
        return read_po(po, locale=i18n.CLDR.get(tag, tag.replace("-", "_")))


def test_cat001_the_template_is_current_with_the_source(capsys):
    """A message added, changed or removed in the source without ``python -m alerts.i18n.extract``."""
    assert extract.main(["--check"]) == 0, capsys.readouterr().out


def test_cat002_the_template_holds_the_interface_of_every_part():
    with extract.TEMPLATE.open("rb") as pot:
        template = read_po(pot)
    files = {path.split("/")[0] for message in template if message.id for path, _line in message.locations}
    assert {"dashboard", "assets", "checklists", "layers", "alerts"} <= files
    assert len(template) > 300


@pytest.mark.parametrize("tag", LANGUAGES)
def test_cat003_every_message_is_translated_in_every_shipped_language(tag):
    catalog = _catalogue(tag)
    with extract.TEMPLATE.open("rb") as pot:
        wanted = {message.id for message in read_po(pot) if message.id}
    have = {message.id: message for message in catalog if message.id}
    assert wanted - set(have) == set(), f"{tag}: messages missing (run python -m alerts.i18n.extract)"
    untranslated = [m.id for m in have.values()
                    if (not all(m.string) if isinstance(m.id, tuple) else not m.string) or m.fuzzy]
    assert untranslated == [], f"{tag}: {len(untranslated)} untranslated or fuzzy, e.g. {untranslated[:5]}"


@pytest.mark.parametrize("tag", LANGUAGES)
def test_cat004_placeholders_and_plural_forms_are_kept(tag):
    catalog = _catalogue(tag)
    assert dict(catalog.mime_headers)["Plural-Forms"] == i18n.plural_forms(tag)
    forms = len(i18n.plural_categories(tag))
    for message in catalog:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.id, tuple) else (message.string,)
        if isinstance(message.id, tuple):
            assert len(strings) == forms, (tag, message.id)
        wanted = set(PLACEHOLDER.findall(sources[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (tag, message.id, string)
            assert string.count("%") - 2 * string.count("%%") == len(PLACEHOLDER.findall(string)), (tag, string)


@pytest.mark.parametrize("tag", LANGUAGES)
def test_cat005_each_header_declares_machine_translation_and_its_bcp47_tag(tag):
    text = i18n.catalogue_path(tag).read_text(encoding="utf-8")
    assert extract.MACHINE_NOTE.split(":")[0] in text.split("msgid", 1)[0]
    assert f'"Language: {tag}\\n"' in text


@pytest.mark.parametrize("tag", LANGUAGES)
def test_cat006_markings_are_never_translated(tag):
    """TLP labels and classification markings are content, never messages (``alerts.i18n``)."""
    catalog = _catalogue(tag)
    for message in catalog:
        text = " ".join(message.id) if isinstance(message.id, tuple) else message.id
        assert not re.search(r"\bTLP:[A-Z]", text), (tag, text)
