"""The portal's "automated emails": what each milestone says, as RFC 5322 messages in a maildir.

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
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from email import message_from_binary_file
from email.message import EmailMessage
from enum import Enum
from pathlib import Path

from emulator.topology.intent import Topology
from emulator.core.page import MICROSOFT_ASN
from emulator.plan.model import Plan

# RFC 2606 2: ".example" is reserved, so no message of the lab can ever reach a real mailbox.
DOMAIN = "example"
SEQUENCE = "X-Mapslab-Sequence"
MILESTONE = "X-Mapslab-Milestone"
LAB = "X-Mapslab-Lab"


class Milestone(str, Enum):
    """What an automated email announces, in turn-up order."""

    PEERING_CREATED = "peering-created"
    PORTS_CONFIGURED = "ports-configured"
    SESSION_ADDRESSES = "session-addresses"
    LAG_UP = "lag-up"
    BGP_CONFIGURED = "bgp-configured"
    SESSIONS_ESTABLISHED = "sessions-established"
    CONNECTION_ACTIVE = "connection-active"
    ASN_REGISTERED = "asn-registered"
    PREFIX_ACTIVATED = "prefix-activated"
    # what the portal lets a user undo
    ASN_DEREGISTERED = "asn-deregistered"
    PREFIX_DEACTIVATED = "prefix-deactivated"


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


@dataclass(frozen=True)
class Notification:
    """One milestone's message before it is addressed."""

    sequence: int
    time: float
    milestone: Milestone
    text: Text


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


# ---- what each milestone says ----

def peering_created(topo: Topology, direct_peering_type: str, sku_name: str,
                    problems: list[str] | None = None) -> Text:
    peering = topo.peering
    refused = ("\nThe portal's Review + create would have refused this peering (deployed anyway "
               "to rehearse it):\n" + "\n".join(f"  {p}" for p in problems) + "\n"
               if problems else "")
    connections = "\n".join(
        f"  {c.name} at {c.location} ({c.role}, {c.bandwidth_gbps} Gbps, {len(c.links)} links): "
        f"Session Address Provider {c.session_address_provider}, Use for Peering Service enabled"
        for c in topo.connections)
    return Text(
        f"[{peering.name}] Peering created; provisioning begins",
        f"Your peering {peering.name} was created and deployed; provisioning begins.\n\n"
        f"  subscription    {peering.subscription}\n"
        f"  resource group  {peering.resource_group}\n"
        f"  peer ASN        AS{peering.peer_asn}\n"
        f"  peering type    {peering.kind}, {peering.microsoft_network} "
        f"(directPeeringType {direct_peering_type})\n"
        f"  SKU             {peering.sku} ({sku_name})\n\n"
        f"Connections:\n{connections}\n\n"
        f"Subscription, resource group, name and ASN cannot be changed any more.\n"
        f"A message follows at each milestone of each connection.\n{refused}")


def connection_step(plan: Plan, peering: str, connection: str, step: Milestone) -> Text:
    lags = [lag for lag in plan.lags if lag.connection == connection]
    sessions = [s for s in plan.sessions if s.lag in {lag.name for lag in lags}]
    tag = f"[{peering}] Connection {connection}"
    links = [f"link {lag.name}: your {lag.a_node} <-> Microsoft {lag.b_node} ({lag.ifname})"
             for lag in lags]
    if step is Milestone.PORTS_CONFIGURED:
        return Text(f"{tag}: ports configured", (
            "Microsoft configured its ports for this connection:\n" + "\n".join(
                f"  {link}, {len(lag.members)} x {lag.members[0].speed_gbps} Gbps in a LAG, "
                f"LACP {lag.lacp_rate} rate" for link, lag in zip(links, lags))
            + "\n\nEvery interconnect link is a LAG: run LACP on your members.\n"))
    if step is Milestone.SESSION_ADDRESSES:
        # The page's FAQ: addresses are allocated and sent "after the port is configured".
        return Text(f"{tag}: session addresses", (
            "Session addresses (Session Address Provider: Peer):\n" + "\n".join(
                f"  {link}\n    IPv4  peer {lag.a_ipv4}  Microsoft {lag.b_ipv4}\n"
                f"    IPv6  peer {lag.a_ipv6}  Microsoft {lag.b_ipv6}"
                for link, lag in zip(links, lags))
            + f"\n\nBGP: Microsoft AS{MICROSOFT_ASN}, you AS{plan.peer_asn}, one session per "
              f"address family on each link. Microsoft configures BGP once the LAG is up; "
              f"configure BGP on your routers.\n"))
    if step is Milestone.LAG_UP:
        return Text(f"{tag}: LAG up on every link", (
            "LACP is collecting and distributing on every link:\n"
            + "\n".join(f"  {link}" for link in links)
            + "\n\nMicrosoft's automation configures BGP next.\n"))
    if step is Milestone.BGP_CONFIGURED:
        # The page's FAQ: "After the LAG comes up, our automated process configures BGP."
        return Text(f"{tag}: BGP configured by Microsoft", (
            "Microsoft configured BGP on every link:\n" + "\n".join(
                f"  {s.name}: Microsoft {s.b_address} AS{s.b_asn} -> you {s.a_address} "
                f"AS{s.a_asn}" for s in sessions)
            + "\n\nThe sessions come up once BGP is configured on your side.\n"))
    if step is Milestone.SESSIONS_ESTABLISHED:
        return Text(f"{tag}: BGP sessions Established", (
            "Every BGP session of this connection is Established:\n"
            + "\n".join(f"  {s.name} ({s.family}) {s.a_address} <-> {s.b_address}"
                        for s in sessions) + "\n"))
    if step is Milestone.CONNECTION_ACTIVE:
        return Text(f"{tag} is Active", (
            f"Connection State of {connection}: Active.\n\n"
            f"You can now register your ASNs (Registered ASNs); each registration issues a "
            f"unique peering service prefix key for the prefixes that ASN originates.\n"))
    raise ValueError(f"{step.value} is not a connection milestone")


def asn_registered(peering: str, name: str, asn: int, key: str) -> Text:
    return Text(
        f"[{peering}] Registered ASN {name} (AS{asn}): peering service prefix key",
        f"AS{asn} is registered for peering {peering} as {name}.\n\n"
        f"  peering service prefix key  {key}\n\n"
        f"This key must be used with ALL peering service prefixes originated by AS{asn}: give "
        f"it to the customers who activate them. A prefix of AS{asn} is optimized once it is "
        f"activated with this key, not before; a prefix longer than /24 is accepted only then, "
        f"with an AS path of fewer than four ASNs.\n")


def prefix_activated(peering: str, prefix: str, asn: int, announcer: str, registration: str,
                     validation_state: str, learned_type: str, longer_than_24: bool) -> Text:
    note = (" It is longer than /24: Microsoft accepts it only with an AS path of fewer than "
            "four ASNs." if longer_than_24 else "")
    return Text(
        f"[{peering}] Prefix {prefix} activated (AS{asn})",
        f"{prefix}, originated by AS{asn} ({announcer}, registered as {registration}), was "
        f"activated with its peering service prefix key.\n\n"
        f"  prefixValidationState  {validation_state}\n"
        f"  learnedType            {learned_type}\n\n"
        f"Microsoft's edge routers optimize it from now on.{note}\n")


# ---- addresses, messages, the maildir ----

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
    message["Subject"] = note.text.subject
    message["Date"] = email.utils.format_datetime(datetime.fromtimestamp(note.time, timezone.utc))
    message["Message-ID"] = email.utils.make_msgid(idstring=note.milestone.value,
                                                   domain=f"{_label(lab)}.mapslab.{DOMAIN}")
    message[SEQUENCE] = str(note.sequence)
    message[MILESTONE] = note.milestone.value
    message[LAB] = lab
    message.set_content(_wrapped(note.text.body))
    return message


def _wrapped(body: str) -> str:
    """Lines of at most 76 characters (RFC 5322 2.1.1 asks for 78), so the message stays 7bit
    and reads as plain text in the maildir file."""
    lines = []
    for line in body.splitlines():
        indent = line[:len(line) - len(line.lstrip())]
        lines += textwrap.wrap(line, 76, subsequent_indent=indent + "  " if indent else "",
                               break_long_words=False, break_on_hyphens=False) or [""]
    return "\n".join(lines) + "\n"


def deliver(maildir: Path, message: EmailMessage) -> str:
    """Put one message in `new/` of the maildir (created if needed); return its key."""
    return mailbox.Maildir(maildir, create=True).add(message)


def inbox(maildir: Path) -> list[Delivered]:
    """Every message of the maildir, in milestone order."""
    if not (maildir / "new").is_dir():
        return []
    box = mailbox.Maildir(maildir, create=False, factory=lambda f: message_from_binary_file(
        f, policy=email.policy.default))
    found = []
    for key, message in box.iteritems():
        date = email.utils.parsedate_to_datetime(str(message["Date"]))
        found.append(Delivered(int(message.get(SEQUENCE, "0")), date.timestamp(),
                               str(message.get(MILESTONE, "")), str(message["Subject"]),
                               str(message["From"]), str(message["To"]),
                               str(message["Message-ID"]), key))
    return sorted(found, key=lambda d: (d.sequence, d.time))
