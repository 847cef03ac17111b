import { api, get, post, debounce, h, genreOf, onLeave, toast } from "./api.js";
import { artistLinks, noAudioMark, thumb } from "./tracks-ui.js";
import { likedAmong, showLiked, toggleLike } from "./likes.js";

const me = JSON.parse(document.getElementById("me-data").textContent);
const form = document.getElementById("context-form");
const list = document.getElementById("recs");
const status = document.getElementById("rec-status");
const lo = document.getElementById("ctx-energy-lo");
const hi = document.getElementById("ctx-energy-hi");
const energyOut = document.getElementById("energy-out");
let current = [];
let seq = 0;
let left = false; // the shell has moved on to another page

function context() {
  const c = {};
  for (const k of ["mood", "activity", "timeOfDay"]) if (form.elements[k].value) c[k] = form.elements[k].value;
  const a = Number(lo.value), b = Number(hi.value);
  if (a > 0 || b < 1) c.energy = [Math.min(a, b), Math.max(a, b)];
  return c;
}

// Phones: the filters fold away behind a button that says which are set.
const toggle = document.getElementById("filters-toggle");
const summary = document.getElementById("filters-summary");
function summarize() {
  const c = context();
  const name = (k, any) => (c[k] ? form.elements[k].selectedOptions[0].textContent : any);
  const parts = [name("mood", "Any mood"), name("activity", "Any activity")];
  if (c.timeOfDay) parts.push(name("timeOfDay", ""));
  if (c.energy) parts.push(`energy ${c.energy[0]}–${c.energy[1]}`);
  summary.textContent = parts.join(" · ");
}
toggle.addEventListener("click", () => {
  const open = form.classList.toggle("folded") === false;
  toggle.setAttribute("aria-expanded", String(open));
  if (open) form.querySelector("select").focus();
});
form.addEventListener("change", summarize);

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
    thumb(t),
    h("div", { class: "track-main" },
      h("a", { href: `/tracks/${t.id}`, class: "track-title" }, t.title),
      artistLinks(t),
      t.reason ? h("span", { class: "reason small" }, t.reason) : null,
      noAudioMark(t)),
    h("span", { class: "tag hide-sm" }, genreOf(t)),
    h("span", { class: "row-btns" },
      h("button", { type: "button", class: "btn btn-small", "aria-pressed": "false", "aria-label": `Like ${t.title}`, dataset: { like: t.id }, onclick: (e) => like(t, e.currentTarget) }, "Like"),
      h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Dislike ${t.title}`, dataset: { dislike: t.id }, onclick: (e) => dislike(t, e.currentTarget) }, "Dislike"),
      h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Skip ${t.title}`, onclick: (e) => skip(t, e.currentTarget) }, "Skip")));
  return li;
}

async function load() {
  if (left) return;
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
    markLiked(tracks, mine);
    status.textContent = tracks.length ? `${tracks.length} recommendations` : "No recommendations yet: like a few tracks in the catalog first.";
  } catch (e) {
    if (mine === seq) status.textContent = e.status === 404 ? "Recommendations are not available yet." : e.message;
  } finally {
    if (mine === seq) list.removeAttribute("aria-busy");
  }
}

// Tracks liked earlier (another visit, another page) show as liked here too.
async function markLiked(tracks, generation) {
  let liked;
  try { liked = await likedAmong(tracks.map((t) => t.id)); } catch { return; }
  if (generation !== seq) return;
  for (const button of list.querySelectorAll("button[data-like]")) {
    const on = liked.has(button.dataset.like);
    showLiked(button, on);
    button.closest("li").classList.toggle("liked", on);
  }
}

const reload = debounce(load, 600);
onLeave(() => { left = true; seq += 1; reload.cancel(); });

// Feedback changes the next list: like (or unlike) and skip, then load again.
async function like(t, button) {
  let liked;
  try { liked = await toggleLike(button, t.id, context()); } catch (e) { toast(e.message, "error"); return; }
  button.closest("li").classList.toggle("liked", liked);
  toast(`${liked ? "Liked" : "Removed your like of"} “${t.title}”. Updating your list…`);
  reload();
}

// A dislike stays in place with an Undo until the next list: it will not be offered again.
async function dislike(t, button) {
  const row = button.closest("li");
  const undo = row.classList.contains("disliked");
  try {
    if (undo) await api("DELETE", `/api/users/me/dislikes/${encodeURIComponent(t.id)}`);
    else await post("/api/interactions", { trackId: t.id, type: "dislike", context: context() });
  } catch (e) { toast(e.message, "error"); return; }
  row.classList.toggle("disliked", !undo);
  button.textContent = undo ? "Dislike" : "Undo";
  button.setAttribute("aria-label", `${undo ? "Dislike" : "Undo dislike of"} ${t.title}`);
  toast(undo ? `“${t.title}” may be recommended again.` : `Disliked “${t.title}”: it won't be recommended again.`);
}

async function skip(t, button) {
  try {
    await post("/api/interactions", { trackId: t.id, type: "skip", context: context() });
  } catch (e) { toast(e.message, "error"); return; }
  button.closest("li").classList.add("skipped");
  toast(`Skipped “${t.title}”. Updating your list…`);
  reload();
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

summarize();
load();
