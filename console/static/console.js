// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Times come in UTC from the server: show them in the viewer's own time zone.
  const local = new Intl.DateTimeFormat("en-GB", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });
  for (const time of document.querySelectorAll("time[datetime]")) {
    const moment = new Date(time.dateTime);
    if (Number.isNaN(moment.getTime())) continue;
    time.title = time.textContent;
    time.textContent = local.format(moment);
  }

  // Inbox: "select all" ticks every group checkbox of the bulk form.
  const all = document.querySelector("[data-select-all]");
  if (all) {
    all.closest("[data-needs-js]").hidden = false;
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll('input.pick[form="bulk"]')) {
        box.checked = all.checked;
      }
    });
  }

  // Training job page: refresh stage, epoch progress and log tail every 2 s while it runs.
  const job = document.getElementById("job");
  if (job && job.dataset.status === "running") {
    job.querySelector("[data-needs-js]").hidden = false;
    const field = (name) => job.querySelector(`[data-field="${name}"]`);
    const refresh = async () => {
      const response = await fetch(`/api/jobs/${job.dataset.job}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      field("status").textContent = data.status;
      field("stage").textContent = data.stage;
      for (const item of job.querySelectorAll("[data-stage]")) {
        const current = item.dataset.stage === data.stage;
        item.classList.toggle("current", current);
        if (current) item.setAttribute("aria-current", "step");
        else item.removeAttribute("aria-current");
      }
      const bar = document.getElementById("epochs");
      if (data.epochs_total) {
        bar.max = data.epochs_total;
        bar.value = data.epochs_done;
        field("epochs").textContent = `${data.epochs_done}/${data.epochs_total}`;
      }
      const log = field("log");
      log.textContent = data.log_tail.join("\n");
      log.scrollTop = log.scrollHeight;
      field("error").hidden = !data.error;
      field("error").textContent = data.error;
      if (data.status === "awaiting") {
        location.reload(); // the answers awaiting approval are rendered by the server
        return;
      }
      if (data.status !== "running") {
        const cancel = field("cancel");
        if (cancel) cancel.remove();
        if (data.model_id) {
          const link = document.createElement("a");
          link.href = `/models/${data.model_id}`;
          link.textContent = "Evaluation report of the new model";
          field("result").replaceChildren(link);
        }
        return;
      }
      setTimeout(refresh, 2000);
    };
    setTimeout(refresh, 2000);
  }
});
