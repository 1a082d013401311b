"""Link aggregation (IEEE 802.1AX LACP) for the lab's interconnect links."""
