"""Core plugin ``datetime``: the current time, conversions, shifts and differences, with
IANA time zones (``zoneinfo``). A timestamp without an offset is read in the zone given,
else in the plugin's ``default_timezone``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langchain_core.tools import BaseTool, ToolException, tool

from maximus.plugins.base import BasePlugin
from maximus.plugins.hookspecs import hookimpl
from maximus.plugins.manifest import PluginType

UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``.

    Raises:
        ToolException: no such zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolException(
            f"unknown time zone {name!r}; use an IANA name like 'Europe/Paris'"
        ) from None


def parse(timestamp: str, default_zone: str) -> datetime:
    """An ISO 8601 timestamp as an aware datetime (naive ones are in ``default_zone``).

    Raises:
        ToolException: not ISO 8601.
    """
    try:
        moment = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        raise ToolException(
            f"not an ISO 8601 timestamp: {timestamp!r} (e.g. '2025-03-01T14:30:00+01:00')"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone(default_zone))


def show(moment: datetime) -> str:
    """A datetime as ISO 8601 with its weekday and zone."""
    label = getattr(moment.tzinfo, "key", None) or moment.tzname() or ""
    return f"{moment.isoformat(timespec='seconds')} ({moment:%A}, {label})"


class DateTimePlugin(BasePlugin):
    """Dates and times with time zones."""

    name = "datetime"
    version = "1.0.0"
    plugin_type = PluginType.PROCESSING
    config_schema = {
        "type": "object",
        "properties": {
            "default_timezone": {
                "type": "string",
                "default": "UTC",
                "description": "zone for timestamps without an offset",
            }
        },
    }

    def initialize(self) -> bool:
        """Check the configured default zone exists."""
        zone(self.default_zone)
        return True

    @property
    def default_zone(self) -> str:
        """The configured default time zone."""
        return str(self.config.get("default_timezone") or "UTC")

    def tools(self) -> list[BaseTool]:
        """``datetime_now``, ``datetime_convert``, ``datetime_shift``, ``datetime_diff``."""
        plugin = self

        @tool
        def datetime_now(timezone: str | None = None) -> str:
            """The current date and time in an IANA time zone, e.g. 'Asia/Tokyo'."""
            return show(datetime.now(zone(timezone or plugin.default_zone)))

        @tool
        def datetime_convert(timestamp: str, to_timezone: str, from_timezone: str = "") -> str:
            """Convert an ISO 8601 timestamp to another time zone. A timestamp without an
            offset is read in from_timezone (default: the plugin's default zone)."""
            moment = parse(timestamp, from_timezone or plugin.default_zone)
            return show(moment.astimezone(zone(to_timezone)))

        @tool
        def datetime_shift(
            timestamp: str, days: float = 0, hours: float = 0, minutes: float = 0
        ) -> str:
            """Add (or, with negative numbers, subtract) days, hours and minutes to an
            ISO 8601 timestamp, in wall-clock time of its zone."""
            moment = parse(timestamp, plugin.default_zone)
            try:
                shifted = moment + timedelta(days=days, hours=hours, minutes=minutes)
            except OverflowError:
                raise ToolException("the result is out of the supported date range") from None
            return show(shifted)

        @tool
        def datetime_diff(start: str, end: str, unit: str = "seconds") -> str:
            """The time from start to end (ISO 8601 timestamps) in seconds, minutes, hours,
            days or weeks; negative when end is earlier."""
            if unit not in UNITS:
                raise ToolException(f"unit must be one of {list(UNITS)}")
            # In UTC: subtracting two times of one zone would ignore a DST change between.
            later = parse(end, plugin.default_zone).astimezone(UTC)
            delta = later - parse(start, plugin.default_zone).astimezone(UTC)
            value = delta.total_seconds() / UNITS[unit]
            return f"{value:g} {unit}"

        return [datetime_now, datetime_convert, datetime_shift, datetime_diff]


@hookimpl
def maximus_register_plugins() -> list[type[BasePlugin]]:
    """Register the date and time plugin."""
    return [DateTimePlugin]


__all__ = ["DateTimePlugin", "parse", "show", "zone"]
