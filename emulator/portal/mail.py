"""One automated email read in full, by its place in the sequence (`mapslab events --show N`)."""
from __future__ import annotations

import email.policy
import mailbox
from email import message_from_binary_file

from emulator.core.errors import UsageError
from emulator.core.labdir import LabDir
from emulator.portal import store
from emulator.portal.notify import Delivered


def read(labdir: LabDir, sequence: int) -> tuple[Delivered, str]:
    """The message with this sequence number and its whole text (headers, blank line, body)."""
    found = store.events(labdir)
    chosen = next((d for d in found if d.sequence == sequence), None)
    if chosen is None:
        raise UsageError(f"--show {sequence}: lab {labdir.lab!r} has no email number {sequence} "
                         f"(its emails are numbered 1 to {len(found)})" if found else
                         f"--show {sequence}: lab {labdir.lab!r} has sent no email yet")
    box = mailbox.Maildir(store.maildir(labdir), create=False, factory=lambda f:
                          message_from_binary_file(f, policy=email.policy.default))
    message = box[chosen.key]
    return chosen, message.as_string()


def body(text: str) -> str:
    """The body of a whole message's text."""
    return text.split("\n\n", 1)[1] if "\n\n" in text else ""
