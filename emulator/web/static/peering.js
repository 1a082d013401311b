// The peering's page: connection states live from the lab's timeline.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("connections");
  const lab = table.dataset.lab;
  function render(data) {
    const body = table.querySelector("tbody");
    body.innerHTML = "";
    data.connections.forEach((c) => {
      const row = document.createElement("tr");
      row.dataset.connection = c.name;
      row.innerHTML = "<td>" + portal.esc(c.name) + '</td><td class="state s-' + portal.esc(c.connectionState) + '">' +
        portal.esc(c.connectionState) + "</td><td>" +
        c.sessions.map((s) => '<span class="dot ' + (s.established ? "up" : "down") + '" title="' + portal.esc(s.name) + '"></span>').join("") +
        '</td><td class="detail">' + portal.esc(c.detail) + "</td><td>Peer</td><td>Enabled</td>";
      body.appendChild(row);
    });
    document.getElementById("count-asns").textContent = data.registeredAsns.length;
    document.getElementById("count-prefixes").textContent = data.prefixes.length;
    document.getElementById("count-notes").textContent = data.notifications || 0;
  }
  portal.live("/peerings/" + encodeURIComponent(lab) + "/stream", render, (gone) => portal.showGone(gone.error));
  document.getElementById("delete-lab").addEventListener("click", async () => {
    if (!confirm("Remove lab " + lab + " and everything it runs?")) return;
    const answer = await portal.api("POST", "/api/peerings/" + encodeURIComponent(lab) + "/delete");
    if (answer.ok) window.location = answer.data.url; else alert(answer.data.error);
  });
});
