"""One router per resource; :mod:`maximus.server.app` joins them."""
