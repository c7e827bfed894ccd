"""``with`` support for objects that hold resources: leaving the block calls ``close()``."""

from __future__ import annotations

from typing import Self


class Closing:
    """A base for classes with a ``close()`` method: ``with obj:`` closes ``obj`` on the way
    out, whether or not the block raised."""

    def close(self) -> None:
        """Release what the object holds."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Closing"]
