// What the player plays and where it is: the queue, the position in it and in the track, the
// volume, and how much of the current track was heard. Kept in sessionStorage, so a reload of
// the tab (or a full page load the shell falls back to) brings it back, paused.

const KEY = "audotics.player";

// Only what the bar and the stream need: lists send whole Track objects.
export function slimTrack(t) {
  return {
    id: String(t.id), title: t.title || "", artist: t.artist || "", album: t.album || "",
    hasCover: Boolean(t.hasCover), durationMs: Number(t.durationMs) || 0,
  };
}

export class PlayerState {
  constructor() {
    this.tracks = [];
    this.index = -1;
    this.position = 0; // seconds into the current track, saved every few seconds
    this.volume = 1;
    this.muted = false;
    this.source = ""; // the list the queue came from ("Discover", "Catalog search"...)
    this.listening = null; // the Listening record of the current item (player-report.js)
    this.restore();
  }

  restore() {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { saved = null; }
    if (!saved || !Array.isArray(saved.tracks)) return;
    this.tracks = saved.tracks.filter((t) => t && t.id).map(slimTrack);
    this.index = Number.isInteger(saved.index) && saved.index < this.tracks.length ? saved.index : -1;
    this.position = Number(saved.position) || 0;
    this.volume = Math.min(1, Math.max(0, Number(saved.volume ?? 1)));
    this.muted = Boolean(saved.muted);
    this.source = String(saved.source || "");
    this.listening = saved.listening && typeof saved.listening === "object" ? saved.listening : null;
  }

  save() {
    if (this.forgotten) return;
    const { tracks, index, position, volume, muted, source, listening } = this;
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ tracks, index, position, volume, muted, source, listening }));
    } catch { /* private mode or full storage: the player still works, it only forgets */ }
  }

  // Signed out: nothing of this session's listening stays in the tab.
  forget() {
    this.forgotten = true;
    try { sessionStorage.removeItem(KEY); } catch { /* nothing kept */ }
  }

  get current() { return this.tracks[this.index] || null; }
  get hasNext() { return this.index >= 0 && this.index < this.tracks.length - 1; }
  get hasPrevious() { return this.index > 0; }

  replace(tracks, source) {
    this.tracks = tracks.map(slimTrack);
    this.source = source || "";
    this.index = -1;
    this.position = 0;
  }
}
