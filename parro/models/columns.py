"""What several models declare alike, said once: the commonest foreign keys (SQLAlchemy's
`Annotated` column types: `user_id: Mapped[UserId]` declares the column, its key and what a
deletion does), the rows a row owns, and the partial unique index."""

from typing import Annotated

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Relationship, mapped_column, relationship

# A row of the user's own (a like, a setting, a seen mark): removed with their account.
UserId = Annotated[int, mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)]
# Who did something (wrote, changed, hid it): emptied when their account is removed, so
# that what they did stays without their name.
ActorId = Annotated[int | None, mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))]
# A row about a child: removed with the child.
StudentId = Annotated[int, mapped_column(ForeignKey("student.id", ondelete="CASCADE"), index=True)]


def owned(**kwargs) -> Relationship:
    """The rows that belong to this one: saved and removed with it; when it is deleted, the
    database's ON DELETE CASCADE removes them without loading them (passive_deletes)."""
    return relationship(cascade="all, delete-orphan", passive_deletes=True, **kwargs)


def unique_where(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows that match `where` (SQL), on SQLite and PostgreSQL."""
    return Index(name, *columns, unique=True, sqlite_where=text(where),
                 postgresql_where=text(where))
