"""Routing daemons of the lab: their configs (pure renderers) and how they are started."""
