"""`mapslab peering`, `asn register|deregister`, `prefix activate|deactivate`: the portal's
records of a running lab, through the same functions as the web portal (emulator.portal)."""
from __future__ import annotations

import argparse

from emulator.cli.common import format_arg, lab_arg, lab_of, print_json


def _views():
    """The portal's views (they load the topology and plan machinery: imported when used)."""
    from emulator.cli import portal_views
    return portal_views


def peering_json(state, found, held) -> dict:
    return {
        "peering": state.peering.model_dump(mode="json"),
        "held_at": held.value if held else None,
        "connections": [{"name": c.name, "connection_state": c.state.value, "detail": c.detail,
                         "sessions": [{"name": s.name, "lag": s.lag,
                                       "established": s.established} for s in c.sessions]}
                        for c in found],
        "registered_asns": [{"name": r.name, "asn": r.asn,
                             "peering_service_prefix_key": r.peering_service_prefix_key}
                            for r in state.registrations],
        "activated_prefixes": [{"prefix": p.prefix, "origin_asn": p.origin_asn,
                                "prefix_validation_state": p.prefix_validation_state,
                                "learned_type": p.learned_type} for p in state.prefixes],
    }


def cmd_peering(args: argparse.Namespace) -> int:
    from emulator.core import hold
    from emulator.portal import provisioning
    labdir, plan = _views().attach(lab_of(args.lab))
    state, found = provisioning.status(labdir, plan)
    held = hold.read(labdir.path).step
    if args.format == "json":
        print_json(peering_json(state, found, held))
        return 0
    print(_views().render_status(state, found), end="")
    if held is not None:
        print(f"turn-up held at {held} (`mapslab continue {labdir.lab}` takes the next step)")
    return 0


def cmd_asn_register(args: argparse.Namespace) -> int:
    from emulator.portal import registration
    labdir, plan = _views().attach(lab_of(args.lab))
    registered = registration.register_asn(labdir, plan, args.name, args.asn)
    registration.wait_edges_judged(labdir, plan)
    if args.format == "json":
        print_json({"name": registered.name, "asn": registered.asn,
                    "peering_service_prefix_key": registered.peering_service_prefix_key,
                    "registered": registered.registered})
        return 0
    print(f"registered AS{registered.asn} as {registered.name}; peering service prefix key: "
          f"{registered.peering_service_prefix_key}")
    return 0


def cmd_asn_deregister(args: argparse.Namespace) -> int:
    from emulator.portal import registration, undo
    labdir, plan = _views().attach(lab_of(args.lab))
    removed = undo.deregister_asn(labdir, plan, args.name)
    registration.wait_edges_judged(labdir, plan)
    print(f"deregistered {removed.name} (AS{removed.asn}); the edges judged its routes again")
    return 0


def cmd_prefix_activate(args: argparse.Namespace) -> int:
    from emulator.portal import registration
    labdir, plan = _views().attach(lab_of(args.lab))
    activated = registration.activate_prefix(labdir, plan, args.prefix, args.key)
    registration.wait_edges_judged(labdir, plan)
    print(f"activated {activated.prefix} (origin AS{activated.origin_asn}): "
          f"{activated.prefix_validation_state}")
    return 0


def cmd_prefix_deactivate(args: argparse.Namespace) -> int:
    from emulator.portal import registration, undo
    labdir, plan = _views().attach(lab_of(args.lab))
    removed = undo.deactivate_prefix(labdir, plan, args.prefix)
    registration.wait_edges_judged(labdir, plan)
    print(f"deactivated {removed.prefix} (origin AS{removed.origin_asn}); the edges judged it "
          f"again")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("peering", help="connection states, registered ASNs, activated prefixes")
    lab_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_peering)
    p = sub.add_parser("asn", help="registered ASNs of the peering")
    asn = p.add_subparsers(dest="asn_command", required=True)
    p = asn.add_parser("register", help="register an origin ASN (needs every connection Active)")
    lab_arg(p)
    p.add_argument("name")
    p.add_argument("asn", type=int)
    format_arg(p)
    p.set_defaults(func=cmd_asn_register)
    p = asn.add_parser("deregister", help="delete a registered ASN by its name")
    lab_arg(p)
    p.add_argument("name")
    p.set_defaults(func=cmd_asn_deregister)
    p = sub.add_parser("prefix", help="peering service prefixes")
    prefix = p.add_subparsers(dest="prefix_command", required=True)
    p = prefix.add_parser("activate", help="activate a prefix with its origin's prefix key")
    lab_arg(p)
    p.add_argument("prefix")
    p.add_argument("--key", required=True, help="the peering service prefix key")
    p.set_defaults(func=cmd_prefix_activate)
    p = prefix.add_parser("deactivate", help="deactivate an activated prefix")
    lab_arg(p)
    p.add_argument("prefix")
    p.set_defaults(func=cmd_prefix_deactivate)
