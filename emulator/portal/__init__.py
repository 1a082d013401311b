"""The portal: the page's turn-up screens as a local state machine that drives the lab.

  state         connection states (Azure's ConnectionState), derived from the lab's timeline
  store         peering.json (Azure's records; the file the edge agents read) and the lock
  review        Review + create: emulator.topology.validate's findings in the portal's words
  provisioning  each connection's milestones announced as the lab reaches them, until Active
  registration  registered ASNs, prefix keys, activated prefixes; the wait for the edges' verdicts
  turnup        create, ports configured, turn_up: the steps `mapslab up` drives
  notify        the automated emails, one per milestone
"""
