// The Library: unlike (with undo) and history imports with upload and import progress.
import { api, get, onLeave, post, toast, upload } from "./api.js";
import { navigate } from "./shell.js";

let left = false; // the shell has moved on: stop following the import, do not reload
let reloadTimer;
onLeave(() => { left = true; clearTimeout(reloadTimer); });

for (const button of document.querySelectorAll("button[data-unlike]")) {
  button.addEventListener("click", async () => {
    const id = button.dataset.unlike;
    const row = button.closest("li");
    const title = row.querySelector("strong").textContent;
    try {
      if (row.classList.contains("removed")) {
        await post("/api/interactions", { trackId: id, type: "like" });
        row.classList.remove("removed");
        button.textContent = "Unlike";
        button.setAttribute("aria-label", `Unlike ${title}`);
      } else {
        await api("DELETE", `/api/users/me/likes/${encodeURIComponent(id)}`);
        row.classList.add("removed");
        button.textContent = "Undo";
        button.setAttribute("aria-label", `Undo: like ${title} again`);
        toast(`Removed “${title}” from your likes.`);
      }
    } catch (e) {
      toast(e.message, "error");
    }
  });
}

const form = document.getElementById("import-form");
if (form) {
  const bar = document.getElementById("import-progress");
  const status = document.getElementById("import-status");

  async function follow(id) {
    for (;;) {
      if (left) throw new Error("left the page");
      const job = await get(`/api/imports/${id}`);
      const p = job.progress || {};
      if (job.status === "done" || job.status === "failed") return job;
      if (p.total) {
        bar.value = Math.round((100 * p.done) / p.total);
        status.textContent = `Importing… ${p.done} of ${p.total} listens`;
      } else {
        status.textContent = "Reading the file…";
      }
      await new Promise((r) => setTimeout(r, 700));
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    try {
      const sent = await upload("/api/imports", new FormData(form), (percent) => {
        bar.value = percent;
        status.textContent = `Uploading… ${percent}%`;
      });
      const job = await follow(sent.id);
      if (job.status === "failed") {
        status.textContent = `The import failed: ${job.error}`;
      } else {
        const rate = Math.round(100 * (job.matchRate || 0));
        status.textContent = `Imported ${job.listens} listens and ${job.skips} skips` +
          (job.duplicates ? ` (${job.duplicates} were already here)` : "") +
          `; ${rate}% matched the catalog` + (job.rejectedTotal ? `; ${job.rejectedTotal} rows rejected.` : ".");
        toast("Import finished: your recommendations now know it.");
        // The table of imports, fresh; the shell keeps the player playing.
        reloadTimer = setTimeout(() => navigate(location.href, { replace: true }), 1500);
      }
    } catch (e) {
      status.textContent = e.message;
    } finally {
      button.disabled = false;
      bar.hidden = true;
    }
  });
}
