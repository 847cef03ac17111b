import { api, getAll, fmtDuration, h, toast } from "./api.js";
import { likedAmong, showLiked, toggleLike } from "./likes.js";
import { lastSearch } from "./tracks-ui.js";

const dur = document.getElementById("duration");
if (dur) dur.textContent = fmtDuration(Number(dur.dataset.ms));

// Came here from a search: the way back is to those results, not to an empty catalog.
const back = document.getElementById("back-to-results");
const search = lastSearch();
if (back && search) {
  back.href = search;
  back.textContent = "← Back to the results";
}

const form = document.getElementById("add-form");
if (form) {
  const trackId = form.dataset.track;
  const select = document.getElementById("add-playlist");
  const status = document.getElementById("add-status");
  const create = document.getElementById("new-playlist-form");
  const nameInput = document.getElementById("new-playlist-name");

  // What happened, with a link to the playlist it happened to.
  const say = (text, playlist = null, ok = Boolean(playlist)) => {
    status.dataset.kind = ok ? "ok" : "error";
    status.replaceChildren(text, ...(playlist
      ? [" ", h("a", { href: `/playlists/${playlist.id}` }, "Open the playlist")] : []));
  };

  getAll("/api/playlists?pageSize=100").then((items) => {
    select.replaceChildren(...items.map((p) => new Option(p.name, p.id)));
    if (!items.length) select.replaceChildren(new Option("No playlists yet", ""));
    select.disabled = !items.length;
  }).catch((e) => say(e.message));

  async function add(playlist) {
    await api("PUT", `/api/playlists/${playlist.id}/tracks`, { trackIds: [trackId] });
    say(`Added to “${playlist.name}”.`, playlist);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!select.value) { nameInput.focus(); return; }
    const playlist = { id: select.value, name: select.selectedOptions[0].textContent };
    try {
      await add(playlist);
    } catch (e) {
      if (e.code === "duplicate_track") say(`Already in “${playlist.name}”.`, playlist, false);
      else say(e.message);
    }
  });

  // A new playlist right here, with this track in it: no trip to the Playlists page.
  create.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = nameInput.value.trim();
    if (!name) { nameInput.focus(); return; }
    const button = create.querySelector("button[type=submit]");
    button.disabled = true;
    let playlist = null;
    try {
      playlist = await api("POST", "/api/playlists", { name });
      await add(playlist);
      const option = new Option(playlist.name, playlist.id, true, true);
      if (!select.value) select.replaceChildren();
      select.prepend(option);
      select.value = playlist.id;
      select.disabled = false;
      nameInput.value = "";
    } catch (e) {
      const field = e.fields && e.fields.name ? e.fields.name.join(" ") : e.message;
      // The playlist was made but the track did not go in: say so, it is there to retry.
      say(playlist ? `Created “${playlist.name}”, but the track was not added: ${e.message}` : field,
        playlist, false);
    } finally {
      button.disabled = false;
    }
  });

  const like = document.getElementById("like-track");
  const id = like.dataset.track;
  likedAmong([id]).then((liked) => showLiked(like, liked.has(id))).catch(() => {});
  like.addEventListener("click", async () => {
    try {
      const liked = await toggleLike(like, id);
      toast(liked ? "Thanks — your recommendations will reflect this." : "Like removed.");
    } catch (e) { toast(e.message, "error"); }
  });
}
