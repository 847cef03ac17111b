// Your music: upload audio files one after another, each with its own progress, then follow
// Essentia's analysis until nothing is waiting.
import { get, onLeave, upload } from "./api.js";

const form = document.getElementById("upload-form");
const rows = document.getElementById("upload-rows");
const statusLine = document.getElementById("analysis-status");
const analysisBar = document.getElementById("analysis-progress");
let left = false;
let pollTimer;
let uploading = false;
// Leaving mid-upload (a link through the shell, or a full load) asks first.
const holdPage = (ev) => { if (uploading) ev.preventDefault(); };
window.addEventListener("audotics:beforeleave", holdPage);
window.addEventListener("beforeunload", holdPage);
onLeave(() => {
  left = true;
  clearTimeout(pollTimer);
  window.removeEventListener("audotics:beforeleave", holdPage);
  window.removeEventListener("beforeunload", holdPage);
});

const OUTCOMES = {
  created: "Added",
  attached: "Added as the audio of a catalog track",
  updated: "Updated",
  unchanged: "Already in the library",
};

function row(file) {
  const li = document.createElement("li");
  li.className = "upload-row";
  const name = document.createElement("span");
  name.className = "upload-name";
  name.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Upload of ${file.name}`);
  const note = document.createElement("span");
  note.className = "muted small upload-note";
  note.textContent = "Waiting…";
  li.append(name, bar, note);
  rows.append(li);
  return { li, bar, note };
}

async function send(file, view) {
  const data = new FormData();
  data.append("file", file);
  try {
    const body = await upload("/api/library/files", data, (percent) => {
      view.bar.value = percent;
      view.note.textContent = `Uploading… ${percent}%`;
    });
    const t = body.track;
    view.note.textContent = `${OUTCOMES[body.outcome] || "Added"}: ${t.title} by ${t.artist}`;
    view.li.classList.add("upload-ok");
  } catch (e) {
    view.note.textContent = e.message;
    view.li.classList.add("upload-failed");
  }
  view.bar.value = 100;
}

async function followAnalysis() {
  if (left) return;
  try {
    const s = await get("/api/library");
    const total = s.pending + s.done + s.failed;
    analysisBar.max = Math.max(total, 1);
    analysisBar.value = s.done + s.failed;
    analysisBar.hidden = s.pending === 0;
    statusLine.textContent = `${s.done} tracks analysed` +
      (s.pending ? `, ${s.pending} waiting` : "") +
      (s.failed ? `, ${s.failed} could not be analysed` : "") + ".";
    if (s.pending) pollTimer = setTimeout(followAnalysis, 2000);
  } catch {
    pollTimer = setTimeout(followAnalysis, 5000);
  }
}

if (form) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = document.getElementById("upload-files");
    const files = [...input.files];
    if (!files.length) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    uploading = true;
    const views = files.map((f) => [f, row(f)]);
    for (const [file, view] of views) {
      if (left) break;
      await send(file, view);
    }
    uploading = false;
    button.disabled = false;
    input.value = "";
    followAnalysis();
  });
  if (Number(statusLine.dataset.pending)) followAnalysis();
}
