"""Country codes: ISO 3166-1 alpha-2 as assigned, plus ``XK`` for Kosovo.

``XK`` is a user-assigned code (ISO 3166-1 reserves XA-XZ for that use); it is
what the European Commission, NATO and Natural Earth use for Kosovo, and what
this project uses. Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import re

#: ISO 3166-1 alpha-2 codes officially assigned, plus XK (Kosovo, user-assigned).
ISO_3166_ALPHA2 = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL
    BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV
    CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD
    GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM
    IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK
    LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW
    MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR
    PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS
    ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY
    UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK
    """.split()
)
#: An ISO 3166-2 subdivision code, e.g. ``RS-00`` or ``HR-21``.
ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def is_alpha2(code: str) -> bool:
    """Whether ``code`` is an assigned ISO 3166-1 alpha-2 code (or ``XK``), upper case."""
    return code in ISO_3166_ALPHA2
