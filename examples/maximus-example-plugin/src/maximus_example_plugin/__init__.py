"""An example Maximus plugin package: unit conversion as a ``BasePlugin`` subclass."""

from __future__ import annotations

from langchain_core.tools import BaseTool, ToolException, tool

from maximus.plugins import BasePlugin, Limits, PluginType

# Factors to the base unit of each dimension (metre, kilogram).
LENGTH = {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254, "ft": 0.3048,
          "yd": 0.9144, "mi": 1609.344}  # fmt: skip
MASS = {"g": 0.001, "kg": 1.0, "t": 1000.0, "oz": 0.028349523125, "lb": 0.45359237}
TEMPERATURE = ("c", "f", "k")


def convert(value: float, source: str, target: str) -> float:
    """``value`` in unit ``source`` expressed in unit ``target``.

    Raises:
        ToolException: unknown units, or units of different dimensions.
    """
    a, b = source.lower(), target.lower()
    for table in (LENGTH, MASS):
        if a in table and b in table:
            return value * table[a] / table[b]
    if a in TEMPERATURE and b in TEMPERATURE:
        kelvin = {"c": value + 273.15, "f": (value - 32) * 5 / 9 + 273.15, "k": value}[a]
        return {"c": kelvin - 273.15, "f": (kelvin - 273.15) * 9 / 5 + 32, "k": kelvin}[b]
    known = sorted([*LENGTH, *MASS, *TEMPERATURE])
    raise ToolException(f"cannot convert {source!r} to {target!r}; units: {known}")


class UnitsPlugin(BasePlugin):
    """Convert between units of length, mass and temperature."""

    name = "units"
    version = "0.1.0"
    plugin_type = PluginType.PROCESSING
    maximus_version = ">=0.1"
    limits = Limits(timeout_s=5, max_output_bytes=10_000)
    config_schema = {
        "type": "object",
        "properties": {"digits": {"type": "integer", "default": 6, "minimum": 0}},
    }

    def tools(self) -> list[BaseTool]:
        """The ``convert_units`` tool."""
        digits = int(self.config.get("digits", 6))

        @tool
        def convert_units(value: float, from_unit: str, to_unit: str) -> str:
            """Convert a value between units: mm cm m km in ft yd mi, g kg t oz lb, or
            temperatures c f k."""
            return f"{round(convert(value, from_unit, to_unit), digits):g} {to_unit}"

        return [convert_units]


__all__ = ["UnitsPlugin", "convert"]
