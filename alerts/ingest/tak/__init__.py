"""TAK on the wire: the CoT listener (``listener``), the TAK server bridge (``subscriber``), their framing
(``framing``), one connection's read loop (``connection``) and where both put what they read (``inbox``)."""
