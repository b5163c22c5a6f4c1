"""The pages: the live map (``map``), the response queue (``queue``), the situation (``situation``), the audit trail (``audit``)."""
