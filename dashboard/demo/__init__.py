"""The fictional demo of ``crisisdash serve --demo``: a scenario of alerts (``alerts``), an order
of battle with a few moving helicopters (``assets``), and demo users (``users``)."""
