"""The pages: the live map (``map``), the response queue (``queue``), the situation (``situation``), sharing
(``sharing``), the audit trail (``audit``), exercise control (``exercises``) and the evaluation (``evaluation``)."""
