// The Suggestions card: recommendations for this playlist, loaded when the button asks for them,
// with each member's taste match when the playlist is shared.
import { get, h } from "./api.js";
import { addButton, refreshMarks } from "./playlist-search.js";

function renderMembers(box, members, me) {
  if (!members || !members.length) { box.replaceChildren(); return; }
  box.replaceChildren(h("span", { class: "muted" }, "Taste match: "), ...members.map((m) =>
    h("span", { class: "match" }, `${m.userId === me.id ? "you" : m.username} `,
      h("meter", { min: "0", max: "100", value: String(m.tasteMatch ?? 0), "aria-label": `Taste match for ${m.username}` }),
      ` ${m.tasteMatch ?? 0}%`)));
}

function suggestionRow(t, addTrack, inPlaylist) {
  return h("li", { class: `track${inPlaylist(t.id) ? " in-playlist" : ""}`, dataset: { id: t.id } },
    h("div", { class: "track-main" },
      h("a", { href: `/tracks/${t.id}`, class: "track-title" }, t.title),
      h("span", { class: "track-artist" }, t.artist),
      t.reason ? h("span", { class: "reason small" }, t.reason) : null),
    addButton(t, inPlaylist, addTrack));
}

// addTrack(track) makes the edit (PlaylistSync.addTrack); inPlaylist(id) marks the tracks
// added since the list came. Returns { refresh() } for the page to call when tracks change.
export function enableSuggestions(playlistId, me, addTrack, inPlaylist) {
  const ul = document.getElementById("suggestions");
  const members = document.getElementById("sugg-members");
  let shown = [];
  document.getElementById("sugg-load").addEventListener("click", async (ev) => {
    ev.target.textContent = "Refresh suggestions";
    ul.setAttribute("aria-busy", "true");
    try {
      const data = await get(`/api/playlists/${playlistId}/recommendations?limit=10`);
      const tracks = Array.isArray(data) ? data : (data.tracks || data.results || []);
      renderMembers(members, data.members, me);
      shown = tracks;
      ul.replaceChildren(...tracks.map((t) => suggestionRow(t, addTrack, inPlaylist)));
      if (!tracks.length) ul.replaceChildren(h("li", { class: "muted" }, "No suggestions yet."));
    } catch (e) {
      ul.replaceChildren(h("li", { class: "muted" }, e.status === 404 ? "Suggestions are not available yet." : e.message));
    } finally { ul.removeAttribute("aria-busy"); }
  });
  const load = document.getElementById("sugg-load");
  return { refresh: () => refreshMarks(ul, shown, (t) => suggestionRow(t, addTrack, inPlaylist), inPlaylist, load) };
}
