"""Provisioning: each connection's milestones announced as the lab reaches them, until Active.

The page's order per connection: ports configured → session addresses allocated and announced →
LAG up → BGP configured → Established → Active (emulator.portal.state derives them from the
timeline). Each milestone is one email, sent once, in the order it was reached.
"""
from __future__ import annotations

from emulator.core import wait
from emulator.core.labdir import LabDir
from emulator.observe.timeline import Timeline
from emulator.plan.model import Plan
from emulator.portal import notify, store
from emulator.portal.state import CONNECTION_STEPS, ConnectionProgress, progress
from emulator.portal.store import ConnectionRecord, Note, PeeringState


def sync(labdir: LabDir, plan: Plan) -> tuple[ConnectionProgress, ...]:
    """Announce every provisioning milestone reached since the last call; return the progress."""
    with store.locked(labdir):
        state = store.require(labdir)
        found = progress(Timeline.read(labdir), plan)
        new = sorted(((at, CONNECTION_STEPS.index(step), index, step, conn)
                      for index, conn in enumerate(found) for step, at in conn.reached
                      if not state.announced(step, conn.name)), key=lambda n: n[:3])
        notes = [Note(step, conn.name, at,
                      notify.connection_step(plan, state.peering.name, conn.name, step))
                 for at, _, _, step, conn in new]
        updated = store.announce(labdir, state, notes).model_copy(update={
            "connections": tuple(ConnectionRecord(name=c.name, connection_state=c.state,
                                                  detail=c.detail) for c in found)})
        if updated != state:
            store.write(labdir, updated)
    return found


def provision(labdir: LabDir, plan: Plan, seconds: float | None = None
              ) -> tuple[ConnectionProgress, ...]:
    """Wait until every connection's provisioning finished (Active or failed), announcing each
    milestone on the way."""
    return wait.until("ebgp_session", lambda: sync(labdir, plan),
                      lambda found: "\n".join(c.describe() for c in found if not c.finished),
                      seconds)


def status(labdir: LabDir, plan: Plan) -> tuple[PeeringState, tuple[ConnectionProgress, ...]]:
    """The peering's records and its connections' live state (reads only)."""
    return store.require(labdir), progress(Timeline.read(labdir), plan)
