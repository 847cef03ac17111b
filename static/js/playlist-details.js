// The playlist's header: its cover, name (renamed in place), description, mood and activity, how
// many tracks and how long, and deleting it. The owner edits them (PATCH, answered with the
// whole playlist); everyone's page follows the owner's edits live (PLAYLIST_UPDATED events and
// the SNAPSHOT after a reconnect both come through update()).
import { api, h, toast } from "./api.js";
import { coverUrl } from "./tracks-ui.js";
import { navigate } from "./shell.js";

// "45 s", "48 min", "2 h 5 min": web/selectors.py duration_words() writes the same.
export function fmtTotal(ms) {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

// The cover: the first four distinct album covers, else the first cover, else none
// (playlists/selectors.py playlist_cover_track_ids() is the same rule for server pages).
export function coverIds(tracks) {
  const ids = [];
  const albums = new Set();
  for (const t of tracks) {
    if (!t.hasCover) continue;
    const album = `${(t.artist || "").toLowerCase()}\u0000${(t.album || "").toLowerCase()}`;
    if (t.album && albums.has(album)) continue;
    albums.add(album);
    ids.push(t.id);
    if (ids.length === 4) break;
  }
  return ids.length === 4 ? ids : ids.slice(0, 1);
}

function mosaic(ids) {
  return h("span", { class: `mosaic mosaic-${ids.length}`, "aria-hidden": "true" },
    ids.map((id) => h("img", {
      src: coverUrl(id, ids.length === 1 ? "large" : "small"), alt: "", loading: "lazy", decoding: "async",
    })));
}

// A form shown in place of what it edits: Escape or Cancel puts the view back.
function inPlace(form, shownWhileClosed, { open, save }) {
  const close = () => { form.hidden = true; shownWhileClosed.hidden = false; };
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      ev.preventDefault();
      close();
      (shownWhileClosed.matches("button") ? shownWhileClosed : shownWhileClosed.querySelector("button"))?.focus();
    }
    // Enter makes a new line in a textarea: Ctrl/⌘+Enter saves.
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); }
  });
  form.querySelector("[data-cancel]").addEventListener("click", close);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      if (await save()) close();
    } finally { button.disabled = false; }
  });
  return () => { open(); shownWhileClosed.hidden = true; form.hidden = false; };
}

// sync: the page's PlaylistSync (id, state.tracks); initial: the page's playlist-data.
// Returns { render() after every redraw of the tracks, update(details) for changes }.
export function enableDetails(sync, initial) {
  const details = {
    name: initial.name, description: initial.description || "", context: initial.context || {},
    isCollaborative: initial.isCollaborative,
  };
  const $ = (id) => document.getElementById(id);
  const nameEl = $("pl-name");
  let shownCover = coverIds(initial.tracks).join(); // the page came with this one drawn

  function update(d) {
    if (!d) return;
    if (typeof d.name === "string") {
      details.name = d.name;
      nameEl.textContent = d.name;
      document.title = `${d.name} · Audotics`;
      document.querySelectorAll("#delete-dialog [data-name]").forEach((el) => { el.textContent = d.name; });
    }
    if (typeof d.description === "string") {
      details.description = d.description;
      $("pl-desc").textContent = d.description;
      $("pl-desc").hidden = !d.description;
      if ($("desc-btn")) $("desc-btn").textContent = d.description ? "Edit description" : "Add a description";
    }
    if (d.context && typeof d.context === "object") {
      details.context = d.context;
      for (const key of ["mood", "activity"]) {
        const select = $(`ctx-${key}`);
        if (select) {
          const value = d.context[key] || "";
          // A value outside the vocabulary (set by an app): shown as it is, not lost.
          if (value && ![...select.options].some((o) => o.value === value)) select.append(h("option", { value }, value));
          select.value = value;
        }
        const chip = $(`pl-${key}`);
        if (chip) chip.textContent = d.context[key] || "";
      }
    }
    if (typeof d.isCollaborative === "boolean") {
      details.isCollaborative = d.isCollaborative;
      $("pl-collab").hidden = !d.isCollaborative;
      if ($("delete-others")) $("delete-others").hidden = !d.isCollaborative;
    }
  }

  function render() {
    const { tracks } = sync.state;
    $("pl-count").textContent = String(tracks.length);
    const total = tracks.reduce((sum, t) => sum + (t.durationMs || 0), 0);
    $("pl-duration").textContent = total ? ` · ${fmtTotal(total)}` : "";
    const ids = coverIds(tracks);
    if (ids.join() !== shownCover) {
      shownCover = ids.join();
      $("pl-cover").replaceChildren(mosaic(ids));
    }
  }

  // A cover that fails to load leaves its tile to the neutral background.
  $("pl-cover").addEventListener("error", (ev) => ev.target.classList.add("broken"), true);

  // The owner's edits. PATCH answers with the whole playlist: only its details are taken here,
  // the tracks and the version stay the socket's (the event of this very edit follows).
  async function patch(body, failure) {
    try {
      update(await api("PATCH", `/api/playlists/${sync.id}`, body));
      return true;
    } catch (e) {
      const fields = e.fields && Object.values(e.fields).flat().join(" ");
      toast(`${failure}: ${fields || e.message}`, "error");
      return false;
    }
  }

  const renameForm = $("rename-form");
  if (renameForm) {
    const input = $("rename-input");
    const startRename = inPlace(renameForm, nameEl.parentElement, {
      open: () => { input.value = details.name; },
      save: async () => {
        const name = input.value.trim();
        if (!name || name === details.name) return true;
        const ok = await patch({ name }, "Could not rename the playlist");
        if (ok) { toast(`Renamed to “${name}”`); $("rename-btn").focus(); }
        return ok;
      },
    });
    $("rename-btn").addEventListener("click", () => { startRename(); input.focus(); input.select(); });
  }

  const descForm = $("desc-form");
  if (descForm) {
    const input = $("desc-input");
    const descBtn = $("desc-btn");
    const startEdit = inPlace(descForm, descBtn, {
      open: () => { input.value = details.description; },
      save: async () => {
        const description = input.value.trim();
        if (description === details.description) return true;
        const ok = await patch({ description }, "Could not save the description");
        if (ok) { toast(description ? "Description saved" : "Description removed"); descBtn.focus(); }
        return ok;
      },
    });
    descBtn.addEventListener("click", () => { startEdit(); input.focus(); });
  }

  for (const key of ["mood", "activity"]) {
    const select = $(`ctx-${key}`);
    if (!select) continue;
    select.addEventListener("change", async () => {
      const value = select.value || null;
      const ok = await patch({ context: { ...details.context, [key]: value } }, `Could not set the ${key}`);
      if (ok) toast(value ? `${key === "mood" ? "Mood" : "Activity"}: ${value}` : `${key === "mood" ? "Mood" : "Activity"} cleared`);
      else select.value = details.context[key] || "";
    });
  }

  const dialog = $("delete-dialog");
  if (dialog) {
    $("delete-btn").addEventListener("click", () => { dialog.returnValue = ""; dialog.showModal(); });
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "delete") { $("delete-btn").focus(); return; }
      try {
        await api("DELETE", `/api/playlists/${sync.id}`);
      } catch (e) {
        toast(`The playlist was not deleted: ${e.message}`, "error");
        return;
      }
      toast(`Deleted “${details.name}”`);
      navigate("/playlists", { replace: true });
    });
  }

  return { render, update };
}
