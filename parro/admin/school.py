"""Administration of school years, groups, students, the CSV import and the rollover."""

from . import bp  # noqa: F401
