"""A push service on loopback: the receiving side of Web Push, for the tests.

It does what Google's, Mozilla's or Apple's push service does with a push (RFC 8030):
it checks the VAPID authorization (RFC 8292: a JWT signed with ES256 by the key in
`k`, `aud` equal to this service's origin, `exp` in the future and within 24 hours)
and, being the test's stand-in for the browser too, decrypts every payload (RFC 8291,
aes128gcm) with the private key of the subscription that the test made. A push that
fails either check is answered 401 or 400 and not recorded.

Answers can be set per subscription: 201 (default), 404/410 (gone), 429 with a
Retry-After, 500. Every accepted push is recorded in `received`.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    token: str
    payload: dict
    headers: dict
    vapid_key: str  # the server's public key, as sent in `k`
    claims: dict


@dataclass
class Device:
    """A subscription as a browser holds it: its private key stays here."""

    token: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    answers: list = field(default_factory=list)  # (status, headers) to give, in turn

    def json(self, origin: str) -> dict:
        public = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint)
        return {"endpoint": f"{origin}/push/{self.token}", "expirationTime": None,
                "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}


def verify_vapid(header: str, origin: str) -> tuple[str, dict]:
    """Check an RFC 8292 Authorization header; return (k, claims) or raise ValueError."""
    scheme, _, params = (header or "").partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"not a vapid authorization: {scheme!r}")
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    token, key = parts["t"], parts["k"]
    signing_input, _, signature = token.rpartition(".")
    header_b64, _, claims_b64 = signing_input.partition(".")
    jwt_header = json.loads(unb64url(header_b64))
    if jwt_header.get("alg") != "ES256":
        raise ValueError(f"alg {jwt_header.get('alg')}")
    raw = unb64url(signature)
    if len(raw) != 64:
        raise ValueError("an ES256 signature is 64 bytes")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    try:
        public.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("bad signature") from None
    claims = json.loads(unb64url(claims_b64))
    if claims.get("aud") != origin:
        raise ValueError(f"aud {claims.get('aud')!r} is not {origin!r}")
    exp = claims.get("exp")
    moment = time.time()
    if not isinstance(exp, int) or exp <= moment or exp > moment + 24 * 3600:
        raise ValueError(f"exp {exp} is not within 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise ValueError("no sub")
    return key, claims


class PushService:
    def __init__(self):
        self.devices: dict[str, Device] = {}
        self.received: list[Received] = []
        self.requests = 0  # every POST, accepted or not
        self.refused: list[str] = []  # why a request was refused
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers = service.handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> PushService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def subscription(self, *answers) -> dict:
        """A new subscription (what PushManager.subscribe() gives a page), as JSON."""
        device = Device(secrets.token_urlsafe(16), ec.generate_private_key(ec.SECP256R1()),
                        os.urandom(16), list(answers))
        self.devices[device.token] = device
        return device.json(self.origin)

    def answer(self, subscription: dict, *answers) -> None:
        """Give these answers, in turn, to the next pushes to this subscription."""
        self.devices[subscription["endpoint"].rsplit("/", 1)[1]].answers.extend(answers)

    def payloads(self, subscription: dict | None = None) -> list[dict]:
        token = subscription["endpoint"].rsplit("/", 1)[1] if subscription else None
        return [r.payload for r in self.received if token is None or r.token == token]

    def handle(self, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        with self._lock:
            self.requests += 1
            token = path.rsplit("/", 1)[-1] if path.startswith("/push/") else ""
            device = self.devices.get(token)
            if device is None:
                return 404, {}
            if device.answers:
                answer = device.answers.pop(0)
                status, extra = answer if isinstance(answer, tuple) else (answer, {})
                if status != 201:
                    return status, extra
            lower = {k.lower(): v for k, v in headers.items()}
            try:
                key, claims = verify_vapid(lower.get("authorization", ""), self.origin)
            except (ValueError, KeyError) as exc:
                self.refused.append(f"vapid: {exc}")
                return 401, {}
            if lower.get("content-encoding") != "aes128gcm" or "ttl" not in lower:
                self.refused.append("headers")
                return 400, {}
            try:
                plain = http_ece.decrypt(body, private_key=device.private_key,
                                         auth_secret=device.auth, version="aes128gcm")
            except Exception as exc:  # noqa: BLE001 (any failure to decrypt is a 400)
                self.refused.append(f"decrypt: {exc}")
                return 400, {}
            self.received.append(Received(device.token, json.loads(plain), lower, key, claims))
            return 201, {"Location": f"{self.origin}/message/{len(self.received)}"}
