"""The language of the page: the chooser in every page's top bar, and the mark of content never translated.

Choosing a language stores it with the user (``Accounts.set_language``) and reloads the page, which the
authentication middleware then serves in it (``alerts.i18n``); "browser" forgets the choice, and the
browser's ``Accept-Language`` decides again.

``UNTRANSLATED`` marks an element whose text is content, not interface (an alert's headline, a name, a
TLP label or classification marking): it is never translated, and the untranslated-string test
(``tests/browser/test_languages.py``) skips it; ``assets/a11y.js`` turns it into HTML's own
``translate="no"``, so a browser's page translator leaves it alone too.
"""
from __future__ import annotations

from dash import ClientsideFunction, Input, Output, callback, clientside_callback, dcc, html, no_update

from alerts import i18n
from alerts.core.viewer import Viewer
from alerts.store.accounts import AccountError
from dashboard.auth.context import callback_context

LANGUAGE = "ui-language"
LANGUAGE_SAVED = "ui-language-saved"
#: Props of an element whose text is content, never translated (see the module docstring).
UNTRANSLATED = {"data-translate": "no"}
FROM_BROWSER = "browser"
#: The application's name in titles (a module constant: Babel does not look inside f-strings).
APP_NAME = i18n.N_("Crisis dashboard")


def page_title(name: str):
    """A page's title for ``dash.register_page``: ``"<name> · Crisis dashboard"`` in the request's language
    (Dash calls it per request); ``name`` is marked with ``N_`` where the page registers."""
    return lambda **_path: i18n.gettext(name) + " · " + i18n.gettext(APP_NAME)


def chooser(viewer: Viewer) -> html.Div:
    """The language chooser: every shipped language by its own name, and "as the browser says"."""
    options = [{"label": i18n.gettext("Language of the browser"), "value": FROM_BROWSER}] + [
        {"label": i18n.display_name(tag), "value": tag} for tag in i18n.SHIPPED]
    return html.Div(className="language-chooser", children=[
        html.Label(i18n.gettext("Language"), htmlFor=LANGUAGE, className="visually-hidden"),
        dcc.Dropdown(id=LANGUAGE, options=options, value=viewer.language or FROM_BROWSER, clearable=False,
                     searchable=False, className="language-dropdown"),
        dcc.Store(id=LANGUAGE_SAVED),
    ])


@callback(Output(LANGUAGE_SAVED, "data"), Input(LANGUAGE, "value"), prevent_initial_call=True)
def choose(value):
    """Store the chosen language with the user; the page then reloads in it (``assets/session.js``)."""
    context = callback_context()
    try:
        context.services.accounts.set_language(context.viewer.name,
                                                "" if value == FROM_BROWSER else value or "")
    except AccountError:
        return no_update
    return value


clientside_callback(ClientsideFunction("crisisLanguage", "reload"), Output(LANGUAGE_SAVED, "clear_data"),
                    Input(LANGUAGE_SAVED, "data"), prevent_initial_call=True)
