"""``python -m alerts.i18n.extract``: write the message template from the source and bring every catalogue
up to date with it.

What is extracted (Babel's extractors): the Python of ``dashboard``, ``alerts`` and ``layers`` (keywords
``gettext``, ``ngettext``, ``_``, ``N_``), the browser scripts ``assets/*.js`` (keywords ``t`` and ``tn``,
``assets/contract.js``) and the step titles of the shipped checklist templates (``checklists/*.toml``,
``title`` keys). The template is ``alerts/i18n/catalogues/messages.pot``; each shipped language's ``.po``
is updated (Babel's ``Catalog.update``: new messages added empty, removed ones dropped, changed ones marked
fuzzy) with its CLDR ``Plural-Forms`` (``alerts.i18n.plural_forms``) and its BCP 47 ``Language``. A new
language's catalogue starts empty. ``--check`` writes nothing and exits 1 when the template is stale.
"""
from __future__ import annotations

import argparse
import io
import sys
import tomllib
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from alerts.i18n import CATALOGUES, CLDR, SHIPPED, SOURCE, catalogue_path, plural_forms

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = CATALOGUES / "messages.pot"
PYTHON_KEYWORDS = {"gettext": None, "_": None, "N_": None, "ngettext": (1, 2)}
JS_KEYWORDS = {"t": None, "tn": (1, 2)}
#: Said in every catalogue's header comment: the first catalogues were machine-translated (the issue allows it).
MACHINE_NOTE = ("MACHINE TRANSLATION: this catalogue was first written by machine translation and has not yet "
                "been reviewed by a native speaker. Correct it here; keep msgids as they are.")


def extract_toml(fileobj, keywords, comment_tags, options):
    """A Babel extraction method for checklist templates: every ``title`` value of a step."""
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "title" and isinstance(value, str):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for title in walk(tomllib.loads(text)):
        line = next((i + 1 for i, source in enumerate(lines) if title in source), 0)
        yield line, None, title, []


def template() -> Catalog:
    """The template: every marked message of the source, each with its locations (relative paths)."""
    catalog = Catalog(project="crisis-dashboard", charset="utf-8", fuzzy=False)
    sources = [
        ("dashboard", [("**.py", "python")], PYTHON_KEYWORDS),
        ("alerts", [("**.py", "python")], PYTHON_KEYWORDS),
        ("layers", [("**.py", "python")], PYTHON_KEYWORDS),
        ("assets", [("*.js", "javascript")], JS_KEYWORDS),
        ("checklists", [("*.toml", extract_toml)], {}),
    ]
    for folder, methods, keywords in sources:
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / folder, methods, keywords=keywords, comment_tags=("Translators:",),
                strip_comment_tags=True):
            if filename.startswith(("i18n/extract.py",)):
                continue
            catalog.add(message, None, [(f"{folder}/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def _po_text(catalog: Catalog, tag: str | None = None) -> str:
    out = io.BytesIO()
    # files without line numbers: a message moved within its file changes no catalogue
    write_po(out, catalog, width=100, sort_output=True, omit_header=False, ignore_obsolete=True,
             include_lineno=False)
    text = out.getvalue().decode("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith('"POT-Creation-Date:')
             and not line.startswith('"PO-Revision-Date:') and not line.startswith('"Generated-By:')]
    if tag:
        lines = [f'"Language: {tag}\\n"' if line.startswith('"Language: ') else line for line in lines]
    return "\n".join(lines) + "\n"


def update(tag: str, pot: Catalog) -> str:
    """The ``.po`` text of ``tag`` brought up to date with ``pot`` (translations kept)."""
    path = catalogue_path(tag)
    locale = CLDR.get(tag, tag.replace("-", "_"))
    if path.exists():
        with path.open("rb") as po:
            catalog = read_po(po, locale=locale)
    else:
        catalog = Catalog(locale=locale, project="crisis-dashboard", charset="utf-8", fuzzy=False)
    catalog.update(pot, no_fuzzy_matching=True)
    forms = plural_forms(tag)
    catalog._num_plurals = int(forms.split(";")[0].split("=")[1])  # noqa: SLF001  (Babel has no setter)
    catalog._plural_expr = forms.split("plural=", 1)[1].rstrip(";")  # noqa: SLF001
    catalog.header_comment = "\n".join([f"# {tag} translation of the crisis dashboard's user interface.",
                                        "#", f"# {MACHINE_NOTE}"])
    catalog.fuzzy = False
    return _po_text(catalog, tag)


def main(argv: list[str] | None = None) -> int:
    """The command (see the module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m alerts.i18n.extract", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the template is stale")
    args = parser.parse_args(argv)
    pot = template()
    text = _po_text(pot)
    if args.check:
        stale = not TEMPLATE.exists() or TEMPLATE.read_text(encoding="utf-8") != text
        print("messages.pot is stale: run python -m alerts.i18n.extract" if stale else "messages.pot is current")
        return 1 if stale else 0
    CATALOGUES.mkdir(exist_ok=True)
    TEMPLATE.write_text(text, encoding="utf-8")
    for tag in SHIPPED:
        if tag != SOURCE:
            catalogue_path(tag).write_text(update(tag, pot), encoding="utf-8")
    print(f"{len(pot)} messages; {len(SHIPPED) - 1} catalogues updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
