// The "Add tracks" card: search the catalog as you type, add a result with its button.
import { get, debounce, h, toast } from "./api.js";

const MAX_RESULTS = 10; // a side card, not the catalog: the first few are what one picks from

// addTrack(track) makes the edit (PlaylistSync.addTrack).
export function enableTrackSearch(addTrack) {
  const input = document.getElementById("add-q");
  const results = document.getElementById("add-results");
  let seq = 0;

  function resultRow(t) {
    return h("li", { class: "track" },
      h("div", { class: "track-main" }, h("span", { class: "track-title" }, t.title), h("span", { class: "track-artist" }, t.artist)),
      h("button", { type: "button", class: "btn btn-small", "aria-label": `Add ${t.title} by ${t.artist}`, onclick: () => addTrack(t) }, "Add"));
  }

  input.addEventListener("input", debounce(async () => {
    const mine = ++seq;
    const q = input.value.trim();
    if (!q) { results.replaceChildren(); return; }
    try {
      const data = await get(`/api/tracks?q=${encodeURIComponent(q)}`);
      if (mine !== seq) return; // a newer search already answered
      results.replaceChildren(...data.results.slice(0, MAX_RESULTS).map(resultRow));
      if (!data.results.length) results.replaceChildren(h("li", { class: "muted" }, "No tracks found."));
    } catch (e) { toast(e.message, "error"); }
  }, 250));
}
