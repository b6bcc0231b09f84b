"""The photo viewer: one photo of a post inside the layout, the next and previous ones,
the way back to where the feed showed it, and saving it where the school allows that."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import policy
from ..inputs import way_back
from ..media.serving import send_stored
from . import bp
from .posts import seen_post


def _not_here():
    """The answer for a photo id that is not (or not for this viewer) in the post."""
    return render_template(
        "errors/error.html", code=404, title=_("Foto niet gevonden"),
        text=_("Deze foto hoort niet bij dit bericht, of is weggehaald. "
               "Ga terug naar het bericht om de foto's te bekijken."),
    ), 404


@bp.get("/bericht/<int:post_id>/foto/<int:photo_id>")
@login_required
def photo(post_id: int, photo_id: int):
    """Show one photo of a post, with the previous and next ones and the way back."""
    post, info = seen_post(post_id)
    photos = info.photos
    index = next((i for i, a in enumerate(photos) if a.id == photo_id), None)
    if index is None:
        return _not_here()
    shown = photos[index]
    # The page the photo was opened from, to close the viewer to: only a local path.
    back = way_back(request.args.get("terug"), url_for("feed.post", post_id=post.id))
    terug = back if "terug" in request.args else None

    def link(i: int) -> str | None:
        if not 0 <= i < len(photos):
            return None
        return url_for("feed.photo", post_id=post.id, photo_id=photos[i].id, terug=terug)

    return render_template(
        "feed/photo.html", post=post, photo=shown, number=index + 1, total=len(photos),
        previous=link(index - 1), next=link(index + 1), close=f"{back}#post-{post.id}",
        can_save=policy.can_save_photo(current_user, post, shown),
    )


@bp.get("/bericht/<int:post_id>/foto/<int:photo_id>/opslaan")
@login_required
def save_photo(post_id: int, photo_id: int):
    """Send a photo as a download, only where the school allows saving photos."""
    post, info = seen_post(post_id)
    shown = next((a for a in info.photos if a.id == photo_id), None)
    if shown is None:
        return _not_here()
    if not policy.can_save_photo(current_user, post, shown):
        return render_template(
            "errors/error.html", code=403, title=_("Opslaan kan niet"),
            text=_("De school heeft gekozen dat foto's alleen in parro te bekijken zijn."),
        ), 403
    return send_stored(shown, "display", download=True)
