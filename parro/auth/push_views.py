"""Mijn account → Meldingen op deze telefoon: the user's devices for Web Push (parro.push)."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import policy, push
from ..extensions import db
from ..forms import EmptyForm
from ..models import PushSubscription
from ..security import current_session_id
from . import bp
from .devices import describe
from .views import _per_user_limit


def device_name(device: PushSubscription) -> str:
    """What the lists call a device: its browser and system, or the demo's phone."""
    if device.endpoint.startswith(push.DEMO_ENDPOINT):
        return _("Demo-telefoon")
    return describe(device.user_agent)


@bp.get("/account/meldingen-op-deze-telefoon")
@login_required
def push_devices():
    """Show the user's devices with push, and (with JavaScript) turn this one on."""
    policy.require(policy.can_choose_notifications(current_user))
    return render_template(
        "auth/push_devices.html",
        devices=push.devices_of(current_user),
        public_key=push.public_key(),
        describe=device_name,
    )


def _refusal(message, status: int = 422):
    db.session.rollback()
    return jsonify({"ok": False, "message": str(message)}), status


@bp.post("/account/meldingen-op-deze-telefoon/aanzetten")
@login_required
@_per_user_limit("RATELIMIT_PUSH_SUBSCRIBE", "push")
def push_subscribe():
    """Store this browser's push subscription (sent by static/js/push.js as JSON)."""
    policy.require(policy.can_choose_notifications(current_user))
    if request.content_length and request.content_length > 4096:
        return _refusal(_("De sleutels van dit apparaat kloppen niet."), 413)
    data = request.get_json(silent=True)
    try:
        subscription = push.parse_subscription(data)
    except push.Refused as exc:
        return _refusal(exc)
    session_id = current_session_id()
    if session_id is None:
        abort(403)
    device = push.subscribe(current_user, session_id, subscription,
                            request.user_agent.string or "")
    db.session.commit()
    return jsonify({"ok": True, "id": device.id,
                    "message": _("Meldingen staan aan op dit apparaat.")}), 201


def _own_device(device_id: int) -> PushSubscription | None:
    """The device, if it still exists; someone else's is refused (403)."""
    device = db.session.get(PushSubscription, device_id)
    if device is None:
        flash(_("Dit apparaat krijgt geen meldingen meer: het is uitgezet of de browser "
                "heeft het afgemeld. Zet meldingen op dat apparaat opnieuw aan."), "error")
        return None
    policy.require(policy.can_use_push_device(current_user, device))
    return device


@bp.post("/account/meldingen-op-deze-telefoon/<int:device_id>/testmelding")
@login_required
@_per_user_limit("RATELIMIT_PUSH_TEST", "push-test")
def push_test(device_id: int):
    """Send a test push to one of the user's devices."""
    if EmptyForm().validate_on_submit():
        device = _own_device(device_id)
        if device is not None:
            push.queue_test(device)
            db.session.commit()
            flash(_("De testmelding is onderweg naar %(device)s.",
                    device=device_name(device)), "success")
    return redirect(url_for("auth.push_devices"), 303)


@bp.post("/account/meldingen-op-deze-telefoon/<int:device_id>/uitzetten")
@login_required
def push_unsubscribe(device_id: int):
    """Stop pushes to one of the user's devices."""
    if EmptyForm().validate_on_submit():
        device = _own_device(device_id)
        if device is not None:
            name = device_name(device)
            push.unsubscribe(device)
            db.session.commit()
            flash(_("%(device)s krijgt geen meldingen meer.", device=name), "success")
    return redirect(url_for("auth.push_devices"), 303)
