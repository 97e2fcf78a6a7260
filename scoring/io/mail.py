"""E-mail by SMTP (issue 18 item 6): the server the secretariat configures, messages built with
:mod:`email.message`, sent with :mod:`smtplib`. The outbox (:mod:`scoring.store.outbox`) decides what is sent
when; this module only talks to the server.

Settings (environment variables, read at each send; docs/notices.md and the README's settings table):

| variable | default | what |
| --- | --- | --- |
| ``SHINSA_SMTP_HOST`` | — | the SMTP server; unset = no sending (the outbox still holds drafts) |
| ``SHINSA_SMTP_PORT`` | 587 with STARTTLS, else 25 | its port |
| ``SHINSA_SMTP_STARTTLS`` | ``1`` | ``1`` upgrade the connection with STARTTLS (certificate checked), ``0`` plain |
| ``SHINSA_SMTP_USER``, ``SHINSA_SMTP_PASSWORD`` | — | login, when the server needs one (never over a plain connection to another machine) |
| ``SHINSA_SMTP_SENDER`` | — | the From address (required with a host) |
"""

from __future__ import annotations

import ipaddress
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Mapping

from ..errors import InputError, Problem, quote

__all__ = ["SmtpSettings", "SmtpConnection", "build_message", "address_problem", "MESSAGE_ERRORS", "SEND_ERRORS",
           "DOCX_TYPE"]

DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
TIMEOUT = 30.0
"""Seconds the SMTP connection waits for the server at each step."""
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)
"""The server refused one message (smtplib resets the session, the connection goes on)."""
SEND_ERRORS = (smtplib.SMTPException, ssl.SSLError, OSError)
"""Every error of sending (smtplib's are OSErrors too); those not in :data:`MESSAGE_ERRORS` are the connection's
own (server down, login refused, TLS failed, disconnected): the outbox stops sending after one."""
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def address_problem(address: str) -> str | None:
    """Why ``address`` is not one e-mail address we send to (None when it is)."""
    if not isinstance(address, str) or not address.strip():
        return "an e-mail address is required"
    if len(address) > 320 or any(c in address for c in "\r\n\0"):
        return f"not an e-mail address: {quote(address)}"
    name, addr = parseaddr(address)
    if name or addr != address.strip() or addr.count("@") != 1 or not all(addr.split("@")) \
            or any(c.isspace() for c in addr):
        return f"not an e-mail address (name@example.jp): {quote(address)}"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    sender: str
    user: str | None = None
    password: str | None = None
    timeout: float = TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "SmtpSettings | None":
        """The settings of the environment; None when ``SHINSA_SMTP_HOST`` is unset. A setting that cannot be
        used raises :class:`InputError` naming each variable."""
        env = os.environ if env is None else env
        host = (env.get("SHINSA_SMTP_HOST") or "").strip()
        if not host:
            return None
        problems = []

        def bad(var: str, message: str) -> None:
            problems.append(Problem(var, None, "(setting)", message))

        tls_raw = (env.get("SHINSA_SMTP_STARTTLS") or "1").strip().lower()
        if tls_raw not in _TRUE + _FALSE:
            bad("SHINSA_SMTP_STARTTLS", f"must be 1 or 0, not {quote(tls_raw)}")
        starttls = tls_raw not in _FALSE
        port_raw = (env.get("SHINSA_SMTP_PORT") or "").strip()
        port = 587 if starttls else 25
        if port_raw:
            if port_raw.isdigit() and 0 < int(port_raw) < 65536:
                port = int(port_raw)
            else:
                bad("SHINSA_SMTP_PORT", f"must be a port number 1–65535, not {quote(port_raw)}")
        sender = (env.get("SHINSA_SMTP_SENDER") or "").strip()
        why = address_problem(sender)
        if why:
            bad("SHINSA_SMTP_SENDER", f"the From address: {why}")
        user = (env.get("SHINSA_SMTP_USER") or "").strip() or None
        password = env.get("SHINSA_SMTP_PASSWORD") or None
        if user and not password:
            bad("SHINSA_SMTP_PASSWORD", "required with SHINSA_SMTP_USER")
        if user and not starttls and not _loopback(host):
            bad("SHINSA_SMTP_USER", "a login is sent only over STARTTLS (set SHINSA_SMTP_STARTTLS=1)")
        if problems:
            raise InputError(problems)
        return cls(host, port, starttls, sender, user, password)


def build_message(sender: str, to: str, subject: str, body: str, attachment_name: str | None = None,
                  attachment: bytes | None = None, maintype_subtype: tuple[str, str] = DOCX_TYPE) -> EmailMessage:
    """One plain-text message (UTF-8) with an optional attachment; Date and Message-ID set."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or None)
    msg.set_content(body, charset="utf-8")
    if attachment is not None:
        maintype, subtype = maintype_subtype
        msg.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=attachment_name or "attachment")
    return msg


class SmtpConnection:
    """One connection to the configured server (opened at the first :meth:`send`, closed by :meth:`close`)."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        st = self.settings
        smtp = smtplib.SMTP(st.host, st.port, timeout=st.timeout)
        try:
            smtp.ehlo()
            if st.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if st.user:
                smtp.login(st.user, st.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, msg: EmailMessage) -> None:
        """Send one message; raises the :mod:`smtplib` error (or OSError) when it is not accepted."""
        if self._smtp is None:
            self._smtp = self._open()
        self._smtp.send_message(msg)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None
