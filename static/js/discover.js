import { api, get, post, debounce, h, genreOf, toast } from "./api.js";

const me = JSON.parse(document.getElementById("me-data").textContent);
const form = document.getElementById("context-form");
const list = document.getElementById("recs");
const status = document.getElementById("rec-status");
const lo = document.getElementById("ctx-energy-lo");
const hi = document.getElementById("ctx-energy-hi");
const energyOut = document.getElementById("energy-out");
let current = [];
let seq = 0;

function context() {
  const c = {};
  for (const k of ["mood", "activity", "timeOfDay"]) if (form.elements[k].value) c[k] = form.elements[k].value;
  const a = Number(lo.value), b = Number(hi.value);
  if (a > 0 || b < 1) c.energy = [Math.min(a, b), Math.max(a, b)];
  return c;
}

function syncEnergy(ev) {
  if (Number(lo.value) > Number(hi.value)) {
    if (ev && ev.target === lo) hi.value = lo.value; else lo.value = hi.value;
  }
  energyOut.textContent = `${lo.value} – ${hi.value}`;
}
lo.addEventListener("input", syncEnergy);
hi.addEventListener("input", syncEnergy);

function row(t) {
  const li = h("li", { class: "track rec", dataset: { id: t.id } },
    h("div", { class: "track-main" },
      h("a", { href: `/tracks/${t.id}`, class: "track-title" }, t.title),
      h("span", { class: "track-artist" }, t.artist),
      t.reason ? h("span", { class: "reason small" }, t.reason) : null),
    h("span", { class: "tag hide-sm" }, genreOf(t)),
    h("span", { class: "row-btns" },
      h("button", { type: "button", class: "btn btn-small", "aria-pressed": "false", "aria-label": `Like ${t.title}`, onclick: (e) => feedback(t, "like", e.currentTarget) }, "Like"),
      h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Skip ${t.title}`, onclick: (e) => feedback(t, "skip", e.currentTarget) }, "Skip")));
  return li;
}

async function load() {
  const mine = ++seq;
  const c = context();
  status.textContent = "Finding music for you…";
  list.setAttribute("aria-busy", "true");
  try {
    let tracks;
    if (c.energy) {
      // The energy range is a generation constraint (PlaylistContext); preview without saving.
      const data = await post("/api/playlists/generate", { context: c, length: 20, save: false });
      tracks = data.tracks || [];
    } else {
      const params = new URLSearchParams({ limit: "20" });
      for (const [k, v] of Object.entries(c)) params.set(k, v);
      const data = await get(`/api/users/${me.id}/recommendations?${params}`);
      tracks = data.tracks || data.results || [];
    }
    if (mine !== seq) return;
    current = tracks;
    list.replaceChildren(...tracks.map(row));
    list.dataset.generation = String(mine);
    status.textContent = tracks.length ? `${tracks.length} recommendations` : "No recommendations yet: like a few tracks in the catalog first.";
  } catch (e) {
    if (mine === seq) status.textContent = e.status === 404 ? "Recommendations are not available yet." : e.message;
  } finally {
    if (mine === seq) list.removeAttribute("aria-busy");
  }
}

const reload = debounce(load, 600);

async function feedback(t, type, button) {
  try {
    await post("/api/interactions", { trackId: t.id, type, context: context() });
  } catch (e) { toast(e.message, "error"); return; }
  const li = button.closest("li");
  if (type === "like") {
    button.setAttribute("aria-pressed", "true");
    button.textContent = "Liked";
    li.classList.add("liked");
    toast(`Liked “${t.title}”. Updating your list…`);
  } else {
    li.classList.add("skipped");
    toast(`Skipped “${t.title}”. Updating your list…`);
  }
  reload(); // the next list reflects the feedback
}

form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
for (const el of form.querySelectorAll("select")) el.addEventListener("change", load);
lo.addEventListener("change", load);
hi.addEventListener("change", load);

document.getElementById("save-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const msg = document.getElementById("save-msg");
  const name = ev.target.elements.name.value.trim();
  if (!current.length) { msg.textContent = "There is nothing to save yet."; return; }
  try {
    const p = await post("/api/playlists", { name, context: context() });
    await api("PUT", `/api/playlists/${p.id}/tracks`, { trackIds: current.map((t) => t.id) });
    msg.replaceChildren("Saved. ", h("a", { href: `/playlists/${p.id}` }, `Open “${name}”`));
  } catch (e) { msg.textContent = e.message; }
});

load();
