"""Tests of alerts.i18n: the interface languages and their catalogues."""
