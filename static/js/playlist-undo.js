// Removing a track can be taken back: a toast says "Removed X" with an Undo button (Ctrl+Z or
// ⌘+Z does the same while it shows), which adds the track again where it was: after the track
// that preceded it, if that one is still there, else at its old position.
import { toast } from "./api.js";

const OFFER_MS = 8000;

// sync: the page's PlaylistSync. Returns remove(id) -> Promise<bool> (whether it stands).
export function enableUndoableRemoval(sync, announce) {
  let offer = null; // the latest removal: { track, index, previousId }

  async function restore(removed) {
    offer = null;
    const { state } = sync;
    if (sync.indexOf(removed.track.id) >= 0) return; // someone added it back already
    const j = removed.previousId === null ? -1 : sync.indexOf(removed.previousId);
    const position = removed.previousId === null ? 0
      : j >= 0 ? j + 1 : Math.min(removed.index, state.tracks.length);
    const subject = `“${removed.track.title}”`;
    announce(`${removed.track.title} is back at position ${position + 1}`);
    // Through PlaylistSync.write like any edit: shown at once, sent (or queued offline), and
    // undone with the banner's explanation if the server refuses it.
    try {
      await sync.write("PUT", `/api/playlists/${sync.id}/tracks`, { trackIds: [removed.track.id], position }, {
        subject,
        optimistic: () => { state.tracks.splice(position, 0, { ...removed.track, pending: true }); },
      });
      toast(`Put back ${subject}`);
    } catch (e) { /* the banner says why */ }
  }

  async function remove(id) {
    const index = sync.indexOf(id);
    if (index < 0) return false;
    const track = sync.state.tracks[index];
    const previousId = index > 0 ? sync.state.tracks[index - 1].id : null;
    if (!(await sync.removeTrack(id))) return false;
    const removed = { track, index, previousId };
    offer = removed;
    toast(`Removed “${track.title}”`, "info", { label: "Undo", ms: OFFER_MS, onClick: () => restore(removed) });
    return true;
  }

  function onKey(ev) {
    if (!offer || !(ev.ctrlKey || ev.metaKey) || ev.shiftKey || ev.altKey || ev.key.toLowerCase() !== "z") return;
    // Text fields keep their own undo.
    if (ev.target.closest && ev.target.closest("input, textarea, select, [contenteditable]")) return;
    // Only while the offer is on show: another message in the toast, or its end, ends it.
    const shown = document.getElementById("toast");
    if (!shown || !shown.classList.contains("show") || !shown.querySelector(".toast-action")) { offer = null; return; }
    ev.preventDefault();
    shown.classList.remove("show");
    restore(offer);
  }
  document.addEventListener("keydown", onKey);

  return { remove, dispose: () => document.removeEventListener("keydown", onKey) };
}
