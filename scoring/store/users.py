"""Accounts and logins: bcrypt passwords with a lockout, login tokens that outlast a page reload, and the
chair/secretariat administration of users (``store.users``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import timedelta

import bcrypt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import InputError, Problem
from ..models import ACCOUNT_ROLES, Role
from .base import ADMIN, Actor, ServiceBase, deny
from .errors import AccountLocked, AuthenticationFailed, Duplicate
from .schema import AuditLog, LoginSession, User, as_utc, utcnow
from .times import local_time, session_hours
from .values import AuditAction, UserInfo


def _user_info(u: User) -> UserInfo:
    return UserInfo(u.id, u.username, u.display_name, u.role, u.external_id, bool(u.active), u.password_hash is not None)


def _lockout_failures() -> int:
    return int(os.environ.get("SHINSA_LOCKOUT_FAILURES") or 5)


def _lockout_minutes() -> float:
    return float(os.environ.get("SHINSA_LOCKOUT_MINUTES") or 15)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _hash_password(password: str) -> str:
    _check_password(password)
    rounds = int(os.environ.get("SHINSA_BCRYPT_ROUNDS") or 12)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < 8:
        raise InputError([Problem("(password)", None, "password", "must be at least 8 characters")])
    if len(password.encode("utf-8")) > 72:
        raise InputError([Problem("(password)", None, "password", "must be at most 72 bytes (bcrypt's limit)")])


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


_DUMMY_HASH = bcrypt.hashpw(b"not a password", bcrypt.gensalt(4))


class UserService(ServiceBase):
    """``store.users``: logins, login tokens, and the accounts' administration."""

    def authenticate(self, username: str, password: str) -> UserInfo:
        """Check a password (bcrypt). After ``SHINSA_LOCKOUT_FAILURES`` (default 5) failures in a row the account
        is locked for ``SHINSA_LOCKOUT_MINUTES`` (default 15): :class:`AccountLocked` even with the right
        password. Success resets the counter. Failures raise :class:`AuthenticationFailed`."""
        outcome: Exception | UserInfo
        with self.db.write() as s:
            u = s.scalar(select(User).where(User.username == username))
            pw = (password or "").encode("utf-8")[:72]
            if u is None or not u.active or u.password_hash is None:
                bcrypt.checkpw(pw, _DUMMY_HASH)  # about the same time whether or not the user exists
                outcome = AuthenticationFailed("unknown user or wrong password")
            elif u.locked_until is not None and as_utc(u.locked_until) > utcnow():
                outcome = AccountLocked(f"too many failed logins: locked until {local_time(u.locked_until)}",
                                        as_utc(u.locked_until))
            elif bcrypt.checkpw(pw, u.password_hash.encode("ascii")):
                u.failed_logins = 0
                u.locked_until = None
                outcome = _user_info(u)
            else:
                u.failed_logins = (u.failed_logins or 0) + 1
                if u.failed_logins >= _lockout_failures():
                    u.locked_until = utcnow() + timedelta(minutes=_lockout_minutes())
                    u.failed_logins = 0
                    s.add(AuditLog(at=utcnow(), actor=u.username, action=AuditAction.user_lockout, entity="user",
                                   subject=u.username, after={"locked_until": u.locked_until.isoformat()}))
                    outcome = AccountLocked(f"too many failed logins: locked until {local_time(u.locked_until)}",
                                            u.locked_until)
                else:
                    outcome = AuthenticationFailed("unknown user or wrong password")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

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
        username = (username or "").strip()
        if not username:
            raise InputError([Problem("(user)", None, "username", "must not be empty")])
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

