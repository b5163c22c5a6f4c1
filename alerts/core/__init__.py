"""The domain core: the alert and asset models, the rules of the response, queries and read
models, geography, situation figures. It imports neither Redis, nor Dash, nor a web framework."""
