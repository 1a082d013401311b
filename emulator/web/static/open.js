"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("open-form");
  const error = document.getElementById("open-error");
  async function open(path) {
    const answer = await portal.api("POST", "/api/open", {path: path});
    if (answer.ok) { window.location = answer.data.url; return; }
    error.hidden = false;
    error.querySelector("pre").textContent = answer.data.error;
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); open(document.getElementById("open-path").value); });
  document.querySelectorAll("a.candidate").forEach((a) => a.addEventListener("click", (e) => {
    e.preventDefault(); open(a.textContent);
  }));
});
