"""Staff sign in with the school's own account (OpenID Connect, through Authlib).

The login page's button sends the browser to the provider (Microsoft Entra ID, Google
Workspace, ...) with a fresh state, nonce and PKCE verifier, which Authlib keeps in the
signed Flask session. The provider sends the browser back with a code. Authlib then
checks the state (it is removed when used, so a replayed answer finds none), exchanges
the code with the verifier and the client secret, and checks the ID token: its
signature against the provider's published keys (JWKS, from the discovery document),
issuer, audience, nonce, at_hash, and expiry on parro's own clock.

Who the person is, is decided here: the account linked to the provider's subject, or on
the first sign-in the staff account with the same verified e-mail address, which is then
linked. Nobody gets an account this way, and guardians never sign in this way.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass

from flask import Flask, current_app, session, url_for
from sqlalchemy import select

from .. import audit, clock
from ..extensions import db
from ..models import User
from ..models.user import normalize_email
from ..policy import current_school
from .service import activate_by_school_account, user_by_email

METHOD = "schoolaccount"  # UserSession.method and the audit log's word for it
CLIENT = "school"
SCOPE = "openid email profile"
NEXT = "schoolaccount_next"  # where to go after signing in, while the browser is away
# Seconds an ID token may be past its expiry or before its issue time: clocks differ a little.
LEEWAY = 120
# Authlib (with joserfc, cryptography and requests) takes 18 MB of a worker: it is imported
# and the provider registered by the first sign-in with the school account, not by every
# worker at its start (README, Performance).
_registering = threading.Lock()


class Refused(Exception):
    """The sign-in is refused; `reason` names why (the view says it to the person)."""

    def __init__(self, reason: str, email: str = "", user: User | None = None, detail: str = ""):
        super().__init__(reason)
        self.reason, self.email, self.user, self.detail = reason, email, user, detail


@dataclass
class SignIn:
    user: User
    email: str
    multi_factor: bool  # the provider says it asked for more than a password
    linked: bool  # linked to the school account just now


def _as_list(value) -> list[str]:
    """A setting given as a list, or as text with commas or spaces between the items."""
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else (value or [])
    return [item.strip() for item in items if item.strip()]


def init_app(app: Flask) -> None:
    """Read the school account's settings (PARRO_OIDC_*); the provider is registered with
    Authlib when a sign-in first needs it (_client)."""
    cfg = app.config
    cfg["OIDC_ISSUER"] = (cfg["OIDC_ISSUER"] or "").strip()
    cfg["OIDC_ALLOWED_DOMAINS"] = [d.lower().lstrip("@")
                                   for d in _as_list(cfg["OIDC_ALLOWED_DOMAINS"])]
    cfg["OIDC_MFA_ACR_VALUES"] = _as_list(cfg["OIDC_MFA_ACR_VALUES"])


def _register(app: Flask):
    """The provider registered with Authlib, once per app."""
    from authlib.integrations.flask_client import OAuth

    cfg = app.config
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        server_metadata_url=cfg["OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_id=cfg["OIDC_CLIENT_ID"],
        client_secret=cfg["OIDC_CLIENT_SECRET"],
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": cfg["OIDC_TIMEOUT"],
        },
    )
    return oauth


def configured() -> bool:
    return bool(current_app.config["OIDC_ISSUER"])


def required_for_staff() -> bool:
    """May staff only sign in with the school account? Never while it is not set up."""
    school = current_school()
    return configured() and bool(school and school.require_school_account)


def _client():
    app = current_app._get_current_object()
    with _registering:
        oauth = app.extensions.get("authlib.integrations.flask_client") or _register(app)
    return oauth.create_client(CLIENT)


def _metadata() -> dict:
    """The provider's discovery document (fetched once per process)."""
    import requests

    try:
        metadata = _client().load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise Refused("unreachable", detail=str(exc)[:200]) from None
    if metadata.get("issuer") != current_app.config["OIDC_ISSUER"]:
        # OpenID Connect Discovery: the document must name the issuer it was fetched for.
        raise Refused("unreachable", detail=f"discovery names issuer {metadata.get('issuer')!r}")
    return metadata


def redirect_uri() -> str:
    """Where the provider sends the browser back; register exactly this address there."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("auth.schoolaccount_callback")


def authorization_url(next_path: str | None) -> str:
    """The provider's sign-in address for this browser, with a new state, nonce and PKCE.

    `next_path` (checked when it is used) is where the person goes after signing in.
    """
    import requests

    _metadata()
    client = _client()
    uri = redirect_uri()
    try:
        data = client.create_authorization_url(uri)
    except requests.RequestException as exc:
        raise Refused("unreachable", detail=str(exc)[:200]) from None
    client.save_authorize_data(redirect_uri=uri, **data)
    session[NEXT] = next_path
    return data["url"]


@functools.cache
def _id_token_class():
    from authlib.oidc.core import CodeIDToken

    class IDToken(CodeIDToken):
        """Authlib's ID token checks, on parro's clock (which tests can move)."""

        def validate(self, now=None, leeway=0):
            super().validate(now=int(clock.now().timestamp()), leeway=leeway)

    return IDToken


def finish() -> dict:
    """Check the provider's answer in this request; returns the ID token's claims."""
    import requests
    from authlib.integrations.base_client import MismatchingStateError, OAuthError
    from joserfc.errors import ClaimError, ExpiredTokenError, JoseError

    cfg = current_app.config
    _metadata()
    try:
        token = _client().authorize_access_token(
            claims_cls=_id_token_class(),
            claims_options={
                "iss": {"essential": True, "value": cfg["OIDC_ISSUER"]},
                "aud": {"essential": True, "value": cfg["OIDC_CLIENT_ID"]},
            },
            leeway=LEEWAY,
        )
    except MismatchingStateError:
        raise Refused("state") from None
    except OAuthError as exc:
        reason = "cancelled" if exc.error in ("access_denied", "login_required") else "provider"
        raise Refused(reason, detail=f"{exc.error}: {exc.description}"[:200]) from None
    except ExpiredTokenError:
        raise Refused("expired") from None
    except ClaimError as exc:
        raise Refused("nonce" if exc.claim == "nonce" else "invalid",
                      detail=f"claim {exc.claim}") from None
    except JoseError as exc:
        raise Refused("invalid", detail=f"{type(exc).__name__}: {exc}"[:200]) from None
    except requests.RequestException as exc:
        raise Refused("unreachable", detail=str(exc)[:200]) from None
    claims = token.get("userinfo")
    if not claims:
        raise Refused("invalid", detail="no ID token")
    return dict(claims)


def _is_mfa(claims: dict) -> bool:
    """Did the provider ask for more than one factor (RFC 8176 amr "mfa", or a listed acr)?"""
    amr = claims.get("amr")
    if isinstance(amr, list) and "mfa" in amr:
        return True
    return claims.get("acr") in current_app.config["OIDC_MFA_ACR_VALUES"]


def _verified_email(claims: dict) -> str:
    """The address the provider vouches for, or Refused."""
    cfg = current_app.config
    email = normalize_email(claims.get("email") or "")
    if "@" not in email:
        raise Refused("unverified", detail="no email claim")
    domain = email.rsplit("@", 1)[1]
    allowed = cfg["OIDC_ALLOWED_DOMAINS"]
    if allowed and domain not in allowed:
        raise Refused("domain", email=email)
    verified = claims.get("email_verified")
    if verified in (True, "true"):  # some providers send the string
        return email
    if verified is None and cfg["OIDC_TRUST_DOMAIN_EMAILS"] and allowed:
        return email  # the school owns the domain; the provider sends no such claim
    raise Refused("unverified", email=email)


def _check_may_sign_in(user: User, email: str) -> None:
    if user.is_guardian:
        raise Refused("guardian", email=email, user=user)
    if user.disabled:
        raise Refused("disabled", email=email, user=user)


def sign_in(claims: dict) -> SignIn:
    """The staff account for these claims, linked on the first sign-in; or Refused.

    Writes the link (and the activation of an invited account) to the session's
    transaction; the caller commits.
    """
    issuer = current_app.config["OIDC_ISSUER"]
    subject = claims["sub"]
    mfa = _is_mfa(claims)
    user = db.session.scalar(
        select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    )
    if user is not None:
        email = normalize_email(claims.get("email") or "") or user.email
        _check_may_sign_in(user, email)
        return SignIn(user, email, mfa, linked=False)
    email = _verified_email(claims)
    user = user_by_email(email)
    if user is None:
        raise Refused("unknown", email=email)
    _check_may_sign_in(user, email)
    if user.oidc_subject is not None:
        raise Refused("linked_elsewhere", email=email, user=user)
    user.oidc_issuer, user.oidc_subject, user.oidc_linked_at = issuer, subject, clock.now()
    activated = not user.active
    if activated:
        activate_by_school_account(user, claims.get("name") or "")
    audit.record(audit.SCHOOL_ACCOUNT, actor=user, target=user, issuer=issuer, subject=subject,
                 activated=activated,
                 summary=f"{audit.person(user)} gekoppeld aan de schoolaccount"
                         + (" (account geactiveerd)" if activated else ""))
    return SignIn(user, email, mfa, linked=True)


def logout_url() -> str | None:
    """The provider's own logout (RP-initiated logout), when its discovery offers one."""
    if not configured():
        return None
    try:
        metadata = _metadata()
    except Refused:
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    # No id_token_hint (parro keeps no tokens): the provider asks the person to confirm.
    return _client().create_logout_url(
        post_logout_redirect_uri=current_app.config["BASE_URL"].rstrip("/")
        + url_for("auth.login"),
        client_id=current_app.config["OIDC_CLIENT_ID"],
    )["url"]


def unlink(user: User, by: User) -> None:
    """Forget the school account linked to `user`; the next sign-in links again by e-mail."""
    audit.record(audit.SCHOOL_ACCOUNT, actor=by, target=user, unlinked=True,
                 summary=f"Koppeling van {audit.person(user)} met de schoolaccount verbroken")
    user.oidc_issuer = user.oidc_subject = user.oidc_linked_at = None
