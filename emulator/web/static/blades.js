// The Registered ASNs and prefixes blades: each form calls the portal's step, the CLI's function.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  function refused(form, field, message) {
    portal.clearFindings(form);
    portal.showFinding(form, field, {severity: "error", rule: "refused", found: message});
  }
  const asn = document.getElementById("asn-form");
  if (asn) asn.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = document.getElementById("asn-submit");
    button.disabled = true;
    button.textContent = "Saving\u2026";
    const answer = await portal.api("POST", "/api/peerings/" + encodeURIComponent(asn.dataset.lab) + "/registered-asns",
      {name: document.getElementById("asn-name").value, asn: document.getElementById("asn-asn").value});
    button.disabled = false;
    button.textContent = "Save";
    if (!answer.ok) { refused(asn, "asn", answer.data.error); return; }
    portal.clearFindings(asn);
    document.getElementById("asn-result").hidden = false;
    document.getElementById("asn-result-name").textContent = answer.data.name + " (AS" + answer.data.asn + ")";
    document.getElementById("asn-key").value = answer.data.peeringServicePrefixKey;
    const body = document.querySelector("#asns tbody");
    body.querySelectorAll("td.empty").forEach((cell) => cell.parentElement.remove());
    if (!document.getElementById("key-" + answer.data.asn)) {
      const row = document.createElement("tr");
      row.innerHTML = "<td>" + portal.esc(answer.data.name) + "</td><td>" + portal.esc(answer.data.asn) +
        '</td><td><input readonly size="40" id="key-' + portal.esc(answer.data.asn) + '" value="' +
        portal.esc(answer.data.peeringServicePrefixKey) + '"> <button type="button" class="copy" data-copy="key-' +
        portal.esc(answer.data.asn) + '">Copy</button></td><td>' + portal.esc(answer.data.provisioningState) + "</td>";
      body.appendChild(row);
    }
  });
  const prefix = document.getElementById("prefix-form");
  if (prefix) prefix.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = document.getElementById("prefix-submit");
    button.disabled = true;
    button.textContent = "Activating\u2026";
    const answer = await portal.api("POST", "/api/peerings/" + encodeURIComponent(prefix.dataset.lab) + "/prefixes",
      {prefix: document.getElementById("prefix-prefix").value, key: document.getElementById("prefix-key").value});
    button.disabled = false;
    button.textContent = "Activate";
    if (!answer.ok) { refused(prefix, "key", answer.data.error); return; }
    window.location.reload();
  });
});
