// The lab view: LACP and BGP state on the drawing, the edge's verdicts, the timeline, faults.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("labview");
  const lab = root.dataset.lab;
  const api = "/api/labs/" + encodeURIComponent(lab);
  const targets = JSON.parse(document.getElementById("fault-targets").textContent);
  const esc = portal.esc;

  function mark(id, state, base) {
    const element = document.getElementById(id);
    if (element) element.setAttribute("class", base + " " + state);
  }
  function render(s) {
    document.getElementById("lag-driver").textContent = "LAGs through " + s.lagDriver + "; state read live (mapslab status).";
    Object.entries(s.lags).forEach(([name, lag]) => {
      mark("lag-" + name, lag.up ? "up" : "down", "lag");
      lag.members.forEach((m, i) => mark("member-" + name + "-" + (i + 1), m.up && m.edge_up ? "up" : "down", "member"));
    });
    s.sessions.forEach((x) => mark("session-" + x.session, x.established ? "up" : "down", "session"));
    document.querySelector("#sessions tbody").innerHTML = s.sessions.map((x) =>
      '<tr><td>' + esc(x.session) + "</td><td>" + esc(x.node) + "</td><td>" + esc(x.peer) + "</td><td>" + esc(x.address) +
      '</td><td class="bgp ' + (x.established ? "up" : "down") + '">' + esc(x.state) + "</td><td>" + esc(x.prefixes) + "</td></tr>").join("");
    const routes = [];
    s.edges.forEach((e) => e.routes.forEach((r) => routes.push(
      '<tr data-prefix="' + esc(r.prefix) + '" data-outcome="' + esc(r.outcome) + '"><td>' + esc(e.node) + "</td><td>" + esc(e.lag) +
      "</td><td>" + esc(r.prefix) + "</td><td>" + esc(r.asPath.join(" ")) + '</td><td class="verdict ' + esc(r.outcome) + '">' +
      esc(r.outcome) + "</td><td>" + esc(r.rule) + "</td><td>" + esc(r.reason) + "</td></tr>")));
    document.querySelector("#routes tbody").innerHTML = routes.join("") || '<tr><td colspan="7" class="empty">No route received yet.</td></tr>';
    document.querySelector("#timeline tbody").innerHTML = s.timeline.map((e) =>
      '<tr class="ev ev-' + esc(e.kind) + '"><td>' + e.at.toFixed(3) + "</td><td>" + esc(e.kind) + "</td><td>" + esc(e.text) + "</td></tr>").join("");
    document.getElementById("faults").textContent = s.faults.length ?
      s.faults.map((f) => f.scenario + " " + f.target + (f.member > 1 ? " member " + f.member : "")).join(", ") : "none";
    const stopped = document.getElementById("stopped");
    stopped.hidden = !s.stopped.length;
    stopped.innerHTML = s.stopped.length ? "<strong>Not running</strong> (Recover starts them again):<ul>" +
      s.stopped.map((p) => '<li data-node="' + esc(p.node) + '" data-program="' + esc(p.program) + '">' + esc(p.text) + "</li>").join("") + "</ul>" : "";
  }
  portal.live("/labs/" + encodeURIComponent(lab) + "/stream", render, (gone) => {
    portal.showGone(gone.error);
    // Nothing on the drawing is known any more.
    document.querySelectorAll("svg .lag, svg circle.member, svg line.session").forEach((element) =>
      element.setAttribute("class", element.getAttribute("class").replace(/\b(up|down)\b/, "unknown")));
  });

  const scenario = document.getElementById("fault-scenario");
  function fillTargets() {
    const kind = scenario.selectedOptions[0].dataset.kind;
    document.getElementById("fault-target").innerHTML = (targets[kind] || []).map((t) => "<option value=\"" + esc(t) + "\">" + esc(t) + "</option>").join("");
    document.getElementById("fault-member").disabled = kind !== "MEMBER";
  }
  scenario.addEventListener("change", fillTargets);
  fillTargets();
  const result = document.getElementById("fault-result");
  document.getElementById("fault-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const answer = await portal.api("POST", api + "/faults", {scenario: scenario.value,
      target: document.getElementById("fault-target").value, member: document.getElementById("fault-member").value});
    result.hidden = false;
    result.className = "notice " + (answer.ok ? "" : "bad");
    result.textContent = answer.ok ? "Injected " + answer.data.scenario + " on " + answer.data.target + "." : answer.data.error;
  });
  document.getElementById("recover").addEventListener("click", async () => {
    const log = document.getElementById("recover-log");
    const answer = await portal.api("POST", api + "/recover");
    if (!answer.ok) { result.hidden = false; result.className = "notice bad"; result.textContent = answer.data.error; return; }
    log.hidden = false;
    portal.live("/jobs/" + answer.data.job + "/stream", (job) => {
      log.textContent = job.lines.join("\n") + (job.error ? "\nfailed: " + job.error : "");
      log.dataset.state = job.state;
    });
  });
  document.getElementById("run-checks").addEventListener("click", async () => {
    const box = document.getElementById("checks");
    box.textContent = "Running the checks\u2026";
    const answer = await portal.api("GET", api + "/checks");
    if (!answer.ok) { box.textContent = answer.data.error; return; }
    box.innerHTML = answer.data.map((v) => '<details class="verdict-' + (v.passed ? "pass" : "fail") + '"><summary><strong>' +
      (v.passed ? "PASS" : "FAIL") + "</strong> " + esc(v.check) + ": " + esc(v.summary) + "</summary><ul>" +
      v.evidence.map((x) => "<li>" + esc(x) + "</li>").join("") + "</ul></details>").join("");
  });
});
