"""Pure functions from domain data to plotly map traces and the offline base map (no Redis, no callbacks)."""
