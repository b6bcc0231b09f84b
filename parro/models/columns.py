"""The foreign keys most models have, said once (SQLAlchemy's `Annotated` column types):
`user_id: Mapped[UserId]` declares the column, its key and what a deletion does."""

from typing import Annotated

from sqlalchemy import ForeignKey
from sqlalchemy.orm import mapped_column

# A row of the user's own (a like, a setting, a seen mark): removed with their account.
UserId = Annotated[int, mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)]
# Who did something (wrote, changed, hid it): emptied when their account is removed, so
# that what they did stays without their name.
ActorId = Annotated[int | None, mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))]
# A row about a child: removed with the child.
StudentId = Annotated[int, mapped_column(ForeignKey("student.id", ondelete="CASCADE"), index=True)]
