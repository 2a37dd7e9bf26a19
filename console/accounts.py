"""Staff accounts and their sessions: argon2 passwords, hashed session tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from console.tables import ROLES, StaffSession, User, as_utc, utcnow

HASHER = PasswordHasher()
# Verified against when the username is unknown, so both cases take as long.
DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,39}$")
PASSWORD_MIN, PASSWORD_MAX = 12, 1024
# zxcvbn's score 0-4; 3 means an estimated 10^8 guesses or more ("safely unguessable").
PASSWORD_SCORE = 3
ZXCVBN_MAX = 72  # zxcvbn refuses longer input: the first 72 characters are scored
PRODUCT_WORDS = ("certbot", "certification", "support", "staff", "console", "rasa", *ROLES)
SESSION_HOURS = 8


class AccountError(ValueError):
    """A request about accounts that cannot be carried out."""


@dataclass(frozen=True)
class SignedIn:
    """The staff member behind a request."""

    username: str
    role: str
    csrf_token: str

    def may(self, role: str) -> bool:
        """True if this member's role includes `role` (viewer < reviewer < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def check_password(password: str, username: str = "") -> str:
    """The password if long enough (not absurdly long) and hard to guess, else AccountError.

    Hard to guess: a zxcvbn score of at least PASSWORD_SCORE, the username and the product's
    words counting as known to the attacker.
    """
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AccountError(f"the password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    words = [word for word in (username, *PRODUCT_WORDS) if word]
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=words)
    if result["score"] < PASSWORD_SCORE:
        feedback = result["feedback"]
        advice = [feedback["warning"], *feedback["suggestions"]]
        advice = [text for text in advice if text] or ["Use a few uncommon words together."]
        raise AccountError(
            f"the password is too easy to guess (strength {result['score']} of 4, "
            f"{PASSWORD_SCORE} needed). {' '.join(advice)}"
        )
    return password


def add_user(session: Session, username: str, role: str, password: str) -> User:
    """Create an account."""
    if not USERNAME.match(username):
        raise AccountError("username: 2-40 of a-z 0-9 _ . - (starting with a letter or digit)")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if find_user(session, username):
        raise AccountError(f"user {username} exists already")
    password_hash = HASHER.hash(check_password(password, username))
    user = User(username=username, role=role, password_hash=password_hash)
    session.add(user)
    return user


def find_user(session: Session, username: str) -> User | None:
    """The account with this username, if any."""
    return session.scalars(select(User).where(User.username == username)).first()


def existing_user(session: Session, username: str) -> User:
    """The account with this username, or AccountError."""
    user = find_user(session, username)
    if user is None:
        raise AccountError(f"no user {username}")
    return user


def set_password(session: Session, username: str, password: str) -> None:
    """Replace a password and end the account's sessions."""
    user = existing_user(session, username)
    user.password_hash = HASHER.hash(check_password(password, username))
    end_sessions(session, user)


def disable_user(session: Session, username: str) -> None:
    """Disable an account and end its sessions."""
    user = existing_user(session, username)
    user.disabled = True
    end_sessions(session, user)


def end_sessions(session: Session, user: User) -> None:
    """Delete every session of the account."""
    session.query(StaffSession).filter(StaffSession.user_id == user.id).delete()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The enabled account whose password this is, else None (same time either way)."""
    user = find_user(session, username)
    try:
        HASHER.verify(user.password_hash if user else DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return user


def token_hash(token: str) -> str:
    """What is stored of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User) -> str:
    """Open a session for the account; return its token (for the cookie only)."""
    token = secrets.token_urlsafe(32)
    session.query(StaffSession).filter(StaffSession.expires < utcnow()).delete()
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            user_id=user.id,
            expires=utcnow() + timedelta(hours=SESSION_HOURS),
            csrf_token=secrets.token_urlsafe(32),
        )
    )
    return token


def signed_in(session: Session, token: str) -> SignedIn | None:
    """Who holds this session token, if it is valid, unexpired and the account enabled."""
    row = session.get(StaffSession, token_hash(token))
    if row is None or as_utc(row.expires) <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return SignedIn(user.username, user.role, row.csrf_token)


def end_session(session: Session, token: str) -> None:
    """Delete the session with this token."""
    session.query(StaffSession).filter(StaffSession.token_hash == token_hash(token)).delete()
