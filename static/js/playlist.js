import { api, get, post, debounce, h, fmtDuration, genreOf, toast } from "./api.js";
import { LiveRoom } from "./live.js";
import { Banner } from "./banner.js";
import { Outbox } from "./outbox.js";

const initial = JSON.parse(document.getElementById("playlist-data").textContent);
const me = JSON.parse(document.getElementById("me-data").textContent);
const pid = initial.id;
const state = {
  version: initial.version,
  tracks: initial.tracks,
  collaborators: initial.collaborators || [],
  owner: initial.owner,
  isCollaborative: initial.isCollaborative,
};

const list = document.getElementById("tracks");
const empty = document.getElementById("empty");
const liveMsg = document.getElementById("live-msg");
const banner = new Banner(document.getElementById("conn-banner"));

function announce(text) { liveMsg.textContent = text; }

// ---------------------------------------------------------------- rendering

function row(t, i, n) {
  const by = t.addedBy ? (t.addedBy.id === me.id ? "you" : t.addedBy.username) : "someone";
  const li = h("li", {
    class: "track", tabindex: "0", dataset: { id: t.id },
    "aria-label": `${i + 1}. ${t.title} by ${t.artist}, added by ${by}`,
  },
    h("span", { class: "handle", draggable: "true", title: "Drag to reorder", "aria-hidden": "true" }, "⠿"),
    h("span", { class: "pos num muted" }, String(i + 1)),
    h("div", { class: "track-main" },
      h("a", { href: `/tracks/${t.id}`, class: "track-title", tabindex: "-1" }, t.title),
      h("span", { class: "track-artist" }, t.artist)),
    h("span", { class: "added-by small muted" }, t.pending ? "not sent yet" : `added by ${by}`),
    h("span", { class: "muted num hide-sm" }, fmtDuration(t.durationMs)),
    h("span", { class: "row-btns" },
      h("button", { type: "button", class: "icon-btn", "aria-label": `Move up: ${t.title}`, disabled: i === 0, dataset: { act: "up" } }, "↑"),
      h("button", { type: "button", class: "icon-btn", "aria-label": `Move down: ${t.title}`, disabled: i === n - 1, dataset: { act: "down" } }, "↓"),
      h("button", { type: "button", class: "icon-btn danger", "aria-label": `Remove: ${t.title}`, dataset: { act: "remove" } }, "✕")));
  return li;
}

function render() {
  const active = document.activeElement;
  const focusRow = active && active.closest && active.closest("#tracks li");
  const focusId = focusRow && focusRow.dataset.id;
  const focusAct = active && active.dataset && active.dataset.act;
  const n = state.tracks.length;
  list.replaceChildren(...state.tracks.map((t, i) => row(t, i, n)));
  empty.hidden = n > 0;
  document.getElementById("pl-count").textContent = String(n);
  list.dataset.version = String(state.version);
  if (focusId) {
    const li = list.querySelector(`li[data-id="${CSS.escape(focusId)}"]`);
    if (li) {
      const btn = focusAct && li.querySelector(`[data-act="${focusAct}"]`);
      (btn && !btn.disabled ? btn : li).focus();
    }
  }
  renderPeople();
}

function renderPeople() {
  const ul = document.getElementById("collaborators");
  const isOwner = state.owner && state.owner.id === me.id;
  const items = [h("li", {}, h("strong", {}, state.owner.username), h("span", { class: "muted small" }, " owner"))];
  for (const c of state.collaborators) {
    items.push(h("li", {}, c.username, h("span", { class: "muted small" }, " collaborator"),
      isOwner || c.id === me.id
        ? h("button", {
          type: "button", class: "link-btn small", "aria-label": c.id === me.id ? "Leave this playlist" : `Remove ${c.username}`,
          onclick: () => removeCollaborator(c),
        }, c.id === me.id ? "Leave" : "Remove")
        : null));
  }
  ul.replaceChildren(...items);
}

function renderPresence(people) {
  const ul = document.getElementById("presence");
  ul.replaceChildren(...people.map((p) => h("li", { class: "avatar", title: p.username },
    h("span", { "aria-hidden": "true", class: "avatar-dot" }, (p.username || "?")[0].toUpperCase()),
    h("span", { class: "avatar-name" }, p.id === me.id ? `${p.username} (you)` : p.username))));
}

// ---------------------------------------------------------------- state changes

function applyState(p, { force = false } = {}) {
  if (!force && p.version <= state.version) return; // an event already brought us further
  state.version = p.version;
  state.tracks = p.tracks;
  if (p.collaborators) state.collaborators = p.collaborators;
  if (typeof p.isCollaborative === "boolean") state.isCollaborative = p.isCollaborative;
  render();
}

function applyEvent(ev) {
  if (typeof ev.version !== "number" || ev.version <= state.version) return; // seen already
  if (ev.version > state.version + 1) {
    // A version is missing: ask for a fresh snapshot rather than guess.
    resync();
    return;
  }
  const d = ev.data || {};
  const who = ev.userId === me.id ? null : "A collaborator";
  if (ev.type === "TRACK_ADDED") {
    // The server's entries replace any shown ahead of its answer (our own add, not sent yet).
    const incoming = d.tracks || [];
    const ids = new Set(incoming.map((t) => t.id));
    state.tracks = state.tracks.filter((t) => !ids.has(t.id));
    const at = Math.min(typeof d.position === "number" ? d.position : state.tracks.length, state.tracks.length);
    state.tracks.splice(at, 0, ...incoming);
    if (who) announce(`${who} added ${incoming.map((t) => t.title).join(", ")}`);
  } else if (ev.type === "TRACK_REMOVED") {
    const ids = new Set(d.trackIds || []);
    state.tracks = state.tracks.filter((t) => !ids.has(t.id));
    if (who) announce(`${who} removed ${ids.size} track${ids.size === 1 ? "" : "s"}`);
  } else if (ev.type === "TRACK_MOVED") {
    const i = state.tracks.findIndex((t) => t.id === d.trackId);
    if (i >= 0) {
      const [t] = state.tracks.splice(i, 1);
      state.tracks.splice(Math.min(d.toPosition, state.tracks.length), 0, t);
    }
  } else if (ev.type === "PLAYLIST_UPDATED") {
    if (d.deleted) {
      banner.set("fatal", "This playlist was deleted. Go back to your playlists.", "error");
      return;
    }
    if (d.name) {
      document.getElementById("pl-name").textContent = d.name;
      document.title = `${d.name} · Audotics`;
    }
    if (typeof d.isCollaborative === "boolean") state.isCollaborative = d.isCollaborative;
    if (d.collaboratorAdded && !state.collaborators.some((c) => c.id === d.collaboratorAdded.id)) {
      state.collaborators.push(d.collaboratorAdded);
    }
    if (d.collaboratorRemoved) {
      state.collaborators = state.collaborators.filter((c) => c.id !== d.collaboratorRemoved.id);
    }
  }
  state.version = ev.version;
  render();
}

let resyncing = false;
async function resync() {
  // One RESYNC at a time: later out-of-order events are covered by the coming SNAPSHOT.
  if (resyncing) return;
  resyncing = true;
  setTimeout(() => { resyncing = false; }, 3000);
  if (room.resync()) return;
  resyncing = false;
  try {
    applyState(await get(`/api/playlists/${pid}`), { force: true });
  } catch (e) { /* the reconnect will bring a snapshot */ }
}

// What went wrong with a write the server refused, and what the user can do about it.
function refusal(e, subject) {
  if (e.code === "duplicate_track") return `${subject || "That track"} is already in this playlist. Pick another track to add.`;
  if (e.code === "version_conflict") return "Someone changed the playlist at the same moment. The list is up to date now: try again.";
  if (e.status === 404) return "This playlist is gone or no longer shared with you. Go back to your playlists.";
  if (e.code === "too_large") return `${e.message} Remove some tracks first.`;
  return `Your change was not saved: ${e.message} Try again.`;
}

// Writes go through REST; the answer (a whole playlist) is applied if it is newer than what
// the socket already delivered, so both orders of arrival converge. Without network a write
// waits in the outbox (after any already waiting, to keep their order) and is shown meanwhile.
async function write(method, path, body, { optimistic, subject } = {}) {
  const before = state.tracks.slice();
  if (optimistic) { optimistic(); render(); }
  const op = { method, path, body, subject };
  if (outbox.size) {
    outbox.push(op);
    if (navigator.onLine) outbox.flush();
    return null;
  }
  try {
    const p = await api(method, path, body);
    applyState(p);
    return p;
  } catch (e) {
    if (e.code === "network_error") { outbox.push(op); return null; }
    if (optimistic) { state.tracks = before; render(); }
    banner.set("notice", refusal(e, subject), "error", { autohide: 10000 });
    resync();
    throw e;
  }
}

const outbox = new Outbox((op) => api(op.method, op.path, op.body), {
  onSent: (op, p) => applyState(p),
  onRejected(op, e) {
    // Sent before the network went, its answer lost: the track is there, as asked.
    if (e.code === "duplicate_track") return;
    banner.set("notice", refusal(e, op.subject), "error", { autohide: 10000 });
    resync();
  },
  onChange(size) {
    if (!size) {
      banner.clear("outbox");
      toast("Your changes are saved.");
      if (state.tracks.some((t) => t.pending)) resync(); // the server's list, not our guess
      return;
    }
    const changes = size === 1 ? "1 change" : `${size} changes`;
    const why = navigator.onLine ? "Cannot reach Audotics" : "You are offline";
    banner.set("outbox", `${why}: ${changes} will be sent when the connection is back.`, "warn");
  },
});
window.addEventListener("beforeunload", (ev) => { if (outbox.size) ev.preventDefault(); });

function moveTrack(id, to) {
  const from = state.tracks.findIndex((t) => t.id === id);
  if (from < 0 || to < 0 || to >= state.tracks.length || to === from) return;
  const t = state.tracks[from];
  announce(`${t.title} moved to position ${to + 1}`);
  return write("POST", `/api/playlists/${pid}/tracks/move`, { trackId: id, position: to }, {
    optimistic: () => { state.tracks.splice(from, 1); state.tracks.splice(to, 0, t); },
  }).catch(() => {});
}

function removeTrack(id) {
  const t = state.tracks.find((x) => x.id === id);
  const i = state.tracks.indexOf(t);
  announce(`${t ? t.title : "Track"} removed`);
  return write("DELETE", `/api/playlists/${pid}/tracks`, { trackIds: [id] }, {
    optimistic: () => { state.tracks = state.tracks.filter((x) => x.id !== id); },
  }).then(() => {
    const next = list.children[Math.min(i, list.children.length - 1)];
    if (next) next.focus();
  }).catch(() => {});
}

// The playlist service records the `add` interaction: the page posts none of its own.
function addTrack(track) {
  const subject = `“${track.title}”`;
  const shown = state.tracks.some((t) => t.id === track.id);
  return write("PUT", `/api/playlists/${pid}/tracks`, { trackIds: [track.id] }, {
    subject,
    optimistic: shown ? null : () => { state.tracks.push({ ...track, addedBy: me, pending: true }); },
  }).then((p) => { if (p) toast(`Added ${subject}`); }).catch(() => {});
}

async function removeCollaborator(c) {
  try {
    await api("DELETE", `/api/playlists/${pid}/collaborators/${c.id}`);
    if (c.id === me.id) { location.assign("/playlists"); return; }
    state.collaborators = state.collaborators.filter((x) => x.id !== c.id);
    renderPeople();
  } catch (e) { toast(e.message, "error"); }
}

// ---------------------------------------------------------------- interaction: buttons, keys

list.addEventListener("click", (ev) => {
  const btn = ev.target.closest("button[data-act]");
  if (!btn) return;
  const id = btn.closest("li").dataset.id;
  const i = state.tracks.findIndex((t) => t.id === id);
  if (btn.dataset.act === "up") moveTrack(id, i - 1);
  else if (btn.dataset.act === "down") moveTrack(id, i + 1);
  else if (btn.dataset.act === "remove") removeTrack(id);
});

list.addEventListener("keydown", (ev) => {
  const li = ev.target.closest("li");
  if (!li) return;
  const i = state.tracks.findIndex((t) => t.id === li.dataset.id);
  if (ev.altKey && (ev.key === "ArrowUp" || ev.key === "ArrowDown")) {
    ev.preventDefault();
    moveTrack(li.dataset.id, ev.key === "ArrowUp" ? i - 1 : i + 1);
  } else if (ev.target === li && (ev.key === "ArrowUp" || ev.key === "ArrowDown")) {
    ev.preventDefault();
    const sib = ev.key === "ArrowUp" ? li.previousElementSibling : li.nextElementSibling;
    if (sib) sib.focus();
  } else if (ev.target === li && ev.key === "Delete") {
    ev.preventDefault();
    removeTrack(li.dataset.id);
  }
});

// ---------------------------------------------------------------- drag and drop

let dragId = null;
function dropIndex(clientY) {
  const rows = [...list.children];
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k].getBoundingClientRect();
    if (clientY < r.top + r.height / 2) return k;
  }
  return rows.length;
}
function finishDrop(clientY) {
  const id = dragId;
  dragId = null;
  list.querySelectorAll(".drop-before, .drop-after, .dragging").forEach((el) => el.classList.remove("drop-before", "drop-after", "dragging"));
  if (!id) return;
  const from = state.tracks.findIndex((t) => t.id === id);
  let to = dropIndex(clientY);
  if (to > from) to -= 1; // the row leaves its old slot first
  moveTrack(id, to);
}
function markDrop(clientY) {
  list.querySelectorAll(".drop-before, .drop-after").forEach((el) => el.classList.remove("drop-before", "drop-after"));
  const k = dropIndex(clientY);
  const rows = list.children;
  if (k < rows.length) rows[k].classList.add("drop-before");
  else if (rows.length) rows[rows.length - 1].classList.add("drop-after");
}

// HTML5 drag and drop (mouse).
list.addEventListener("dragstart", (ev) => {
  const li = ev.target.closest && ev.target.closest("li");
  if (!li) return;
  dragId = li.dataset.id;
  li.classList.add("dragging");
  ev.dataTransfer.effectAllowed = "move";
  ev.dataTransfer.setData("text/plain", dragId);
  ev.dataTransfer.setDragImage(li, 10, 10);
});
list.addEventListener("dragover", (ev) => {
  if (!dragId) return;
  ev.preventDefault();
  ev.dataTransfer.dropEffect = "move";
  markDrop(ev.clientY);
});
list.addEventListener("drop", (ev) => { ev.preventDefault(); finishDrop(ev.clientY); });
list.addEventListener("dragend", () => { if (dragId) { dragId = null; render(); } });

// Pointer fallback (touch and pen, where HTML5 drag and drop is not available).
list.addEventListener("pointerdown", (ev) => {
  if (ev.pointerType === "mouse" || !ev.target.classList.contains("handle")) return;
  const li = ev.target.closest("li");
  dragId = li.dataset.id;
  li.classList.add("dragging");
  ev.target.setPointerCapture(ev.pointerId);
  ev.preventDefault();
  const move = (e) => markDrop(e.clientY);
  const up = (e) => {
    ev.target.removeEventListener("pointermove", move);
    ev.target.removeEventListener("pointerup", up);
    ev.target.removeEventListener("pointercancel", up);
    if (e.type === "pointercancel") { dragId = null; render(); } else finishDrop(e.clientY);
  };
  ev.target.addEventListener("pointermove", move);
  ev.target.addEventListener("pointerup", up);
  ev.target.addEventListener("pointercancel", up);
});

// ---------------------------------------------------------------- adding from search

const addQ = document.getElementById("add-q");
const addResults = document.getElementById("add-results");
let addSeq = 0;
addQ.addEventListener("input", debounce(async () => {
  const mine = ++addSeq;
  const q = addQ.value.trim();
  if (!q) { addResults.replaceChildren(); return; }
  try {
    const data = await get(`/api/tracks?q=${encodeURIComponent(q)}`);
    if (mine !== addSeq) return;
    addResults.replaceChildren(...data.results.slice(0, 10).map((t) => h("li", { class: "track" },
      h("div", { class: "track-main" }, h("span", { class: "track-title" }, t.title), h("span", { class: "track-artist" }, t.artist)),
      h("button", { type: "button", class: "btn btn-small", "aria-label": `Add ${t.title} by ${t.artist}`, onclick: () => addTrack(t) }, "Add"))));
    if (!data.results.length) addResults.replaceChildren(h("li", { class: "muted" }, "No tracks found."));
  } catch (e) { toast(e.message, "error"); }
}, 250));

// ---------------------------------------------------------------- people and suggestions

const inviteForm = document.getElementById("invite-form");
if (inviteForm) {
  const msg = document.getElementById("invite-msg");
  inviteForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const username = inviteForm.elements.username.value.trim();
    try {
      const c = await post(`/api/playlists/${pid}/collaborators`, { username });
      if (!state.collaborators.some((x) => x.id === c.id)) state.collaborators.push(c);
      renderPeople();
      msg.textContent = `${c.username} can now edit this playlist.`;
      inviteForm.reset();
    } catch (e) {
      msg.textContent = (e.fields && e.fields.username && `${username}: ${e.fields.username.join(" ")}`) || e.message;
    }
  });
  document.getElementById("make-collab-btn").addEventListener("click", async () => {
    try {
      applyState(await api("PATCH", `/api/playlists/${pid}`, { isCollaborative: true }), { force: true });
      document.getElementById("make-collab").hidden = true;
      inviteForm.hidden = false;
      document.getElementById("invite-username").focus();
    } catch (e) { toast(e.message, "error"); }
  });
}

function renderMembers(members) {
  const box = document.getElementById("sugg-members");
  if (!members || !members.length) { box.replaceChildren(); return; }
  box.replaceChildren(h("span", { class: "muted" }, "Taste match: "), ...members.map((m) =>
    h("span", { class: "match" }, `${m.userId === me.id ? "you" : m.username} `,
      h("meter", { min: "0", max: "100", value: String(m.tasteMatch ?? 0), "aria-label": `Taste match for ${m.username}` }),
      ` ${m.tasteMatch ?? 0}%`)));
}

document.getElementById("sugg-load").addEventListener("click", async (ev) => {
  const ul = document.getElementById("suggestions");
  ev.target.textContent = "Refresh suggestions";
  ul.setAttribute("aria-busy", "true");
  try {
    const data = await get(`/api/playlists/${pid}/recommendations?limit=10`);
    const tracks = Array.isArray(data) ? data : (data.tracks || data.results || []);
    renderMembers(data.members);
    ul.replaceChildren(...tracks.map((t) => h("li", { class: "track" },
      h("div", { class: "track-main" },
        h("a", { href: `/tracks/${t.id}`, class: "track-title" }, t.title),
        h("span", { class: "track-artist" }, t.artist),
        t.reason ? h("span", { class: "reason small" }, t.reason) : null),
      h("button", { type: "button", class: "btn btn-small", "aria-label": `Add ${t.title} by ${t.artist}`, onclick: () => addTrack(t) }, "Add"))));
    if (!tracks.length) ul.replaceChildren(h("li", { class: "muted" }, "No suggestions yet."));
  } catch (e) {
    ul.replaceChildren(h("li", { class: "muted" }, e.status === 404 ? "Suggestions are not available yet." : e.message));
  } finally { ul.removeAttribute("aria-busy"); }
});

// ---------------------------------------------------------------- connection status

const FATAL = {
  signed_out: "Your session ended. Sign in again to keep editing.",
  forbidden: "You no longer have access to this playlist.",
  gone: "This playlist no longer exists.",
};

const room = new LiveRoom(pid, {
  onSnapshot(s) {
    resyncing = false;
    state.version = s.version;
    state.tracks = s.tracks;
    render();
    outbox.flush();
  },
  onEvent: applyEvent,
  onPresence: renderPresence,
  onStatus(status, info) {
    document.body.dataset.live = status;
    if (FATAL[status]) {
      banner.set("fatal", FATAL[status], "error");
    } else if (status === "lost") {
      banner.set("connection", `Connection lost. Reconnecting in ${Math.ceil(info.delay / 1000)} s… Your changes are kept.`, "warn");
    } else if (status === "reconnecting") {
      banner.set("connection", "Reconnecting…", "warn");
    } else if (status === "offline") {
      banner.set("connection", "You are offline. Changes you make will be sent when the connection is back.", "warn");
    } else if (status === "restored") {
      banner.clear("connection");
      banner.set("notice", "Reconnected. The playlist is up to date.", "ok", { autohide: 4000 });
    } else if (status === "live") {
      banner.clear("connection");
    }
  },
});
window.audoticsRoom = room;
render();
room.connect();
