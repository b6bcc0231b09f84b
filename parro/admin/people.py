"""Administration of staff and guardians."""

from . import bp  # noqa: F401
