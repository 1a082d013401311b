"""The lab view's topology: the plan drawn as SVG, by zone and role.

Three zones, left to right: the exchange (members, route server, the exchange LAN), the peer
(its routers), Microsoft (AS8075 edge routers, and the internet they announce onwards). Each
interconnect LAG is a line from a peer router to an edge with a dot per member; its two BGP
sessions (IPv4, IPv6) run beside it. Elements carry ids the page's script colours from the live
state: `lag-NAME`, `member-NAME-N` (LACP per member), `session-NAME` (BGP state).
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from emulator.plan.model import Plan, Role

WIDTH = 980
ROW = 92
TOP = 64
# Column of each role (x of the node's centre).
COLUMNS = {Role.MEMBER: 90, Role.ROUTE_SERVER: 90, Role.SWITCH: 250, Role.PEER_ROUTER: 430,
           Role.EDGE: 720, Role.INTERNET: 900}
ZONES = (("exchange", "Exchange (route server, members)", 10, 330),
         ("peer", "Peer", 340, 530), ("microsoft", "Microsoft AS8075", 560, 970))


@dataclass(frozen=True)
class Box:
    name: str
    role: Role
    x: float
    y: float
    label: str


def _layout(plan: Plan) -> dict[str, Box]:
    rows: dict[Role, int] = {}
    boxes: dict[str, Box] = {}
    left = [n for n in plan.nodes if n.role in (Role.ROUTE_SERVER, Role.MEMBER)]
    for node in [*left, *[n for n in plan.nodes if n.role not in (Role.ROUTE_SERVER,
                                                                  Role.MEMBER)]]:
        column = Role.MEMBER if node.role is Role.ROUTE_SERVER else node.role
        index = rows.get(column, 0)
        rows[column] = index + 1
        label = node.software if node.asn is None else f"AS{node.asn} {node.software}"
        boxes[node.name] = Box(node.name, node.role, COLUMNS[node.role], TOP + index * ROW,
                               label)
    switch = plan.lan_switch
    if switch in boxes:                      # the LAN in the middle of what it connects
        ys = [b.y for b in boxes.values() if b.role in (Role.PEER_ROUTER, Role.MEMBER,
                                                        Role.ROUTE_SERVER)]
        boxes[switch] = Box(switch, Role.SWITCH, COLUMNS[Role.SWITCH],
                            (min(ys) + max(ys)) / 2 if ys else TOP, "exchange LAN")
    internet = [b for b in boxes.values() if b.role is Role.INTERNET]
    edges = [b.y for b in boxes.values() if b.role is Role.EDGE]
    for box in internet:
        boxes[box.name] = Box(box.name, box.role, box.x, (min(edges) + max(edges)) / 2
                              if edges else box.y, box.label)
    return boxes


def _node(box: Box) -> str:
    return (f'<g class="node role-{box.role.value}" id="node-{escape(box.name)}">'
            f'<rect x="{box.x - 62}" y="{box.y - 20}" width="124" height="40" rx="6"/>'
            f'<text x="{box.x}" y="{box.y - 3}" class="name">{escape(box.name)}</text>'
            f'<text x="{box.x}" y="{box.y + 13}" class="sub">{escape(box.label)}</text></g>')


def svg(plan: Plan) -> str:
    boxes = _layout(plan)
    height = max(b.y for b in boxes.values()) + 60 if boxes else 200
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
           f'class="topology" role="img" aria-label="topology of lab {escape(plan.lab)}">']
    for zone, title, x0, x1 in ZONES:
        out.append(f'<g class="zone zone-{zone}"><rect x="{x0}" y="8" width="{x1 - x0}" '
                   f'height="{height - 16}" rx="10"/><text x="{x0 + 10}" y="28">'
                   f'{escape(title)}</text></g>')
    switch = boxes.get(plan.lan_switch)
    for port in plan.lan_ports:
        end = boxes.get(port.node)
        if switch and end:
            out.append(f'<line class="lan" x1="{end.x}" y1="{end.y}" x2="{switch.x}" '
                       f'y2="{switch.y}"/>')
    for link in plan.links:
        a, b = boxes.get(link.a_node), boxes.get(link.b_node)
        if a and b:
            out.append(f'<line class="link" x1="{a.x}" y1="{a.y}" x2="{b.x}" y2="{b.y}"/>')
    for lag in plan.lags:
        a, b = boxes[lag.a_node], boxes[lag.b_node]
        name = escape(lag.name)
        out.append(f'<g class="lag unknown" id="lag-{name}"><line x1="{a.x + 62}" y1="{a.y}" '
                   f'x2="{b.x - 62}" y2="{b.y}"/><text x="{(a.x + b.x) / 2}" '
                   f'y="{(a.y + b.y) / 2 - 8}">LAG {name}</text></g>')
        for k, _ in enumerate(lag.members):
            t = (k + 1) / (len(lag.members) + 1)
            x, y = a.x + 62 + (b.x - a.x - 124) * t, a.y + (b.y - a.y) * t
            out.append(f'<circle class="member unknown" id="member-{name}-{k + 1}" cx="{x:.1f}" '
                       f'cy="{y + 10:.1f}" r="6"><title>member {k + 1}</title></circle>')
        sessions = [s for s in plan.sessions if s.lag == lag.name]
        for k, session in enumerate(sessions):
            offset = 22 + 8 * k
            out.append(f'<line class="session unknown" id="session-{escape(session.name)}" '
                       f'x1="{a.x + 62}" y1="{a.y + offset}" x2="{b.x - 62}" '
                       f'y2="{b.y + offset}"><title>BGP {escape(session.name)} '
                       f'({session.family})</title></line>')
    out += [_node(box) for box in boxes.values()]
    out.append("</svg>")
    return "".join(out)
