"""The words for the domain's coded values, in the current language (``alerts.i18n.current``).

Every page, map layer and export names a severity, status, alert type, role, asset type or asset status
through these functions, never by reformatting the code (``natural_disaster``): one place, one
translation. A code the table does not know (a deployment's own) is shown as itself, spaces for
underscores. Country names are CLDR's territory names in the current language (ISO 3166-1 alpha-2 codes;
``XK``, Kosovo, is CLDR's user-assigned code). Never translated (``alerts.i18n``): TLP labels and
classification markings.
"""
from __future__ import annotations

from alerts.i18n import N_, cldr_locale, current, gettext

SEVERITIES = {"critical": N_("critical"), "high": N_("high"), "medium": N_("medium"), "low": N_("low")}
STATUSES = {"new": N_("new"), "acknowledged": N_("acknowledged"), "in_progress": N_("in progress"),
            "resolved": N_("resolved"), "cancelled": N_("cancelled"), "expired": N_("expired")}
ALERT_TYPES = {"terrorism": N_("terrorism"), "organized_crime": N_("organized crime"),
               "border_incident": N_("border incident"), "natural_disaster": N_("natural disaster"),
               "cyber": N_("cyber"), "civil_unrest": N_("civil unrest"),
               "military_activity": N_("military activity"), "hazmat": N_("hazardous materials"),
               "mass_casualty": N_("mass casualty"), "other": N_("other")}
ROLES = {"duty_officer": N_("duty officer"), "responder": N_("responder"), "leadership": N_("leadership"),
         "admin": N_("admin"), "auditor": N_("auditor"), "exercise_control": N_("exercise control"),
         "evaluator": N_("evaluator")}
ASSET_TYPES = {"infantry_company": N_("infantry company"), "military_police": N_("military police"),
               "eod_team": N_("EOD team"), "cbrn_team": N_("CBRN team"), "medical_team": N_("medical team"),
               "field_hospital": N_("field hospital"), "utility_helicopter": N_("utility helicopter"),
               "transport_aircraft": N_("transport aircraft"),
               "firefighting_aircraft": N_("firefighting aircraft"), "engineer_unit": N_("engineer unit"),
               "coast_guard_vessel": N_("coast guard vessel"), "cyber_response_team": N_("cyber response team")}
CAPABILITIES = {"eod": N_("explosive ordnance disposal"), "cbrn": N_("CBRN defence"),
                "trauma_care": N_("trauma care"), "law_enforcement": N_("law enforcement"),
                "border_security": N_("border security"), "search_and_rescue": N_("search and rescue"),
                "medevac": N_("medical evacuation"), "firefighting": N_("firefighting"), "bridging": N_("bridging"),
                "heavy_lift": N_("heavy lift"), "cyber_forensics": N_("cyber forensics"),
                "incident_response": N_("incident response"), "crowd_control": N_("crowd control"),
                "reconnaissance": N_("reconnaissance"), "decontamination": N_("decontamination")}
ASSET_STATUSES = {"ready": N_("ready"), "committed": N_("committed"), "maintenance": N_("maintenance"),
                  "off_duty": N_("off duty")}


def _word(table: dict[str, str], code: str | None) -> str:
    code = code or ""
    return gettext(table[code]) if code in table else code.replace("_", " ")


def severity(code: str) -> str:
    """``critical`` -> the word for critical in the current language."""
    return _word(SEVERITIES, code)


def status(code: str) -> str:
    """An alert status (``in_progress``) in words."""
    return _word(STATUSES, code)


def alert_type(code: str) -> str:
    """An alert type (``natural_disaster``) in words."""
    return _word(ALERT_TYPES, code)


def role(code: str) -> str:
    """A role (``duty_officer``) in words."""
    return _word(ROLES, code)


def asset_type(code: str) -> str:
    """An asset type (``coast_guard_vessel``) in words."""
    return _word(ASSET_TYPES, code)


def capability(code: str) -> str:
    """A capability an asset offers: an asset type (``medical_team``) or a capability code (``medevac``,
    ``alerts.core.suitability``), in words."""
    return _word(ASSET_TYPES, code) if code in ASSET_TYPES else _word(CAPABILITIES, code)


def asset_status(code: str) -> str:
    """An asset status (``committed``) in words."""
    return _word(ASSET_STATUSES, code)


def country(iso2: str | None) -> str:
    """The name of a country (ISO 3166-1 alpha-2) in the current language (CLDR territory names); the
    code itself when CLDR has none; "" for none."""
    if not iso2:
        return ""
    return cldr_locale(current()).territories.get(iso2.upper(), iso2)
