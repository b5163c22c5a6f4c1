"""Plotly's own words (the modebar's buttons, its snapshot notices, its date and number formats) in the page's
language, from our catalogues and CLDR: nothing is fetched.

plotly.js translates its interface through locale dictionaries (plotly.js ``src/locale-en.js``; its
``lib/locales``), keyed by the English text. Rather than serve plotly.js's locale files (a CDN's, in its
documentation), every graph's config carries the dictionary of the request's language in
``locales`` and names it in ``locale`` (plotly.js configuration options ``locale`` and ``locales``), built
here: the messages from ``alerts.i18n`` (so every shipped language has them, not only those plotly.js
translated), the day and month names (stand-alone forms, as on an axis) and the decimal and group separators from CLDR (Babel).
"""
from __future__ import annotations

from babel.dates import get_day_names, get_month_names
from babel.numbers import get_decimal_symbol, get_group_symbol

from alerts import i18n
from alerts.i18n import N_

#: The English texts of plotly.js's interface our graphs can show (modebar, drag and snapshot notices).
MESSAGES = (N_("Zoom in"), N_("Zoom out"), N_("Reset view"), N_("Download plot"), N_("Download plot as a png"),
            N_("Download plot as a PNG"),
            N_("Pan"), N_("Box Select"), N_("Lasso Select"), N_("Autoscale"), N_("Reset axes"), N_("Zoom"),
            N_("Toggle Spike Lines"), N_("Show closest data on hover"), N_("Compare data on hover"),
            N_("Double-click to zoom back out"), N_("Double-click on legend to isolate one trace"),
            N_("Taking snapshot - this may take a few seconds"), N_("Snapshot succeeded"),
            N_("Sorry, there was a problem downloading your snapshot!"), N_("Reset"))


def plotly_locale() -> dict:
    """The plotly.js locale of the current language: ``{"dictionary": {English: text}, "format": {"days",
    "shortDays", "months", "shortMonths", "decimal", "thousands"}}`` (days from Sunday, as plotly.js wants)."""
    locale = i18n.cldr_locale(i18n.current())
    days = get_day_names("wide", context="stand-alone", locale=locale)
    short_days = get_day_names("abbreviated", context="stand-alone", locale=locale)
    sunday_first = [6, 0, 1, 2, 3, 4, 5]  # Babel numbers days from Monday (0)
    return {
        "dictionary": {message: i18n.gettext(message) for message in MESSAGES},
        "format": {
            "days": [days[d] for d in sunday_first], "shortDays": [short_days[d] for d in sunday_first],
            "months": [get_month_names("wide", context="stand-alone", locale=locale)[m] for m in range(1, 13)],
            "shortMonths": [get_month_names("abbreviated", context="stand-alone", locale=locale)[m]
                            for m in range(1, 13)],
            "decimal": get_decimal_symbol(locale), "thousands": get_group_symbol(locale),
        },
    }


def locale_config() -> dict:
    """The part of a graph's plotly.js config that sets its language: ``{"locale": tag, "locales": {tag: ...}}``
    (nothing for English, plotly.js's own)."""
    tag = i18n.current()
    if tag == i18n.SOURCE:
        return {}
    return {"locale": tag, "locales": {tag: plotly_locale()}}
