"""Runtimes execute a lab plan: network namespaces here, containerlab elsewhere."""
