"""The portal's "automated emails", as RFC 5322 messages in the lab's maildir.

The page's FAQ: "How is progress communicated outside of the portal status? Automated emails are
sent at varying milestones." The lab writes one message per milestone, From a noreply address of
the lab, To the peering's contact, into `<labdir>/maildir/` (any mail reader opens it). A maildir
keeps no order, so each message carries its place in the sequence in `X-Mapslab-Sequence`.
"""
from __future__ import annotations

import email.policy
import email.utils
import mailbox
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email import message_from_binary_file
from email.message import EmailMessage
from pathlib import Path

# RFC 2606 2: ".example" is reserved, so no message of the lab can ever reach a real mailbox.
DOMAIN = "example"
SEQUENCE = "X-Mapslab-Sequence"
MILESTONE = "X-Mapslab-Milestone"
LAB = "X-Mapslab-Lab"


@dataclass(frozen=True)
class Notification:
    """One milestone's message before it is addressed."""

    sequence: int
    time: float
    milestone: str
    subject: str
    body: str


@dataclass(frozen=True)
class Delivered:
    """A message found in the maildir, as `mapslab events` lists it."""

    sequence: int
    time: float
    milestone: str
    subject: str
    sender: str
    to: str
    message_id: str
    key: str


def _label(text: str) -> str:
    # RFC 1035 2.3.1: a DNS label is letters, digits and hyphens.
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63] or "peering"


def sender(lab: str) -> str:
    return f"Azure Peering Service (lab {lab}) <noreply@{_label(lab)}.mapslab.{DOMAIN}>"


def contact(peering_name: str) -> str:
    """The peering's NOC, derived from its name (the topology has no contact field)."""
    return f"noc@{_label(peering_name)}.{DOMAIN}"


def compose(note: Notification, lab: str, to: str) -> EmailMessage:
    message = EmailMessage(policy=email.policy.default)
    message["From"] = sender(lab)
    message["To"] = to
    message["Subject"] = note.subject
    message["Date"] = email.utils.format_datetime(datetime.fromtimestamp(note.time, timezone.utc))
    message["Message-ID"] = email.utils.make_msgid(idstring=note.milestone,
                                                   domain=f"{_label(lab)}.mapslab.{DOMAIN}")
    message[SEQUENCE] = str(note.sequence)
    message[MILESTONE] = note.milestone
    message[LAB] = lab
    message.set_content(note.body)
    return message


def deliver(maildir: Path, message: EmailMessage) -> str:
    """Put one message in `new/` of the maildir (created if needed); return its key."""
    return mailbox.Maildir(maildir, create=True).add(message)


def inbox(maildir: Path) -> list[Delivered]:
    """Every message of the maildir, in milestone order."""
    if not (maildir / "new").is_dir():
        return []
    box = mailbox.Maildir(maildir, create=False,
                          factory=lambda f: message_from_binary_file(f, policy=email.policy.default))
    found = []
    for key, message in box.iteritems():
        date = email.utils.parsedate_to_datetime(str(message["Date"]))
        found.append(Delivered(int(message.get(SEQUENCE, "0")), date.timestamp(),
                               str(message.get(MILESTONE, "")), str(message["Subject"]),
                               str(message["From"]), str(message["To"]),
                               str(message["Message-ID"]), key))
    return sorted(found, key=lambda d: (d.sequence, d.time))
