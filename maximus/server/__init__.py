"""The HTTP server (see the server issue)."""
