// The portal's helpers: requests that carry the CSRF token, live state over server-sent events.
"use strict";
window.portal = (function () {
  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  async function api(method, url, body) {
    const options = {method: method, credentials: "same-origin",
                     headers: {"X-CSRF-Token": csrf(), "Accept": "application/json"}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (e) {
      return {ok: false, status: 0, data: {error: "the portal does not answer (was it stopped?)"}};
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = {error: response.statusText}; }
    return {ok: response.ok, status: response.status, data: data};
  }
  function live(url, onState, onGone) {
    const source = new EventSource(url);
    source.addEventListener("state", (e) => onState(JSON.parse(e.data)));
    source.addEventListener("gone", (e) => { source.close(); if (onGone) onGone(JSON.parse(e.data)); });
    return source;
  }
  function esc(text) {
    const div = document.createElement("div");
    div.textContent = text === undefined || text === null ? "" : String(text);
    return div.innerHTML;
  }
  function showGone(message) {
    const box = document.getElementById("gone");
    if (!box) return;
    box.hidden = false;
    box.innerHTML = "<strong>This lab is not up any more.</strong> " + esc(message) +
      ' <a href="/">Back to the Peerings list</a>';
  }
  async function copy(inputId) {
    const input = document.getElementById(inputId);
    input.select();
    let done = false;
    try { await navigator.clipboard.writeText(input.value); done = true; } catch (e) { done = false; }
    if (!done) { try { done = document.execCommand("copy"); } catch (e) { done = false; } }
    return done;
  }
  // Findings under the fields they concern: elements [data-field] hold a .findings box.
  function clearFindings(root) {
    root.querySelectorAll(".findings").forEach((b) => { b.innerHTML = ""; });
    root.querySelectorAll(".field.invalid").forEach((f) => f.classList.remove("invalid"));
  }
  function showFinding(root, field, finding) {
    const box = root.querySelector('[data-field="' + CSS.escape(field) + '"] > .findings');
    if (!box) return false;
    box.parentElement.classList.toggle("invalid", box.parentElement.classList.contains("invalid") || finding.severity === "error");
    const item = document.createElement("div");
    item.className = "finding " + finding.severity;
    item.dataset.rule = finding.rule;
    item.innerHTML = '<span class="rule">' + esc(finding.rule) + "</span> " + esc(finding.found) +
      (finding.wording ? '<div class="wording">The page: \u201c' + esc(finding.wording) + "\u201d</div>" : "") +
      (finding.fix ? '<div class="fix">Fix: ' + esc(finding.fix) + "</div>" : "");
    box.appendChild(item);
    return true;
  }
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button.copy");
    if (!button) return;
    const done = await copy(button.dataset.copy);
    const note = button.dataset.note ? document.getElementById(button.dataset.note) : null;
    if (!done) button.textContent = "Selected: press Ctrl+C";
    if (note) note.hidden = !done;
  });
  return {csrf, api, live, esc, showGone, copy, clearFindings, showFinding};
})();
