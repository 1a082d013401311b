"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const log = document.getElementById("job-log");
  const state = document.getElementById("job-state");
  const next = document.getElementById("job-next");
  const lab = log.dataset.lab, kind = log.dataset.kind;
  portal.live("/jobs/" + log.dataset.job + "/stream", (job) => {
    log.textContent = job.lines.join("\n") + "\n";
    state.textContent = job.state;
    state.className = "state s-" + job.state;
    if (job.state === "failed") {
      const box = document.getElementById("job-error");
      box.hidden = false;
      box.querySelector("pre").textContent = job.error;
    }
    if (job.state === "succeeded") {
      next.hidden = false;
      next.innerHTML = kind === "delete" ? 'The lab is removed. <a href="/">Peerings</a>'
        : 'Your deployment is complete. <a class="button primary" id="go-to-resource" href="/peerings/' +
          encodeURIComponent(lab) + '">Go to resource</a>';
    }
  });
});
