// The "Add tracks" card: search the catalog as you type, add a result with its button. A track
// already in the playlist is marked and cannot be added twice (the server would refuse it).
import { get, debounce, h, toast } from "./api.js";

const MAX_RESULTS = 10; // a side card, not the catalog: the first few are what one picks from

// A result's button: "Add", or a disabled mark for a track in the playlist (its row names the
// track). The mark never says "added", so that a search for "Add" buttons finds addable ones.
export function addButton(t, inPlaylist, addTrack) {
  if (inPlaylist(t.id)) {
    return h("button", { type: "button", class: "btn btn-small btn-ghost in-pl", disabled: true }, "✓ In playlist");
  }
  return h("button", { type: "button", class: "btn btn-small", "aria-label": `Add ${t.title} by ${t.artist}`, onclick: () => addTrack(t) }, "Add");
}

// Redraws only the rows of `ul` whose mark changed (a track added or removed since), so that
// the list does not flicker on every edit and focus stays put: a focused Add that becomes a
// mark hands focus to the next Add, else to `fallback`.
export function refreshMarks(ul, shown, row, inPlaylist, fallback) {
  for (const t of shown) {
    const li = ul.querySelector(`li[data-id="${CSS.escape(t.id)}"]`);
    if (!li || li.classList.contains("in-playlist") === inPlaylist(t.id)) continue;
    const hadFocus = li.contains(document.activeElement);
    const fresh = row(t);
    li.replaceWith(fresh);
    if (!hadFocus) continue;
    let next = fresh.querySelector("button:not(:disabled)");
    for (let sib = fresh.nextElementSibling; !next && sib; sib = sib.nextElementSibling) {
      next = sib.querySelector("button:not(:disabled)");
    }
    (next || fallback).focus();
  }
}

// addTrack(track) makes the edit (PlaylistSync.addTrack); inPlaylist(id) says whether a track
// is in the playlist. Returns { refresh() }, for the page to call when the tracks change.
export function enableTrackSearch(addTrack, inPlaylist) {
  const input = document.getElementById("add-q");
  const results = document.getElementById("add-results");
  let seq = 0;
  let shown = [];

  function resultRow(t) {
    return h("li", { class: `track${inPlaylist(t.id) ? " in-playlist" : ""}`, dataset: { id: t.id } },
      h("div", { class: "track-main" }, h("span", { class: "track-title" }, t.title), h("span", { class: "track-artist" }, t.artist)),
      addButton(t, inPlaylist, addTrack));
  }

  const search = debounce(async () => {
    const mine = ++seq;
    const q = input.value.trim();
    if (!q) { shown = []; results.replaceChildren(); return; }
    try {
      const data = await get(`/api/tracks?q=${encodeURIComponent(q)}`);
      if (mine !== seq) return; // a newer search already answered
      shown = data.results.slice(0, MAX_RESULTS);
      results.replaceChildren(...shown.map(resultRow));
      if (!shown.length) results.replaceChildren(h("li", { class: "muted" }, "No tracks found."));
    } catch (e) { toast(e.message, "error"); }
  }, 250);
  input.addEventListener("input", search);
  if (input.value.trim()) search(); // typed while the page's scripts were loading

  return { refresh: () => refreshMarks(results, shown, resultRow, inPlaylist, input) };
}
