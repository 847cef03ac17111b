// Play and skip signals for the recommender. A `play` once a playback of a queue item has been
// heard for half the track or 4 minutes, whichever comes first; a `skip` when the listener
// leaves it (next, previous, another track) before 30 s of listening. Time heard is time the
// audio actually played: seeking forward does not count.
// Reports wait in a list (memory + sessionStorage) and go to POST /api/interactions in batches:
// every 5 s, on track change and when the page is hidden or left. Each has an id; it leaves the
// list only when the server has taken it (202), or when it was sent on the way out of the page.
import { csrfToken } from "./api.js";

const KEY = "audotics.player.reports";
const PLAY_CAP_S = 240;
const SKIP_BELOW_S = 30;
const FLUSH_MS = 5000;
const MAX_STEP_S = 5;
const MAX_BATCH = 200; // a longer jump between two time updates is not listening (clock, stall)

// A UUID v4: the server stores a report once per id, so a batch resent after a lost answer
// counts once. crypto.randomUUID exists only on https and localhost; a home server is often
// plain http on the LAN, where getRandomValues still works.
function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class Reporter {
  constructor() {
    this.pending = [];
    this.inflight = new Set();
    try { this.pending = JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch { this.pending = []; }
    if (!Array.isArray(this.pending)) this.pending = [];
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    document.addEventListener("visibilitychange", () => { if (document.hidden) this.flush(); });
    window.addEventListener("pagehide", () => this.flushOnExit());
    if (this.pending.length) this.flush();
  }

  save() {
    try { sessionStorage.setItem(KEY, JSON.stringify(this.pending)); } catch { /* kept in memory */ }
  }

  add(trackId, type, seconds) {
    this.pending.push({
      id: newId(), trackId, type,
      context: { secondsListened: Math.round(seconds * 10) / 10, source: "player" },
    });
    this.save();
  }

  send(batch) {
    // keepalive: a batch under way when the page goes still reaches the server.
    return fetch("/api/interactions", {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(batch),
    });
  }

  async flush() {
    // keepalive bodies are capped at 64 kB: at most 200 reports (about 30 kB) a request.
    const batch = this.pending.filter((r) => !this.inflight.has(r.id)).slice(0, MAX_BATCH);
    if (!batch.length) return;
    for (const r of batch) this.inflight.add(r.id);
    let drop = false;
    try {
      const res = await this.send(batch);
      // 202: taken. Another 4xx (bad item, signed out) would fail the same way again; a 429
      // or 5xx may pass later.
      drop = res.status === 202 || (res.status >= 400 && res.status < 500 && res.status !== 429);
      if (res.status !== 202) console.warn(`Listening reports: the server answered ${res.status}`);
    } catch { /* offline: try again on the next tick */ }
    for (const r of batch) this.inflight.delete(r.id);
    if (drop) {
      const sent = new Set(batch.map((r) => r.id));
      this.pending = this.pending.filter((r) => !sent.has(r.id));
      this.save();
    }
  }

  // Signed out: what could not be sent is not sent later as whoever signs in next.
  forget() {
    this.pending = [];
    this.save();
  }

  // The page is going away: nobody will read the answer, so the batch stays in sessionStorage
  // too; the next page sends it again, and the server keeps each report id once.
  flushOnExit() {
    const batch = this.pending.filter((r) => !this.inflight.has(r.id)).slice(-MAX_BATCH);
    if (batch.length) this.send(batch).catch(() => {});
    this.save();
  }
}

// One playback of one queue item: how long it was heard and whether its `play` was reported.
// A plain object so that the player state can save it and a reload resume it.
export function listeningStart(trackId) {
  return { trackId, heard: 0, started: false, playSent: false, last: null };
}

export class ListenCounter {
  constructor(reporter) { this.reporter = reporter; }

  // A seek or a new source: the next time update starts counting from where the audio is.
  rebase(rec) { if (rec) rec.last = null; }

  // On every time update while playing. duration in seconds (NaN when unknown yet).
  progress(rec, time, duration) {
    if (!rec) return;
    rec.started = true;
    if (rec.last !== null) {
      const step = time - rec.last;
      if (step > 0 && step < MAX_STEP_S) rec.heard += step;
    }
    rec.last = time;
    const threshold = Number.isFinite(duration) && duration > 0 ? Math.min(duration / 2, PLAY_CAP_S) : PLAY_CAP_S;
    if (!rec.playSent && rec.heard >= threshold) {
      rec.playSent = true;
      this.reporter.add(rec.trackId, "play", rec.heard);
    }
  }

  // The listener moved on to another item before it ended.
  left(rec) {
    if (!rec || !rec.started || rec.playSent || rec.heard >= SKIP_BELOW_S) return;
    rec.playSent = true; // one report per playback
    this.reporter.add(rec.trackId, "skip", rec.heard);
  }
}
