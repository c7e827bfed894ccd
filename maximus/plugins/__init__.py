"""Plugins contribute tools to the agent (see the plugins issue)."""
