"""The page's numbers and names, defined once.

Every constant here is quoted from the MAPS Exchange with Route Server walkthrough
(`docs/reference/maps-exchange-route-server-walkthrough.md`); the validator, the edge, the nodes
and the portal all read them here.
"""
from __future__ import annotations

# "AS8075 (with exchange route server) as the Microsoft network"
MICROSOFT_ASN = 8075
MICROSOFT_NETWORK = "AS8075 (with exchange route server)"
# "You MUST choose: Direct as the Peering type ... Premium Free as the SKU"
KIND = "Direct"
SKU = "Premium Free"
# "MUST have Peer as the Session Address Provider, and Use for Peering Service enabled"
SESSION_ADDRESS_PROVIDER = "Peer"

# FAQ: "For activated prefixes smaller than /24, the AS path must be less than four." The page's
# "smaller" means longer prefixes (smaller subnets, as its question "</24" says), IPv4 only.
LONGEST_IPV4_WITHOUT_ACTIVATION = 24
MAX_AS_PATH_FOR_LONG_PREFIX = 3

# FAQ: "Microsoft announces roughly 280 prefixes ... a safe limit of 400-500 can be good to set
# as 'Max prefix count'".
MICROSOFT_PREFIXES_ROUGHLY = 280
MAX_PREFIX_MINIMUM = 400
MAX_PREFIX_MAXIMUM = 500

# FAQ: "What is the minimum link speed for an interconnect? 10 Gbps."
MIN_LINK_SPEED_GBPS = 10
