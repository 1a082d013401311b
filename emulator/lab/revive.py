"""Restart the router programs of a running lab that died (killed, crashed), the way `up`
started them, and wait until each runs again.

A node whose program stopped is restarted whole: its programs that still run are stopped
first (FRR's zebra without its bgpd, OpenBGPD's FIB loop without bgpd), so that the node kind's
own start-up finds the state it expects. A Microsoft edge's ExaBGP is started again with its
sessions to the internet; each link it had is configured again through the edge automation
(which waits for the LAG before it configures BGP).

The processes that speak LACP for a router (Open vSwitch's ovsdb-server and ovs-vswitchd) are
restarted first, the same way: what is left of them stopped, the node's bundles built again.
BGP on its links is taken out of the edges' speakers before and given back by the edge
automation after, once each LAG is up again: BGP never comes back ahead of LACP.
"""
from __future__ import annotations

import os
import signal

from emulator.core import wait
from emulator.nodes import daemon, edge_bgp, liveness, registry
from emulator.observe import observers as observe
from emulator.plan.model import Role
from emulator.lab.automation import edge_automation, edge_unconfigures_bgp
from emulator.lab.lifecycle import Lab


def _stop(programs: list[liveness.Program]) -> None:
    """SIGKILL what still runs of a node (pids from the lab's own pid files), and wait."""
    running = [p for p in programs if p.running and p.pid]
    for program in running:
        try:
            os.kill(program.pid, signal.SIGKILL)
        except OSError:
            pass
    wait.until("process_exit", lambda: [p for p in running if daemon.alive(p.pid)],
               lambda left: "\n".join(f"{p.node}: {p.name} (pid {p.pid}) still running"
                                      for p in left))


def _restart_edge(lab: Lab, node: str) -> None:
    """The edge's ExaBGP again, with its internet sessions; then every link it had configured,
    through the edge automation (which waits for the link's LAG before it configures BGP)."""
    spec, d = lab.plan.node(node), lab.node_dir(node)
    configured = set(edge_bgp.SpeakerState.read(d).links)
    edge_bgp.start(lab.runtime, lab.plan, spec, d, lab.dir.events_file)
    for lag in lab.plan.lags_of(node):
        if lag.name in configured:
            edge_automation(lab, lag)


def _restart_lacp(lab: Lab, node: str) -> None:
    """The node's LACP processes again (the LAG driver's), every link of it out of the edges'
    BGP while its LAG is rebuilt and back through the edge automation once the LAG is up."""
    own = list(lab.plan.lags_of(node))
    for lag in own:
        edge_unconfigures_bgp(lab, lag)
    _stop(observe.lacp_programs(lab.plan, node, lab.driver, lab.host))
    lab.driver.restart(lab.plan.node(node), own)
    for lag in own:
        edge_automation(lab, lag)


def restart_stopped(lab: Lab) -> list[liveness.Program]:
    """Start again every program that was started and is gone (the LACP speakers first, then
    the routers' own); wait (the daemon_socket budget) until none is missing. Returns what was
    restarted."""
    plan = lab.plan
    stopped = observe.stopped_programs(plan, lab.node_dir, lab.host, lab.driver)
    lacp = [p for p in stopped if p.what == observe.LACP]
    for node in dict.fromkeys(p.node for p in lacp):
        _restart_lacp(lab, node)
    # The edge automation starts a stopped ExaBGP again itself: read what is still missing.
    programs = observe.stopped_programs(plan, lab.node_dir, lab.host) if lacp else stopped
    for node in dict.fromkeys(p.node for p in programs):
        spec = plan.node(node)
        if spec.role is Role.EDGE:
            _restart_edge(lab, node)
            continue
        d = lab.node_dir(node)
        _stop(liveness.programs(lab.host, plan, node, d))
        registry.kind_of(spec).start(lab.runtime, plan, spec, d)
    if stopped:
        wait.until("daemon_socket", lambda: observe.stopped_programs(plan, lab.node_dir, lab.host,
                                                                    lab.driver),
                   lambda still: "\n".join(f"{p.describe()} after its restart" for p in still))
    return stopped
