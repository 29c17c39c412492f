"""E-mail through SES (raw MIME: plain text, HTML, attachments such as .ics)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str
    html: str = ""
    attachments: tuple[Attachment, ...] = ()


def to_mime(message: Email, sender: str) -> EmailMessage:
    mime = EmailMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime.set_content(message.text)
    if message.html:
        mime.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return mime


def send(message: Email, sender: str, ses: Any = None) -> str:
    """Send through SES; returns the SES message id."""
    if ses is None:
        import boto3

        ses = boto3.client("ses")
    reply = ses.send_raw_email(Source=sender, Destinations=[message.to],
                               RawMessage={"Data": to_mime(message, sender).as_bytes()})
    return str(reply["MessageId"])
