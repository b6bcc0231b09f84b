"""Materials lists (spullen): things a group needs, each with a number guardians pledge."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Activity, ActivityKind, Item, Pledge, User
from .common import ActivityError, check_open, new_activity


def create_materials(user, groups, *, items, **fields) -> Activity:
    """items: (name, needed); fields: the activity's title, description and deadline."""
    activity = new_activity(user, ActivityKind.MATERIALS, groups, **fields)
    activity.items = [Item(position=i, name=n, needed=q) for i, (n, q) in enumerate(items)]
    db.session.commit()
    return activity


def pledge(user: User, item: Item, quantity: int) -> Pledge | None:
    """Set how many of the item this guardian brings (0 takes the pledge back).

    The counter moves by the difference in one conditional UPDATE, so two
    guardians pledging the last ones at once cannot both succeed; the CHECK
    constraint (pledged <= needed) is the backstop.
    """
    check_open(user, item.activity)
    mine = db.session.scalar(
        select(Pledge).where(Pledge.item_id == item.id, Pledge.user_id == user.id)
    )
    delta = quantity - (mine.quantity if mine else 0)
    if delta:
        moved = db.session.execute(
            update(Item)
            .where(Item.id == item.id, Item.pledged + delta <= Item.needed,
                   Item.pledged + delta >= 0)
            .values(pledged=Item.pledged + delta)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            db.session.rollback()
            db.session.refresh(item)
            room = item.remaining + (mine.quantity if mine else 0)
            if room <= 0:
                raise ActivityError(
                    _("Van %(item)s is al genoeg toegezegd. Dank u wel!", item=item.name)
                )
            raise ActivityError(
                ngettext("Er is nog %(num)s %(item)s nodig; meer toezeggen kan niet.",
                         "Er zijn nog %(num)s %(item)s nodig; meer toezeggen kan niet.",
                         room, item=item.name)
            )
    if quantity == 0:
        if mine is not None:
            db.session.delete(mine)
        mine = None
    elif mine is None:
        mine = Pledge(item_id=item.id, user_id=user.id, quantity=quantity)
        db.session.add(mine)
    else:
        mine.quantity = quantity
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ActivityError(
            _("Dat lukte niet tegelijk met een andere wijziging. Probeer het opnieuw.")
        ) from None
    return mine
