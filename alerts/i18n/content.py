"""An alert's words in the viewer's language, when the message carries them.

A CAP alert may carry one ``<info>`` block per language (CAP 1.2 section 3.2.2, ``<language>``, RFC 3066
tags); ingest keeps the main one (English first) as the alert's title and description, its language in
``extra["language"]``, and each other language's headline and description in ``translations``
(``alerts.formats.cap.mapping``). Shown to a viewer, the block that best matches the interface language
(``alerts.i18n.best_match``) is chosen; when none matches, the main block is shown as it came. Content is
never machine-translated here.
"""
from __future__ import annotations

from alerts.i18n import best_match


def localized(title: str, description: str, translations: dict[str, dict[str, str]] | None,
              language: str = "") -> tuple[str, str, str]:
    """``(title, description, language tag)`` of the alternative that suits the current language: the main
    block (``title``, ``description``, its ``language``, "" when unknown) unless it does not match and a
    translation does."""
    offered = [language] + list(translations or {})
    chosen = best_match(offered)
    if not chosen:
        return title, description, language
    tag = offered[chosen]
    words = (translations or {})[tag]
    return words.get("title") or title, words.get("description", ""), tag


def headline(alert) -> str:
    """The title of ``alert`` (an ``alerts.core.model.Alert``) in the current language when it carries one
    (``localized``; its main language in ``extra["language"]``), else its own."""
    extra = getattr(alert, "model_extra", None) or {}
    return localized(alert.title, "", alert.translations, str(extra.get("language") or ""))[0]
