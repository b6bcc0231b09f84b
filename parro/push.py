"""Web Push: notifications on a phone, through the push service its browser chose.

A browser subscribes with the server's VAPID public key (RFC 8292) and sends us
its subscription: the push service's endpoint and the keys to encrypt for
(subscribe()). Every push is a PushMessage row, one per device, written in the
transaction of its cause (queue_pushes()); the outbox sender (parro.mail's thread,
and `flask --app app mail send`) claims due rows, encrypts each payload for its
device (RFC 8291, aes128gcm, by pywebpush and http_ece), signs a VAPID JWT (py-vapid)
and POSTs it to the endpoint (RFC 8030):

- 201: delivered; the device's "last delivered" moves;
- 404 or 410: the subscription is gone: the row is deleted, with its waiting pushes;
- 429: tried again after the service's Retry-After;
- 5xx, a time-out, no connection: tried again with back-off (1, 2, 4 … minutes);
- any other answer: given up (the request itself is wrong and will stay wrong).

The server sends requests to a URL a browser gave it, so an endpoint must be https,
on a host in PUSH_HOSTS (the big push services), and resolve to public addresses
only (checked again right before each send); redirects are not followed. In tests
alone (TESTING) the loopback push service at PUSH_TEST_ORIGIN is admitted too.

A claim is a lease (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's one writer does
the same): two senders at once never send one row twice.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import os
import re
import socket
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select

from . import notifications, push_hours
from .clock import now
from .database import writer_transactions
from .extensions import db
from .mail import backoff, claim, register_round, wake_sender_after_commit
from .models import NotificationChoice, PushMessage, PushSubscription, User

# requests, cryptography, py-vapid and pywebpush (with aiohttp) take 24 MB of a worker:
# they are imported by the functions that subscribe, sign and send, which a page of the
# feed or the chat never calls (README, Performance).
if TYPE_CHECKING:
    import requests
    from py_vapid import Vapid02

log = logging.getLogger(__name__)

CLAIM = timedelta(minutes=5)
BATCH = 50
MAX_DEVICES = 10  # per user; a new one beyond it replaces the oldest
TITLE_CHARS = 80
BODY_CHARS = 120
# How long a push service keeps a push for a phone that is off (RFC 8030 TTL), per
# category: a chat line or a receipt is stale after a day; an important post still
# matters after the weekend.
TTL = {
    notifications.GROUP_POSTS: 2 * 86400,
    notifications.IMPORTANT_POSTS: 4 * 86400,
    notifications.CHAT: 86400,
    notifications.ACTIVITIES: 2 * 86400,
    notifications.ABSENCE: 86400,
    "test": 3600,
    "summary": 12 * 3600,  # what waited for the start of the user's hours
}
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # RFC 8030 5.4: URL-safe base64 alphabet


class Refused(ValueError):
    """A subscription or request we will not store or send; str() is for the user."""


# -- keys ---------------------------------------------------------------------------


def _load_vapid(app: Flask) -> Vapid02:
    """The server's VAPID key: PARRO_VAPID_PRIVATE_KEY, or instance/vapid_private_key.pem,
    made once (like the secret key)."""
    from py_vapid import Vapid02

    configured = app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        text = configured.strip()
        if "-----BEGIN" in text:
            return Vapid02.from_pem(text.encode())
        return Vapid02.from_string(text)  # base64url: the raw 32 bytes, or DER
    path = Path(app.instance_path) / "vapid_private_key.pem"
    if not path.exists():
        key = Vapid02()
        key.generate_keys()
        # Written aside and linked into place: two workers starting at once agree on one key.
        tmp = path.with_name(f"vapid_private_key.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.private_pem())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return Vapid02.from_pem(path.read_bytes())


def vapid() -> Vapid02:
    app = current_app._get_current_object()
    key = app.extensions.get("parro_vapid")
    if key is None:
        key = app.extensions["parro_vapid"] = _load_vapid(app)
    return key


def public_key() -> str:
    """The applicationServerKey a browser subscribes with: the uncompressed point, base64url."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = vapid().public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def contact() -> str:
    """The VAPID `sub` claim: PARRO_VAPID_CONTACT, or the default sender's address."""
    configured = current_app.config.get("VAPID_CONTACT")
    if configured:
        return configured if configured.startswith(("mailto:", "https:")) else (
            f"mailto:{configured}")
    address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    return f"mailto:{address or 'parro@localhost'}"


# -- the endpoint check ---------------------------------------------------------------


def _test_origin() -> str:
    cfg = current_app.config
    return (cfg.get("PUSH_TEST_ORIGIN") or "") if cfg.get("TESTING") else ""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _host_allowed(host: str) -> bool:
    for entry in current_app.config["PUSH_HOSTS"]:
        allowed = entry.lower().rstrip(".")
        if allowed.startswith("*."):
            if host.endswith(allowed[1:]) and len(host) > len(allowed) - 1:
                return True
        elif host == allowed:
            return True
    return False


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_endpoint(url: str, resolve: bool = True) -> None:
    """Raise Refused unless parro may send requests to this endpoint.

    https only, on port 443, on an allowed push service's host, and (resolve) every
    address the host has is a public one: never loopback, a private network or
    link-local (the cloud's metadata service).
    """
    if not isinstance(url, str) or not url or len(url) > 1000 or not url.isprintable():
        raise Refused(_l("Dit apparaat gaf geen bruikbaar adres voor meldingen."))
    test_origin = _test_origin()
    if test_origin and _origin(url) == test_origin:
        return
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused(_l("Dit apparaat gaf geen bruikbaar adres voor meldingen.")) from None
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme != "https" or not host or parts.username or parts.password or port not in (
        None, 443
    ):
        raise Refused(_l("Meldingen gaan alleen via een beveiligde verbinding (https) "
                         "naar een bekende meldingendienst."))
    if not _host_allowed(host):
        raise Refused(_l("Deze browser gebruikt een meldingendienst die de school niet "
                         "toestaat. Probeer Chrome, Firefox, Edge of Safari."))
    if not resolve:
        return
    try:
        infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused(_l("De meldingendienst van dit apparaat is niet bereikbaar.")) from None
    if not infos or not all(_public(info[4][0]) for info in infos):
        raise Refused(_l("Dit apparaat gaf geen bruikbaar adres voor meldingen."))


def _b64(value, size: int) -> str:
    """A base64url key of exactly `size` bytes, as the browser sent it (padding dropped)."""
    if not isinstance(value, str) or not value or len(value) > 2 * size:
        raise Refused(_l("De sleutels van dit apparaat kloppen niet."))
    text = value.strip().rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise Refused(_l("De sleutels van dit apparaat kloppen niet.")) from None
    if len(raw) != size:
        raise Refused(_l("De sleutels van dit apparaat kloppen niet."))
    return text


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def parse_subscription(data) -> Subscription:
    """A browser's PushSubscription.toJSON(), checked; raises Refused."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise Refused(_l("Dit apparaat gaf geen bruikbaar adres voor meldingen."))
    endpoint = data.get("endpoint")
    p256dh = _b64(data["keys"].get("p256dh"), 65)
    auth = _b64(data["keys"].get("auth"), 16)
    raw = base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4))
    try:  # a point on P-256, or encryption to it could never work
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise Refused(_l("De sleutels van dit apparaat kloppen niet.")) from None
    check_endpoint(endpoint)
    return Subscription(endpoint, p256dh, auth)


# -- devices ----------------------------------------------------------------------------


def devices_of(user: User) -> list[PushSubscription]:
    return list(db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == user.id)
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
    ))


def subscribe(user: User, session_id: int, subscription: Subscription,
              user_agent: str) -> PushSubscription:
    """Store this browser's subscription for `user` and its login; the caller commits.

    One endpoint is one device of one user: a subscription another user sent before
    (a shared tablet) is removed with the pushes still waiting for it, and made anew
    for this user only.
    """
    existing = db.session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == subscription.endpoint))
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    for old in devices_of(user)[MAX_DEVICES - 1:]:
        db.session.delete(old)
    row = PushSubscription(user_id=user.id, session_id=session_id,
                           endpoint=subscription.endpoint, p256dh=subscription.p256dh,
                           auth=subscription.auth, user_agent=(user_agent or "")[:255])
    db.session.add(row)
    db.session.flush()
    return row


def unsubscribe(device: PushSubscription) -> None:
    """Stop pushes to this device (its waiting pushes go too); the caller commits."""
    db.session.delete(device)


# -- queueing -----------------------------------------------------------------------------


def _short(text: str, limit: int) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def first_line(text: str) -> str:
    """The first line with words in it: all a push shows of a text."""
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def queue_pushes(user_ids, category: str, title, body="", url: str = "/", tag: str = "",
                 important: bool = False) -> int:
    """Push to every device of the users `user_ids` (a list or a SELECT of ids) who want
    push for `category`, in this transaction.

    `title` and `body` may be lazy strings: they are rendered in each user's language.
    One query finds the devices of those who want push for `category`; users without
    a device cost nothing more. Returns the number of pushes queued now (not those held
    for the users' hours).
    """
    if isinstance(user_ids, list | tuple | set) and not user_ids:
        return 0
    wanted = (
        select(PushSubscription.user_id, PushSubscription.id)
        .where(PushSubscription.user_id.in_(user_ids))
        .order_by(PushSubscription.user_id, PushSubscription.id)
    )
    if category != "test":
        default = notifications.DEFAULT_PUSH.get(category, False)
        chosen = (
            select(NotificationChoice.push)
            .where(NotificationChoice.user_id == PushSubscription.user_id,
                   NotificationChoice.category == category)
            .scalar_subquery()
        )
        wanted = wanted.where(func.coalesce(chosen, default).is_(True))
    devices: dict[int, list[int]] = {}
    for user_id, device_id in db.session.execute(wanted):
        devices.setdefault(user_id, []).append(device_id)
    if not devices:
        return 0
    users = db.session.scalars(select(User).where(User.id.in_(list(devices))))
    queued = 0
    moment = now()
    for user in users:
        # The one place where the user's hours decide (parro.push_hours): now, later (held
        # for one summary push at that moment), or never. A test push always goes at once.
        due = moment if category == "test" else push_hours.when(user, category, important,
                                                                 moment)
        if due is None:
            continue
        if due > moment:
            with force_locale(user.locale):
                push_hours.hold(user, category, _short(str(title), TITLE_CHARS), url, due)
            continue
        queued += _queue(user, devices[user.id], category, title, body, url, tag, important)
    return queued


def push_now(user: User, category: str, title, body="", url: str = "/", tag: str = "",
             important: bool = False) -> int:
    """Queue one push for each of the user's devices now, whatever their choices and hours."""
    device_ids = list(db.session.scalars(
        select(PushSubscription.id).where(PushSubscription.user_id == user.id)))
    return _queue(user, device_ids, category, title, body, url, tag, important)


def queue_test(device: PushSubscription) -> None:
    """The device page's "stuur een testmelding"; the caller commits."""
    _queue(device.user, [device.id], "test", _l("Testmelding van parro"),
           _l("Zo ziet een melding van school eruit."), "/account/meldingen-op-deze-telefoon",
           "test")


def _queue(user: User, device_ids: list[int], category: str, title, body, url: str, tag: str,
           important: bool = False) -> int:
    if not device_ids:
        return 0
    with force_locale(user.locale):
        payload = {"title": _short(str(title), TITLE_CHARS), "body": _short(str(body), BODY_CHARS),
                   "url": url if url.startswith("/") and not url.startswith("//") else "/",
                   "tag": tag[:64]}
    for device_id in device_ids:
        db.session.add(PushMessage(
            subscription_id=device_id, category=category, payload=payload,
            urgency="high" if important else "normal", ttl=TTL.get(category, 86400)))
    wake_sender_after_commit()
    return len(device_ids)


# -- delivery -------------------------------------------------------------------------------


def claim_due(limit: int = BATCH) -> list[int]:
    """Take up to `limit` due pushes for this sender and commit the claim (a lease)."""
    return claim(PushMessage, limit, CLAIM)


@dataclass
class Outcome:
    status: int | None = None  # the push service's answer; None: no answer
    error: str | None = None
    retry_after: timedelta | None = None
    permanent: bool = False  # no answer and never will be: the endpoint is refused


def _retry_after(value: str | None) -> timedelta | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = int(value)
    else:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = int((moment - datetime.now(UTC)).total_seconds())
    return timedelta(seconds=min(max(seconds, 1), 24 * 3600))


def encrypt(device: PushSubscription, payload: dict) -> bytes:
    """The payload encrypted for this device (RFC 8291, aes128gcm) by pywebpush."""
    from pywebpush import WebPusher

    info = {"endpoint": device.endpoint, "keys": {"p256dh": device.p256dh, "auth": device.auth}}
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return WebPusher(info).encode(data, "aes128gcm")["body"]


def request_for(device: PushSubscription, message: PushMessage) -> tuple[dict, bytes]:
    """The headers and body of the POST to the device's push service (RFC 8030, 8291, 8292)."""
    claims = {"aud": _origin(device.endpoint), "sub": contact(),
              "exp": int(time.time()) + 12 * 3600}
    headers = dict(vapid().sign(claims))
    headers.update({"TTL": str(message.ttl), "Urgency": message.urgency,
                    "Content-Encoding": "aes128gcm",
                    "Content-Type": "application/octet-stream"})
    tag = (message.payload or {}).get("tag") or ""
    if _TOPIC.match(tag):  # a newer push with the same topic replaces one still waiting
        headers["Topic"] = tag
    return headers, encrypt(device, message.payload)


def deliver(http: requests.Session, device: PushSubscription, message: PushMessage) -> Outcome:
    """Send one push; never raises for what the network or the service does."""
    import requests

    if device.endpoint.startswith(DEMO_ENDPOINT) and current_app.config["DEMO"]:
        return _deliver_to_demo_phone(device, message)
    try:
        check_endpoint(device.endpoint)
    except Refused as exc:
        return Outcome(error=f"refused: {exc}", permanent=True)
    try:
        headers, body = request_for(device, message)
        response = http.post(device.endpoint, data=body, headers=headers,
                             timeout=current_app.config["PUSH_TIMEOUT"], allow_redirects=False)
    except requests.RequestException as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:500])
    outcome = Outcome(status=response.status_code)
    if response.status_code >= 300:
        outcome.error = f"{response.status_code}: {response.text[:300]}"
    if response.status_code == 429:
        outcome.retry_after = _retry_after(response.headers.get("Retry-After"))
    return outcome


# -- the demo phone: a push service and a phone in this process (demo mode only) --------------

DEMO_ENDPOINT = "https://demo-telefoon.parro.invalid/"


def _demo_folder() -> Path:
    return Path(current_app.instance_path) / "demo_push"


def add_demo_phone(user: User, session_id: int) -> PushSubscription:
    """A phone for the demo without a real push service (the caller commits).

    Its private key stays in instance/demo_push/: the sender encrypts each push for it
    as for any phone and signs it with VAPID, and "delivers" it by decrypting it here;
    the push viewer (/dev/push/) shows what the phone would show.
    """
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    token = base64.urlsafe_b64encode(os.urandom(12)).decode()
    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    folder = _demo_folder()
    folder.mkdir(parents=True, exist_ok=True)

    (folder / f"{token}.pem").write_bytes(key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    (folder / f"{token}.auth").write_bytes(auth)
    raw = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return subscribe(user, session_id, Subscription(
        DEMO_ENDPOINT + token, base64.urlsafe_b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(auth).decode().rstrip("=")), "parro demo-telefoon")


def _deliver_to_demo_phone(device: PushSubscription, message: PushMessage) -> Outcome:
    import http_ece
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from py_vapid import Vapid02

    token = device.endpoint[len(DEMO_ENDPOINT):]
    folder = _demo_folder()
    try:
        key = load_pem_private_key((folder / f"{token}.pem").read_bytes(), None)
        auth = (folder / f"{token}.auth").read_bytes()
    except (OSError, ValueError):
        return Outcome(status=410)  # its key is gone: as a push service says of a lost phone
    headers, body = request_for(device, message)
    if not Vapid02.verify(headers["Authorization"]):
        return Outcome(status=401, error="401: VAPID signature")
    plain = http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm")
    with (folder / f"{token}.received").open("a", encoding="utf-8") as log:
        log.write(json.dumps({"id": message.id, "payload": json.loads(plain)}) + "\n")
    return Outcome(status=201)


def demo_received(device: PushSubscription) -> dict[int, dict]:
    """What the demo phone decrypted, by push id (the push viewer shows it)."""
    if not device.endpoint.startswith(DEMO_ENDPOINT):
        return {}
    path = _demo_folder() / f"{device.endpoint[len(DEMO_ENDPOINT):]}.received"
    if not path.exists():
        return {}
    lines = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {line["id"]: line["payload"] for line in lines}


def _record(message_id: int, outcome: Outcome) -> str:
    """Write down how one push went, in a short transaction of its own. Returns what became
    of it: "sent", "retry", "failed" or "gone" (the subscription was deleted)."""
    with writer_transactions():
        message = db.session.get(PushMessage, message_id)
        if message is None:  # its device was removed meanwhile
            db.session.commit()
            return "gone"
        moment = now()
        message.attempts += 1
        message.claimed_until = None
        status = outcome.status
        result = "retry"
        if status is not None and 200 <= status < 300:
            message.sent_at = moment
            message.subscription.last_delivered_at = moment
            result = "sent"
        elif status in (404, 410):
            log.info("push subscription %s is gone (%s): removed",
                     message.subscription_id, status)
            db.session.execute(delete(PushSubscription).where(
                PushSubscription.id == message.subscription_id))
            db.session.commit()
            return "gone"
        else:
            message.last_error = outcome.error
            retryable = not outcome.permanent and (
                status is None or status == 429 or status >= 500)
            if not retryable or message.attempts >= current_app.config["PUSH_MAX_ATTEMPTS"]:
                message.failed_at = moment
                result = "failed"
                log.warning("push %s given up: %s", message.id, outcome.error)
            else:
                wait = outcome.retry_after if status == 429 and outcome.retry_after else None
                message.next_attempt_at = moment + (wait or backoff(message.attempts))
        db.session.commit()
        return result


def send_pending(limit: int = BATCH, http: requests.Session | None = None) -> dict[str, int]:
    """Deliver one batch of due pushes. Returns how many became of what."""
    ids = claim_due(limit)
    counts = {"sent": 0, "retry": 0, "failed": 0, "gone": 0}
    if not ids:
        return counts
    rows = list(db.session.scalars(
        select(PushMessage).where(PushMessage.id.in_(ids)).order_by(PushMessage.id)))
    work = [(row.id, row.subscription, row) for row in rows]
    for _, device, _row in work:  # load what the requests need, then end the transaction
        db.session.expunge(device)
    for _, _, row in work:
        db.session.expunge(row)
    # No transaction stays open while we talk to push services (SQLite's write lock).
    db.session.rollback()
    import requests

    with requests.Session() if http is None else nullcontext(http) as session:
        for message_id, device, row in work:
            counts[_record(message_id, deliver(session, device, row))] += 1
    return counts


KEEP = timedelta(days=7)  # delivered or given-up pushes are kept this long (the demo viewer)
_tidied = {"at": None}  # when this process last tidied


def tidy() -> int:
    """Delete pushes delivered or given up more than KEEP ago (at most hourly per process).

    A push holds a name and a first line: it is not kept longer than its delivery needs.
    """
    moment, last = now(), _tidied["at"]
    if last is not None and last <= moment < last + timedelta(hours=1):
        return 0
    _tidied["at"] = moment
    with writer_transactions():
        cut = moment - KEEP
        done = db.session.execute(delete(PushMessage).where(
            or_(PushMessage.sent_at < cut, PushMessage.failed_at < cut))).rowcount
        db.session.commit()
    return done


def send_all(http: requests.Session | None = None) -> dict[str, int]:
    """Deliver everything due now (the sender thread, the CLI and tests): first the
    summaries of what was held for users whose hours began (parro.push_hours), then
    every due push."""
    push_hours.send_summaries(push_now)
    tidy()
    total = {"sent": 0, "retry": 0, "failed": 0, "gone": 0}
    while True:
        counts = send_pending(http=http)
        for key, n in counts.items():
            total[key] += n
        if not any(counts.values()):
            return total


def init_app(app: Flask) -> None:
    register_round(app, send_all)
