"""Password hashing (argon2) and the rules a new password must meet."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _


def _hasher() -> PasswordHasher:
    ext = current_app.extensions
    if "parro_hasher" not in ext:
        ext["parro_hasher"] = PasswordHasher(**current_app.config["PASSWORD_HASH"])
    return ext["parro_hasher"]


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None (another C library)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _give_back() -> None:
    """Return the hash's 19 MiB to the system. glibc serves the first one with mmap and
    unmaps it, but then raises its mmap threshold to that size, so every later hash of the
    process lands on the heap and stays in the worker's RSS (25 MB after three logins,
    bench/memory.py; README, Performance)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def hash_password(password: str) -> str:
    try:
        return _hasher().hash(password)
    finally:
        _give_back()


def _dummy_hash() -> str:
    ext = current_app.extensions
    if "parro_dummy_hash" not in ext:
        ext["parro_dummy_hash"] = hash_password("not a password, only for timing")
    return ext["parro_dummy_hash"]


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password. Unknown accounts cost the same time as known ones."""
    try:
        return _hasher().verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
    except (VerifyMismatchError, InvalidHashError):
        return False
    finally:
        _give_back()


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


def _squash(value: str) -> str:
    return re.sub(r"[\W_]+", "", value.lower())


def _personal_words(user_inputs) -> tuple[list[str], list[str]]:
    """What zxcvbn should know about the user, and what the password may not contain.

    A whole email address, its part before the @ and a full name of two or more
    words are refused outright; single words (a first name) only weaken the score.
    """
    words, forbidden = [], []
    for value in (u.strip().lower() for u in user_inputs if u):
        words.append(value)
        words.extend(w for w in re.split(r"[\W_]+", value) if len(w) > 2)
        local = value.split("@")[0]
        if "@" in value:
            forbidden += [value, local]
        elif len(value.split()) > 1:
            forbidden.append(value)
    return words, [f for f in map(_squash, forbidden) if len(f) >= 4]


def password_problem(password: str, user_inputs: list[str] = ()) -> str | None:
    """Why this password will not do, in the user's language, or None when it will.

    `user_inputs` are the user's email address and name.
    """
    cfg = current_app.config
    if len(password) < cfg["PASSWORD_MIN_LENGTH"]:
        return _("Kies een wachtwoord van minstens %(n)d tekens.", n=cfg["PASSWORD_MIN_LENGTH"])
    if len(password) > cfg["PASSWORD_MAX_LENGTH"]:
        return _("Kies een wachtwoord van hoogstens %(n)d tekens.", n=cfg["PASSWORD_MAX_LENGTH"])
    words, forbidden = _personal_words(user_inputs)
    if any(f in _squash(password) for f in forbidden):
        return _("Gebruik niet uw naam of e-mailadres in uw wachtwoord.")
    from zxcvbn import zxcvbn  # here: its word lists take 12 MB, and only this needs them

    # zxcvbn ships its word lists (common passwords, names, keyboard patterns).
    # It refuses more than 72 characters; a passphrase that long is judged by its start.
    if zxcvbn(password[:72], user_inputs=words)["score"] < 3:
        return _(
            "Dit wachtwoord is te makkelijk te raden. "
            "Een zin van vier losse woorden is sterk en goed te onthouden."
        )
    return None
