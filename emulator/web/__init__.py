"""The local web portal: the page's turn-up screens and the lab view (`mapslab portal`).

  app            the ASGI application: routes, assets, error pages, the one Portal of a run
  auth           the start token exchanged for a session cookie; CSRF on every change
  draft          the Create wizard's draft (a parse edge): forms → topology file → the CLI's checks
  labs           the labs in the run directory, attached as the CLI attaches them
  jobs           deploy, recover, remove: background threads with live progress
  stream         server-sent events of the pages' live state
  drawing        the lab's topology as SVG, by zone and role
  errors         the CLI's error tree as clear pages (never a traceback)
  views_create   Create (Basics, Configuration, the connection dialog, Review + create), Open
  views_peering  Peerings, a peering and its connections, Registered ASNs, prefixes, emails
  views_lab      the lab view: topology, timeline, checks, verdicts, faults, recovery, report
  server         listen and serve (uvicorn)
"""
