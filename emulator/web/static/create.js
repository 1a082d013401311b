// The Create wizard: each step sends its fields and shows the validator's findings on them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const wizard = document.getElementById("wizard");
  const base = "/api/drafts/" + wizard.dataset.draft;

  function tab(name) {
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("on", t.dataset.tab === name));
    document.querySelectorAll(".pane").forEach((p) => { p.hidden = p.dataset.pane !== name; });
    if (name === "review") review();
  }
  function fields(pane) {
    const out = {};
    document.querySelectorAll('[data-pane="' + pane + '"] [data-path]').forEach((input) => {
      out[input.dataset.path.replace(/^peering\./, "")] = input.value;
    });
    return out;
  }
  function show(findings, pane) {
    const root = document.querySelector('[data-pane="' + pane + '"]');
    portal.clearFindings(root);
    findings.forEach((f) => { if (f.field) portal.showFinding(root, f.field, f); });
  }
  function connections(values) {
    const body = document.querySelector("#connections tbody");
    body.innerHTML = "";
    values.connections.forEach((c, i) => {
      const row = document.createElement("tr");
      row.dataset.field = "connections[" + i + "]";
      row.innerHTML = "<td>" + portal.esc(c.name) + "</td><td>" + portal.esc(c.location) + "</td><td>" +
        portal.esc(c["bandwidth-gbps"]) + " Gbps (" + portal.esc(c.members) + " \u00d7 LAG member)</td><td>" +
        portal.esc(c["session-address-provider"]) + "</td><td>" + (c["use-for-peering-service"] ? "Enabled" : "Disabled") +
        '</td><td class="md5">' + (c.md5 ? "Set" : "None") + "</td><td>" + portal.esc(c.links.join(", ")) + '</td><td><button type="button" data-remove="' + i +
        '">Delete</button><div class="findings"></div></td>';
      body.appendChild(row);
    });
  }
  // Row findings sit in the row's last cell.
  function showRows(findings) {
    findings.forEach((f) => {
      const m = /^connections\[(\d+)\]/.exec(f.field || "");
      if (!m) return;
      const row = document.querySelector('#connections tr[data-field="connections[' + m[1] + ']"]');
      if (!row) return;
      row.classList.add(f.severity === "error" ? "invalid" : "warned");
      const box = row.querySelector(".findings");
      const item = document.createElement("div");
      item.className = "finding " + f.severity;
      item.dataset.rule = f.rule;
      item.innerHTML = '<span class="rule">' + portal.esc(f.rule) + "</span> " + portal.esc(f.found);
      box.appendChild(item);
    });
  }
  async function send(step, body) {
    const answer = await portal.api("POST", base + "/" + step, body);
    if (!answer.ok) { alert(answer.data.error); return null; }
    return answer.data;
  }
  async function basics() {
    const data = await send("basics", fields("basics"));
    if (data) show(data.findings, "basics");
    return data;
  }
  async function configuration() {
    const data = await send("configuration", fields("configuration"));
    if (data) { connections(data.values); show(data.findings, "configuration"); showRows(data.findings); }
    return data;
  }
  async function review() {
    await basics();
    await configuration();
    const data = await send("review", {});
    if (!data) return;
    const verdict = document.getElementById("review-verdict");
    verdict.className = "notice " + (data.ok ? "good" : "bad");
    verdict.id = "review-verdict";
    verdict.textContent = data.ok ? "Validation passed" :
      "Validation failed: " + data.errors + " error(s). Each is shown on its field.";
    const body = document.querySelector("#review-findings tbody");
    body.innerHTML = "";
    const order = {error: 0, warning: 1};
    data.findings.slice().sort((a, b) => order[a.severity] - order[b.severity]).forEach((f) => {
      const row = document.createElement("tr");
      row.className = f.severity;
      row.dataset.rule = f.rule;
      const where = f.field ? '<a href="#" data-goto="' + portal.esc(f.tab) + '">' + portal.esc(f.field) + "</a>" : portal.esc(f.path);
      row.innerHTML = "<td>" + portal.esc(f.rule) + "</td><td>" + portal.esc(f.severity) + "</td><td>" + where +
        "</td><td>" + portal.esc(f.found) + "</td><td>" + portal.esc(f.wording) + "</td><td>" + portal.esc(f.fix) + "</td>";
      body.appendChild(row);
    });
    show(data.findings.filter((f) => f.tab === "basics"), "basics");
    show(data.findings.filter((f) => f.tab === "configuration"), "configuration");
    showRows(data.findings);
    document.getElementById("review-topology").textContent = data.topology;
    return data;
  }
  async function create() {
    const error = document.getElementById("create-error");
    error.hidden = true;
    const turnup = document.getElementById("turnup-auto").checked ? "auto" : "manual";
    const answer = await portal.api("POST", base + "/create", {turnup: turnup});
    if (answer.ok) { window.location = answer.data.url; return; }
    if (answer.status === 422) {
      await review();
      const first = answer.data.findings.find((f) => f.severity === "error" && f.tab !== "review");
      if (first) {
        tab(first.tab);
        const field = document.querySelector('[data-field="' + CSS.escape(first.field) + '"] [data-path], tr[data-field="' + CSS.escape(first.field) + '"]');
        if (field && field.focus) field.focus();
      }
      return;
    }
    error.hidden = false;
    error.querySelector("pre").textContent = answer.data.error;
  }

  document.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => tab(t.dataset.tab)));
  document.getElementById("basics-next").addEventListener("click", async () => { await basics(); tab("configuration"); });
  document.getElementById("configuration-back").addEventListener("click", () => tab("basics"));
  document.getElementById("configuration-next").addEventListener("click", async () => { await configuration(); tab("review"); });
  document.getElementById("review-back").addEventListener("click", () => tab("configuration"));
  document.getElementById("create-submit").addEventListener("click", create);
  document.getElementById("review-findings").addEventListener("click", (e) => {
    const link = e.target.closest("a[data-goto]");
    if (link) { e.preventDefault(); tab(link.dataset.goto); }
  });
  const dialog = document.getElementById("connection-dialog");
  document.getElementById("connection-new").addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "save") return;
    const data = await send("connections", {
      "location": document.getElementById("c-location").value,
      "session-address-provider": document.getElementById("c-provider").value,
      "bandwidth-gbps": document.getElementById("c-bandwidth").value,
      "use-for-peering-service": document.getElementById("c-peering-service").checked,
      "md5-key": document.getElementById("c-md5").value});
    document.getElementById("c-md5").value = "";
    if (data) { connections(data.values); showRows(data.findings); }
  });
  document.querySelector("#connections tbody").addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-remove]");
    if (!button) return;
    const answer = await portal.api("DELETE", base + "/connections/" + button.dataset.remove);
    if (answer.ok) { connections(answer.data.values); showRows(answer.data.findings); }
  });
  configuration();
});
