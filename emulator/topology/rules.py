"""The catalogue of the MAPS page's rules, as `mapslab validate` checks them on a topology.

Each rule has a stable id (never reused, never renamed), a severity, the page's own wording
(docs/reference/maps-exchange-route-server-walkthrough.md:
"Internet peering for MAPS Exchange with Route Server partner walkthrough")
and the general fix. A rule that can be either an error or a warning (a private ASN, a
documentation ASN) is two entries. docs/validation.md lists the same catalogue for users.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"        # the lab refuses to come up; a real peering would be refused or broken
    WARNING = "warning"    # accepted: a lab stand-in, or a recommendation of the page


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    section: str           # where the page says it
    wording: str           # the page's words, verbatim
    fix: str               # the general fix; a finding may say something more precise

    def __str__(self) -> str:
        return self.id


REQ = "Technical Requirements"
CREATE = "Establish Direct Interconnect, 2. Create a MAPS Exchange with Route Server peering"
FAQ = "Frequently asked questions"

_ASN = "The Peer MUST provide its own Autonomous System Number (ASN), which MUST be public."
_IPV4 = ("The Peer MUST supply and advertise their own publicly routable IPv4 address space used "
         "by Peer's endpoints (for example, SBC).")
_PRIVATE_PATH = "Yes, a private ASN can't be in the AS path."
_CONFIG = ("In the Configuration form, you MUST choose: Direct as the Peering type; "
           "AS8075 (with exchange route server) as the Microsoft network; Premium Free as the SKU.")
_CONNECTION = ("Peering connections for MAPS Exchange with Route Server MUST have Peer as the "
               "Session Address Provider, and Use for Peering Service enabled.")
_MAX_PREFIX = ("Microsoft announces roughly 280 prefixes on internet, and it may increase by "
               "10-15% in future. So, a safe limit of 400-500 can be good to set as \u201cMax prefix "
               "count\u201d")

ASN_PUBLIC = Rule(
    "MAPS-ASN-PUBLIC", Severity.ERROR, "Peer ASN is public", REQ, _ASN,
    "set peering.peer-asn to the public ASN your RIR assigned to you and that you associated "
    "with your Azure subscription")
ASN_OWN = Rule(
    "MAPS-ASN-OWN", Severity.ERROR, "Peer ASN is the peer's own, not Microsoft's", REQ, _ASN,
    "set peering.peer-asn to your own ASN; AS8075 is Microsoft's side of the interconnect")
ASN_DOCUMENTATION = Rule(
    "MAPS-ASN-DOCUMENTATION", Severity.WARNING, "Documentation ASN as a lab stand-in", REQ, _ASN,
    "accepted in a lab as a stand-in for a public ASN; a real peering needs the public ASN")
ORIGIN_ASN_PUBLIC = Rule(
    "MAPS-ORIGIN-ASN-PUBLIC", Severity.ERROR, "Every member's origin ASN is public", FAQ,
    _PRIVATE_PATH,
    "give the member its public ASN; a network on a private ASN must reach the exchange "
    "through a member with a public one")
ORIGIN_ASN_DOCUMENTATION = Rule(
    "MAPS-ORIGIN-ASN-DOCUMENTATION", Severity.WARNING, "Documentation ASN of a member as a lab "
    "stand-in", FAQ, _PRIVATE_PATH,
    "accepted in a lab as a stand-in for the member's public ASN")
ORIGIN_REGISTERED = Rule(
    "MAPS-ORIGIN-REGISTERED", Severity.ERROR, "Every origin ASN is registered", REQ,
    "All origin ASNs are registered in Azure portal.",
    "add the ASN under registered-asns (portal: Registered ASNs, once the connections are Active)")
PREFIX_PUBLIC = Rule(
    "MAPS-PREFIX-PUBLIC", Severity.ERROR, "Advertised prefixes are publicly routable", REQ,
    _IPV4,
    "advertise the public address space that holds the endpoints; private, shared, loopback, "
    "link-local, multicast, benchmarking and reserved ranges are never routed on the internet")
PREFIX_DOCUMENTATION = Rule(
    "MAPS-PREFIX-DOCUMENTATION", Severity.WARNING, "Documentation prefix as a lab stand-in", REQ,
    _IPV4,
    "accepted in a lab as a stand-in for public space; a real peering needs public prefixes")
PREFIX_IPV4 = Rule(
    "MAPS-PREFIX-IPV4", Severity.ERROR, "IPv4 address space is advertised", REQ, _IPV4,
    "add the IPv4 prefixes of the endpoints under peering.prefixes or a member's prefixes")
PREFIX_DESCRIBED = Rule(
    "MAPS-PREFIX-DESCRIBED", Severity.ERROR, "Each prefix names its traffic class and endpoints",
    REQ,
    "The Peer MUST supply detail of what class of traffic and endpoints are housed in each "
    "advertised subnet.",
    "give the prefix a traffic-class (for example voice) and endpoints (for example sbc)")
LOCAL_REDUNDANCY = Rule(
    "MAPS-LOCAL-REDUNDANCY", Severity.ERROR, "Redundant interconnect at every location", REQ,
    "The Peer MUST have redundant Interconnect (PNI) at each interconnect location to ensure "
    "local redundancy.",
    "give the connection two links, on two different peer routers of its location")
TWO_LINK_MESH = Rule(
    "MAPS-TWO-LINK-MESH", Severity.ERROR, "A connection is a two-link mesh", CREATE,
    "A two-link BGP mesh is formed for a MAPS Exchange with Route Server peering even if a single "
    "connection is configured. Do NOT create a second connection if a two-link mesh is what's "
    "desired.",
    "keep exactly two links per connection; more capacity goes into each link's LAG members")
ROUTER_DIVERSITY = Rule(
    "MAPS-ROUTER-DIVERSITY", Severity.ERROR, "Links of a location on different peer routers", REQ,
    "The Peer CANNOT have two local connections configured on the same router, as diversity is "
    "required",
    "terminate each link of a location on its own peer router")
BACKUP_LOCATION = Rule(
    "MAPS-BACKUP-LOCATION", Severity.ERROR, "A backup is at another location than its primary",
    REQ,
    "The Peer CANNOT configure a local redundant connection as a backup connection. Backup "
    "connections must be in a different location than primary connections.",
    "place the backup connection at a location other than its primary's, and give it "
    "role: backup with backup-of naming the primary")
SAME_BANDWIDTH = Rule(
    "MAPS-SAME-BANDWIDTH", Severity.ERROR, "Primary, backup and redundant have one bandwidth", REQ,
    "Primary, backup, and redundant sessions all must have the same bandwidth",
    "give every connection the same bandwidth-gbps, carried by its LAG "
    "(members × member-speed-gbps)")
LINK_SPEED = Rule(
    "MAPS-LINK-SPEED", Severity.ERROR, "Link speed of at least 10 Gbps", FAQ,
    "What is the minimum link speed for an interconnect? 10 Gbps.",
    "use LAG members of 10 Gbps or more (lag.member-speed-gbps)")
NO_STATEFUL_FIREWALL = Rule(
    "MAPS-NO-STATEFUL-FIREWALL", Severity.ERROR, "No stateful firewall on the peering device", REQ,
    "The Peer MUST NOT terminate peering on a device running a stateful firewall.",
    "terminate peering on a router without connection tracking (set stateful-firewall: false)")
NO_RATE_LIMIT = Rule(
    "MAPS-NO-RATE-LIMIT", Severity.ERROR, "No rate limiting on the connection", REQ,
    "The Peer CANNOT apply rate limiting to their connection",
    "remove policers and shapers from the interconnect interfaces (set rate-limit: false)")
LACP = Rule(
    "MAPS-LACP", Severity.ERROR, "LACP on every peer router", REQ,
    "Microsoft configures all the interconnect links as LAG (link bundles) by default, so, peer "
    "MUST support LACP (Link Aggregation Control Protocol) on the interconnect links.",
    "set lacp: active (or passive; Microsoft's side is active)")
PORTAL_KIND = Rule(
    "MAPS-PORTAL-KIND", Severity.ERROR, "Peering type Direct", CREATE, _CONFIG,
    "set peering.kind: Direct")
PORTAL_NETWORK = Rule(
    "MAPS-PORTAL-NETWORK", Severity.ERROR, "Microsoft network AS8075 with exchange route server",
    CREATE, _CONFIG,
    "set peering.microsoft-network: AS8075 (with exchange route server)")
PORTAL_SKU = Rule(
    "MAPS-PORTAL-SKU", Severity.ERROR, "SKU Premium Free", CREATE, _CONFIG,
    "set peering.sku: Premium Free")
PORTAL_CONNECTION = Rule(
    "MAPS-PORTAL-CONNECTION", Severity.ERROR, "At least one connection", CREATE,
    "Before finalizing your Peering, make sure the peering has at least one connection.",
    "add a connection under connections")
PORTAL_SESSION_ADDRESS = Rule(
    "MAPS-PORTAL-SESSION-ADDRESS", Severity.ERROR, "Session Address Provider Peer", CREATE,
    _CONNECTION, "set session-address-provider: Peer")
PORTAL_PEERING_SERVICE = Rule(
    "MAPS-PORTAL-PEERING-SERVICE", Severity.ERROR, "Use for Peering Service enabled", CREATE,
    _CONNECTION, "set use-for-peering-service: true")
IMMUTABLE = Rule(
    "MAPS-IMMUTABLE", Severity.ERROR, "Subscription, resource group, name and ASN never change",
    CREATE,
    "Enter the subscription, resource group, name, and ASN of the peering. These details CANNOT "
    "be changed after the peering is created.",
    "restore the old value; to change it, delete the peering and create a new one")
AS_PATH_PRIVATE = Rule(
    "MAPS-AS-PATH-PRIVATE", Severity.ERROR, "No private ASN in the AS path", FAQ, _PRIVATE_PATH,
    "remove private and reserved ASNs from as-path-prepend (strip them before announcing)")
AS_PATH_LENGTH = Rule(
    "MAPS-AS-PATH-LENGTH", Severity.ERROR, "Activated prefixes longer than /24: AS path under four",
    FAQ,
    "For activated prefixes smaller than /24, the AS path must be less than four.",
    "shorten as-path-prepend so that the path at Microsoft holds at most three ASNs")
LONG_PREFIX_ACTIVATED = Rule(
    "MAPS-LONG-PREFIX-ACTIVATED", Severity.WARNING, "Prefixes longer than /24 are activated", FAQ,
    "Yes, Microsoft Azure Peering service supports smaller prefix routing also. Ensure that "
    "you're activating the smaller prefixes for routing and the same are announced over the "
    "interconnects.",
    "set activated: true once the prefix is activated with the peering service prefix key; "
    "until then Microsoft rejects it")
MAX_PREFIX_HEADROOM = Rule(
    "MAPS-MAX-PREFIX-HEADROOM", Severity.ERROR, "Max-prefix towards Microsoft leaves headroom",
    FAQ, _MAX_PREFIX, "set max-prefix between 400 and 500")
MAX_PREFIX_SET = Rule(
    "MAPS-MAX-PREFIX-SET", Severity.WARNING, "Max-prefix towards Microsoft is set", FAQ,
    _MAX_PREFIX, "set max-prefix: 500 on the peer router")
GEO_REDUNDANCY = Rule(
    "MAPS-GEO-REDUNDANCY", Severity.WARNING, "Connections in more than one location", REQ,
    "It is recommended to create MAPS peerings in multiple locations so geo-redundancy can be "
    "achieved.",
    "add a connection at a second location")

RULES: tuple[Rule, ...] = (
    ASN_PUBLIC, ASN_OWN, ASN_DOCUMENTATION, ORIGIN_ASN_PUBLIC, ORIGIN_ASN_DOCUMENTATION,
    ORIGIN_REGISTERED,
    PREFIX_PUBLIC, PREFIX_DOCUMENTATION, PREFIX_IPV4, PREFIX_DESCRIBED,
    LOCAL_REDUNDANCY, TWO_LINK_MESH, ROUTER_DIVERSITY, BACKUP_LOCATION, SAME_BANDWIDTH, LINK_SPEED,
    NO_STATEFUL_FIREWALL, NO_RATE_LIMIT, LACP,
    PORTAL_KIND, PORTAL_NETWORK, PORTAL_SKU, PORTAL_CONNECTION, PORTAL_SESSION_ADDRESS,
    PORTAL_PEERING_SERVICE, IMMUTABLE,
    AS_PATH_PRIVATE, AS_PATH_LENGTH, LONG_PREFIX_ACTIVATED,
    MAX_PREFIX_HEADROOM, MAX_PREFIX_SET, GEO_REDUNDANCY,
)



def by_id(rule_id: str) -> Rule:
    """The catalogue entry of a rule id; KeyError for an unknown id."""
    for rule in RULES:
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)

