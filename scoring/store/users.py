"""Accounts and logins: bcrypt passwords with a lockout, login tokens that outlast a page reload, and the
chair/secretariat administration of users (``store.users``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import unicodedata
from datetime import timedelta
from functools import lru_cache

import bcrypt
from sqlalchemy import and_, case, func, literal, null, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import InputError, Problem, quote
from ..models import ACCOUNT_ROLES, Role
from .base import ADMIN, Actor, ServiceBase, deny
from .errors import AccountLocked, AccountRefused, AuthenticationFailed, Duplicate
from .schema import AuditLog, LoginSession, User, as_utc, utcnow
from .times import local_time, session_hours
from .values import SYSTEM, AuditAction, UserInfo


def _user_info(u: User) -> UserInfo:
    return UserInfo(u.id, u.username, u.display_name, u.role, u.external_id, bool(u.active), u.password_hash is not None,
                    u.language)


def _lockout_failures() -> int:
    return int(os.environ.get("SHINSA_LOCKOUT_FAILURES") or 5)


def _lockout_minutes() -> float:
    return float(os.environ.get("SHINSA_LOCKOUT_MINUTES") or 15)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


LANGUAGES = ("ja", "en")   # the app's languages a user may keep as their choice (set_language)
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72   # bcrypt's limit: longer passwords are refused, never truncated


def _bcrypt_rounds() -> int:
    return int(os.environ.get("SHINSA_BCRYPT_ROUNDS") or 12)


def _hash_password(password: str) -> str:
    check_password(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(_bcrypt_rounds())).decode("ascii")


_DUMMY_HASHES: dict[int, bytes] = {}
_DUMMY_LOCK = threading.Lock()


def _dummy_hash() -> bytes:
    """A hash of nothing at the configured cost (``SHINSA_BCRYPT_ROUNDS``), made once per cost: every refused
    login checks one hash of the same cost as a real one, so the time taken does not tell whether the user
    exists, has a password, is active or is locked."""
    rounds = _bcrypt_rounds()
    h = _DUMMY_HASHES.get(rounds)
    if h is None:
        with _DUMMY_LOCK:
            h = _DUMMY_HASHES.get(rounds)
            if h is None:
                h = _DUMMY_HASHES[rounds] = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds))
    return h


def _matches(password: bytes, hashed: bytes | None) -> bool:
    """One bcrypt check, always: against ``hashed``, or against the dummy hash when there is nothing to check
    (no such user, no password) or the password cannot be one (over bcrypt's 72 bytes: never truncated, so a
    72-byte password's prefix with any suffix does not log in)."""
    if hashed is None or len(password) > MAX_PASSWORD_BYTES:
        bcrypt.checkpw(b"not a password", _dummy_hash())
        return False
    return bcrypt.checkpw(password, hashed)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn's list of the 30,000 most common passwords of public breaches (pinned in requirements.txt)
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password: str) -> None:
    """Refuse a password (:class:`AccountRefused`, nothing written): fewer than 8 characters, only blanks, more
    than 72 bytes in UTF-8 (bcrypt's limit; about 24 Japanese characters), or one of the 30,000 most common
    passwords (zxcvbn's list; compared after NFKC and in lower case, so ``ＰＡＳＳＷＯＲＤ１`` counts too)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise AccountRefused("password_short", Problem("(password)", None, "password",
                                                       f"must be at least {MIN_PASSWORD_CHARS} characters"))
    if not password.strip():
        raise AccountRefused("password_blank", Problem("(password)", None, "password",
                                                       "must not be only spaces"))
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise AccountRefused("password_long", Problem(
            "(password)", None, "password",
            f"must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt's limit; about 24 Japanese characters)"))
    if unicodedata.normalize("NFKC", password).strip().lower() in _common_passwords():
        raise AccountRefused("password_common", Problem("(password)", None, "password",
                                                        "is one of the most common passwords: choose another"))


def reserved_username(username: str) -> bool:
    """Whether ``username`` is the system's: the command line's actor ``(cli)`` and every name starting or
    ending with a parenthesis, compared after NFKC (full-width ``（ｃｌｉ）`` too), without invisible format
    characters, and case-insensitively — no account can pass for the command line in the audit log."""
    name = "".join(c for c in unicodedata.normalize("NFKC", username or "")
                   if unicodedata.category(c) not in ("Cf", "Cc")).strip().casefold()
    return name == SYSTEM.username.casefold() or name.startswith("(") or name.endswith(")")


def check_username(username: str) -> str:
    """The username to store (stripped), or :class:`AccountRefused`: empty, or reserved
    (:func:`reserved_username`)."""
    name = (username or "").strip()
    if not name:
        raise AccountRefused("username_empty", Problem("(user)", None, "username", "must not be empty"))
    if reserved_username(name):
        raise AccountRefused("username_reserved", Problem(
            "(user)", None, "username", f"{name[:80]!r} is reserved for the system (like {SYSTEM.username!r}, "
                                        "no name may start or end with a parenthesis)"))
    return name


def _check_role(role: str) -> None:
    if role not in ACCOUNT_ROLES:
        raise InputError([Problem("(user)", None, "role",
                                  f"{role!r} is not one of {[r.value for r in ACCOUNT_ROLES]}")])


def _guard_chair_accounts(who: Actor, role: str) -> None:
    """Chair accounts are created and changed by a chair or the command line only: a secretariat that could set a
    chair's password or make an account a chair could read every score through it."""
    if role == Role.chair and not who.is_(Role.chair):
        raise deny(who, "create or change a chair account")


def _end_sessions(s: Session, user_id: int) -> None:
    s.execute(LoginSession.__table__.delete().where(LoginSession.user_id == user_id))


class UserService(ServiceBase):
    """``store.users``: logins, login tokens, and the accounts' administration."""

    def authenticate(self, username: str, password: str) -> UserInfo:
        """Check a password (bcrypt). After ``SHINSA_LOCKOUT_FAILURES`` (default 5) failures in a row the account
        is locked for ``SHINSA_LOCKOUT_MINUTES`` (default 15): :class:`AccountLocked` even with the right
        password. Success resets the counter. Failures raise :class:`AuthenticationFailed`.

        Each guess first reserves an attempt in one atomic ``UPDATE … RETURNING`` (the counter goes up before
        bcrypt runs, and the guess that reaches the limit sets the lock), so parallel guesses — other threads,
        processes or servers — get at most ``SHINSA_LOCKOUT_FAILURES`` password checks per lock. bcrypt runs
        outside any transaction. Every refusal checks one hash of the configured cost (no timing difference
        between an unknown user, no password, inactive, locked and a wrong password)."""
        pw = (password if isinstance(password, str) else "").encode("utf-8")
        limit = max(1, _lockout_failures())
        now = utcnow()
        until = now + timedelta(minutes=_lockout_minutes())
        users = User.__table__
        c = users.c
        expired = and_(c.locked_until.is_not(None), c.locked_until <= now)
        count = case((expired, 1), else_=func.coalesce(c.failed_logins, 0) + 1)
        reserve = (update(users)
                   .where(c.username == username, c.active.is_(True), c.password_hash.is_not(None),
                          or_(c.locked_until.is_(None), c.locked_until <= now))
                   .values(failed_logins=count,
                           locked_until=case((count >= limit, literal(until, c.locked_until.type)), else_=null()))
                   .returning(c.id, c.password_hash, c.failed_logins))
        with self.db.write() as s:
            row = s.execute(reserve).first()
        if row is None:   # unknown, inactive, no password, or locked: no attempt to spend, the same bcrypt cost
            _matches(pw, None)
            with self.db.read() as s:
                locked = s.scalar(select(User.locked_until).where(
                    User.username == username, User.active.is_(True), User.password_hash.is_not(None)))
            if locked is not None and as_utc(locked) > now:
                raise AccountLocked(f"too many failed logins: locked until {local_time(locked)}", as_utc(locked))
            raise AuthenticationFailed("unknown user or wrong password")
        user_id, hashed, attempt = row
        if attempt > limit:   # the limit was lowered since the count began: locked by this reservation
            _matches(pw, None)
            raise AccountLocked(f"too many failed logins: locked until {local_time(until)}", until)
        if _matches(pw, hashed.encode("ascii")):
            with self.db.write() as s:
                s.execute(update(users).where(c.id == user_id).values(failed_logins=0, locked_until=None))
                return _user_info(s.get(User, user_id))
        if attempt < limit:
            raise AuthenticationFailed("unknown user or wrong password")
        with self.db.write() as s:   # the last attempt failed: the lock set with the reservation stays
            u = s.get(User, user_id)
            if u.locked_until is not None and as_utc(u.locked_until) > utcnow():
                s.add(AuditLog(at=utcnow(), actor=u.username, action=AuditAction.user_lockout, entity="user",
                               subject=u.username, after={"locked_until": as_utc(u.locked_until).isoformat()}))
                locked = as_utc(u.locked_until)
            else:   # a right password in a parallel attempt cleared it meanwhile
                locked = None
        if locked is None:
            raise AuthenticationFailed("unknown user or wrong password")
        raise AccountLocked(f"too many failed logins: locked until {local_time(locked)}", locked)

    def has_accounts(self) -> bool:
        """Whether any account exists (the login page of a fresh installation says how to create the first
        chair; nothing else about accounts is revealed)."""
        with self.db.read() as s:
            return s.scalar(select(User.id).limit(1)) is not None

    # Logins that survive a page reload or a server restart (built-in accounts; OIDC has its own cookie).
    def open_session(self, user: UserInfo | str) -> str:
        """A new login for ``user`` (after :meth:`authenticate` accepted them; a UserInfo or a username): a random
        token for the browser's cookie, valid for :func:`session_hours`. Only its SHA-256 is stored. Expired
        logins are swept here."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.db.write() as s:
            u = self._user(s, user if isinstance(user, str) else user.username)
            s.execute(LoginSession.__table__.delete().where(LoginSession.expires_at < now))
            s.add(LoginSession(token_hash=_token_hash(token), user_id=u.id, created_at=now,
                               expires_at=now + timedelta(hours=session_hours())))
        return token

    def resume_session(self, token: str | None) -> UserInfo | None:
        """The user of a login token, or None when the token is unknown, expired or ended, or the account is
        inactive or locked."""
        if not token or not isinstance(token, str) or len(token) > 200:
            return None
        with self.db.read() as s:
            row = s.execute(select(User, LoginSession.expires_at).join(LoginSession, LoginSession.user_id == User.id)
                            .where(LoginSession.token_hash == _token_hash(token))).first()
            if row is None:
                return None
            u, expires = row
            now = utcnow()
            if as_utc(expires) <= now or not u.active or (u.locked_until is not None and as_utc(u.locked_until) > now):
                return None
            return _user_info(u)

    def end_session(self, token: str | None) -> None:
        """Log out: the token logs nobody in any more (also in other tabs holding the same cookie)."""
        if not token or not isinstance(token, str):
            return
        with self.db.write() as s:
            s.execute(LoginSession.__table__.delete().where(LoginSession.token_hash == _token_hash(token)))

    def by_external_id(self, external_id: str) -> UserInfo | None:
        """The active user linked to an external (OIDC) identity, or None."""
        with self.db.read() as s:
            u = s.scalar(select(User).where(User.external_id == external_id, User.active.is_(True)))
            return _user_info(u) if u else None

    def get(self, username: str) -> UserInfo:
        with self.db.read() as s:
            return _user_info(self._user(s, username))

    def list_users(self, actor: UserInfo) -> list[UserInfo]:
        """Chair, secretariat."""
        with self.db.read() as s:
            who = self._admin(s, actor, "list users")
            return [_user_info(u) for u in s.scalars(select(User).order_by(User.username))]

    def add_user(self, actor: UserInfo, username: str, display_name: str, role: str, password: str | None = None,
                 external_id: str | None = None) -> UserInfo:
        """Chair, secretariat (a chair account only by a chair or the command line: the secretariat never reaches
        scores, also not by making itself a chair). ``role`` is one of :data:`scoring.models.ACCOUNT_ROLES`.
        Raises :class:`Duplicate`."""
        _check_role(role)
        username = check_username(username)
        hashed = _hash_password(password) if password is not None else None
        try:
            with self.db.write() as s:
                who = self._admin(s, actor, "add users")
                _guard_chair_accounts(who, role)
                if s.scalar(select(User.id).where(User.username == username)) is not None:
                    raise Duplicate(f"user {username!r} already exists")
                u = User(username=username, display_name=display_name or username, role=role,
                         password_hash=hashed, external_id=external_id or None, active=True, failed_logins=0,
                         created_at=utcnow())
                s.add(u)
                s.flush()
                self._audit(s, who, AuditAction.user_add, "user", subject=username,
                            after={"role": role, "display_name": u.display_name, "external_id": u.external_id})
                return _user_info(u)
        except IntegrityError:
            raise Duplicate(f"user {username!r} or external identity {external_id!r} already exists") from None

    def set_password(self, actor: UserInfo, username: str, password: str) -> None:
        """The user themself, chair, secretariat (a chair's password: the chair or another chair only). Clears a
        lockout."""
        hashed = _hash_password(password)
        with self.db.write() as s:
            who = self._who(s, actor)
            u = self._user(s, username)
            if not (who.is_(*ADMIN) or who.id == u.id):
                raise deny(who, f"set the password of {username!r}")
            if who.id != u.id:
                _guard_chair_accounts(who, u.role)
            u.password_hash = hashed
            u.failed_logins = 0
            u.locked_until = None
            _end_sessions(s, u.id)   # a new password ends every open login of the account
            self._audit(s, who, AuditAction.user_password, "user", subject=username)

    def set_language(self, actor: UserInfo, language: str) -> None:
        """The acting user's own choice of the app's language (``LANGUAGES``), kept for their next login. A
        preference of the user's own, not a change to a round: not in the audit log."""
        if language not in LANGUAGES:
            raise InputError([Problem("(user)", None, "language", f"{quote(language)} is not one of "
                                                                   f"{', '.join(LANGUAGES)}")])
        with self.db.write() as s:
            who = self._who(s, actor)
            if who.id is None:        # the command line has no account to keep it on
                raise deny(who, "keep a language choice")
            s.get(User, who.id).language = language

    def update_user(self, actor: UserInfo, username: str, *, display_name: str | None = None,
                    role: str | None = None, active: bool | None = None,
                    external_id: str | None = None) -> UserInfo:
        """Chair, secretariat. A user cannot change their own role or deactivate themself."""
        if role is not None:
            _check_role(role)
        try:
            with self.db.write() as s:
                who = self._admin(s, actor, "change users")
                u = self._user(s, username)
                if u.id == who.id and ((role is not None and role != u.role) or active is False):
                    raise deny(who, "change their own role or deactivate themself")
                _guard_chair_accounts(who, u.role)
                if role is not None:
                    _guard_chair_accounts(who, role)
                before = {"display_name": u.display_name, "role": u.role, "active": u.active,
                          "external_id": u.external_id}
                if display_name is not None:
                    u.display_name = display_name
                if role is not None:
                    u.role = role
                if active is not None:
                    u.active = bool(active)
                if external_id is not None:
                    u.external_id = external_id or None
                if before["role"] != u.role or not u.active:
                    _end_sessions(s, u.id)   # a changed role or a deactivated account: log in again
                after = {"display_name": u.display_name, "role": u.role, "active": u.active,
                         "external_id": u.external_id}
                self._audit(s, who, AuditAction.user_update, "user", subject=username, before=before, after=after)
                s.flush()
                return _user_info(u)
        except IntegrityError:
            raise Duplicate(f"external identity {external_id!r} is already linked to another user") from None

    def unlock(self, actor: UserInfo, username: str) -> None:
        """Chair, secretariat: clear a login lockout."""
        with self.db.write() as s:
            who = self._admin(s, actor, "unlock users")
            u = self._user(s, username)
            u.failed_logins = 0
            u.locked_until = None
            self._audit(s, who, AuditAction.user_unlock, "user", subject=username)

