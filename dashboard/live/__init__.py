"""How updates reach the browser: the one live-push contract.

- ``feed``: one follower per process reads the alert and asset events
  streams, applies each event to the process's read models and hands it to
  the fan-outs.
- ``fanout`` / ``sse``: each open page is a subscriber and gets server-sent
  events; ``Last-Event-ID`` replays exactly what it missed (capped: beyond
  it, ``rebuild``); a quiet stream pings. Each live event is framed once per
  group of viewers who see the same thing (same filters, nation, clearance)
  and shared; a stream more than ``CRISIS_LIVE_MAX_LAG`` seconds behind has
  its backlog dropped and gets ``rebuild``.
- ``payloads``: what an event carries: plain data (no page markup); the page
  renders it (``assets/live.js``, ``assets/assets_live.js``).
- ``routes``: ``/live/map`` (both in one connection: what the map page opens),
  ``/live/alerts`` and ``/live/assets``; ``/live/alarm`` (what every other page
  but the queue and the situation page opens), the viewer's critical alarm, a
  state source (``sse``) that ``/live/map`` and ``/live/alerts`` carry too with
  ``alarm=true``.
"""
