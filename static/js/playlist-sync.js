// The playlist as this page knows it (version, tracks, people) and the edits made to it. The
// server is the authority: REST answers, socket events and snapshots all carry a version, and
// only a newer one replaces what is shown, so they converge whatever order they arrive in.
import { api, get, toast } from "./api.js";
import { Outbox } from "./outbox.js";

// What went wrong with a write the server refused, and what the user can do about it.
function refusal(e, subject) {
  if (e.code === "duplicate_track") return `${subject || "That track"} is already in this playlist. Pick another track to add.`;
  if (e.code === "version_conflict") return "Someone changed the playlist at the same moment. The list is up to date now: try again.";
  if (e.status === 404) return "This playlist is gone or no longer shared with you. Go back to your playlists.";
  if (e.code === "too_large") return `${e.message} Remove some tracks first.`;
  return `Your change was not saved: ${e.message} Try again.`;
}

export class PlaylistSync {
  // initial: the page's playlist-data; me: the signed-in user; banner: the page's Banner.
  // render() redraws the page from `state`; announce(text) tells screen readers what changed;
  // requestSnapshot() asks the socket for a SNAPSHOT, false when it is not open;
  // updated(details) shows what changed of name, description, context, isCollaborative.
  constructor(initial, me, banner, { render, announce, requestSnapshot, updated }) {
    this.id = initial.id;
    this.me = me;
    this.banner = banner;
    this.handlers = { render, announce, requestSnapshot, updated };
    this.state = {
      version: initial.version,
      tracks: initial.tracks,
      collaborators: initial.collaborators || [],
      owner: initial.owner,
      isCollaborative: initial.isCollaborative,
    };
    this.resyncing = false;
    this.outbox = new Outbox((op) => api(op.method, op.path, op.body), {
      onSent: (op, answer) => this.applyAnswer(answer),
      onRejected: (op, e) => {
        // Sent before the network went, its answer lost: the track is there, as asked.
        if (e.code === "duplicate_track") return;
        banner.set("notice", refusal(e, op.subject), "error", { autohide: 10000 });
        this.resync();
      },
      onChange: (size) => this.showOutbox(size),
    });
    // Edits not sent yet: ask before the page is left, by a full load or by the shell.
    this.onLeaving = (ev) => { if (this.outbox.size) ev.preventDefault(); };
    window.addEventListener("beforeunload", this.onLeaving);
    window.addEventListener("audotics:beforeleave", this.onLeaving);
  }

  dispose() {
    window.removeEventListener("beforeunload", this.onLeaving);
    window.removeEventListener("audotics:beforeleave", this.onLeaving);
    this.outbox.dispose();
  }

  indexOf(trackId) { return this.state.tracks.findIndex((t) => t.id === trackId); }

  // A whole playlist from a REST answer; `force` takes it even when not newer (a fresh GET).
  applyState(p, { force = false } = {}) {
    const { state } = this;
    if (!force && p.version <= state.version) return; // an event already brought us further
    state.version = p.version;
    state.tracks = p.tracks;
    if (p.collaborators) state.collaborators = p.collaborators;
    if (typeof p.isCollaborative === "boolean") state.isCollaborative = p.isCollaborative;
    this.handlers.render();
  }

  // A write's answer: track writes answer with the change (`PlaylistChange`, the same data as
  // the socket's event, which may already have brought it), other writes with the playlist.
  applyAnswer(answer) {
    if (!answer) return;
    if (answer.type) this.applyEvent({ ...answer, userId: this.me.id });
    else this.applyState(answer);
  }

  // The socket's SNAPSHOT, on (re)connecting or in answer to RESYNC: then send what waited.
  applySnapshot(s) {
    this.resyncing = false;
    this.state.version = s.version;
    this.state.tracks = s.tracks;
    // The details too: a page back from sleep has missed any rename or new member meanwhile.
    if (s.playlist) {
      if (s.playlist.collaborators) this.state.collaborators = s.playlist.collaborators;
      this.state.isCollaborative = s.playlist.isCollaborative;
      this.handlers.updated(s.playlist);
    }
    this.handlers.render();
    this.outbox.flush();
  }

  applyEvent(ev) {
    const { state } = this;
    if (typeof ev.version !== "number" || ev.version <= state.version) return; // seen already
    if (ev.version > state.version + 1) {
      // A version is missing: ask for a fresh snapshot rather than guess.
      this.resync();
      return;
    }
    const d = ev.data || {};
    const who = ev.userId === this.me.id ? null : "A collaborator";
    if (ev.type === "TRACK_ADDED") {
      // The server's entries replace any shown ahead of its answer (our own add, not sent yet).
      const incoming = d.tracks || [];
      const ids = new Set(incoming.map((t) => t.id));
      state.tracks = state.tracks.filter((t) => !ids.has(t.id));
      const at = Math.min(typeof d.position === "number" ? d.position : state.tracks.length, state.tracks.length);
      state.tracks.splice(at, 0, ...incoming);
      if (who) this.handlers.announce(`${who} added ${incoming.map((t) => t.title).join(", ")}`);
    } else if (ev.type === "TRACK_REMOVED") {
      const ids = new Set(d.trackIds || []);
      state.tracks = state.tracks.filter((t) => !ids.has(t.id));
      if (who) this.handlers.announce(`${who} removed ${ids.size} track${ids.size === 1 ? "" : "s"}`);
    } else if (ev.type === "TRACK_MOVED") {
      const i = this.indexOf(d.trackId);
      if (i >= 0) {
        const [t] = state.tracks.splice(i, 1);
        state.tracks.splice(Math.min(d.toPosition, state.tracks.length), 0, t);
      }
    } else if (ev.type === "PLAYLIST_UPDATED") {
      if (d.deleted) {
        this.banner.set("fatal", "This playlist was deleted. Go back to your playlists.", "error");
        return;
      }
      if (typeof d.isCollaborative === "boolean") state.isCollaborative = d.isCollaborative;
      this.handlers.updated(d);
      if (d.collaboratorAdded && !state.collaborators.some((c) => c.id === d.collaboratorAdded.id)) {
        state.collaborators.push(d.collaboratorAdded);
      }
      if (d.collaboratorRemoved) {
        state.collaborators = state.collaborators.filter((c) => c.id !== d.collaboratorRemoved.id);
      }
    }
    state.version = ev.version;
    this.handlers.render();
  }

  async resync() {
    // One RESYNC at a time: later out-of-order events are covered by the coming SNAPSHOT.
    if (this.resyncing) return;
    this.resyncing = true;
    setTimeout(() => { this.resyncing = false; }, 3000);
    if (this.handlers.requestSnapshot()) return;
    this.resyncing = false;
    try {
      this.applyState(await get(`/api/playlists/${this.id}`), { force: true });
    } catch (e) { /* the reconnect will bring a snapshot */ }
  }

  showOutbox(size) {
    if (!size) {
      this.banner.clear("outbox");
      toast("Your changes are saved.");
      if (this.state.tracks.some((t) => t.pending)) this.resync(); // the server's list, not our guess
      return;
    }
    const changes = size === 1 ? "1 change" : `${size} changes`;
    const why = navigator.onLine ? "Cannot reach Audotics" : "You are offline";
    this.banner.set("outbox", `${why}: ${changes} will be sent when the connection is back.`, "warn");
  }

  // Writes go through REST; the answer (the change) is applied if it is newer than what the
  // socket already delivered, so both orders of arrival converge. Without network a write
  // waits in the outbox (after any already waiting, to keep their order) and is shown meanwhile.
  async write(method, path, body, { optimistic, subject } = {}) {
    const { state, outbox } = this;
    const before = state.tracks.slice();
    if (optimistic) { optimistic(); this.handlers.render(); }
    const op = { method, path, body, subject };
    if (outbox.size) {
      outbox.push(op);
      if (navigator.onLine) outbox.flush();
      return null;
    }
    try {
      const answer = await api(method, path, body);
      this.applyAnswer(answer);
      return answer;
    } catch (e) {
      if (e.code === "network_error") { outbox.push(op); return null; }
      if (optimistic) { state.tracks = before; this.handlers.render(); }
      this.banner.set("notice", refusal(e, subject), "error", { autohide: 10000 });
      this.resync();
      throw e;
    }
  }

  // The edits below never reject: a refused one is undone and the banner says why.

  moveTrack(id, to) {
    const { state } = this;
    const from = this.indexOf(id);
    if (from < 0 || to < 0 || to >= state.tracks.length || to === from) return;
    const t = state.tracks[from];
    this.handlers.announce(`${t.title} moved to position ${to + 1}`);
    return this.write("POST", `/api/playlists/${this.id}/tracks/move`, { trackId: id, position: to }, {
      optimistic: () => { state.tracks.splice(from, 1); state.tracks.splice(to, 0, t); },
    }).catch(() => {});
  }

  // Resolves to whether the removal stands (sent or waiting to be), so focus can move on.
  removeTrack(id) {
    const t = this.state.tracks.find((x) => x.id === id);
    this.handlers.announce(`${t ? t.title : "Track"} removed`);
    return this.write("DELETE", `/api/playlists/${this.id}/tracks`, { trackIds: [id] }, {
      optimistic: () => { this.state.tracks = this.state.tracks.filter((x) => x.id !== id); },
    }).then(() => true, () => false);
  }

  // The playlist service records the `add` interaction: the page posts none of its own.
  addTrack(track) {
    const subject = `“${track.title}”`;
    const shown = this.state.tracks.some((t) => t.id === track.id);
    return this.write("PUT", `/api/playlists/${this.id}/tracks`, { trackIds: [track.id] }, {
      subject,
      optimistic: shown ? null : () => { this.state.tracks.push({ ...track, addedBy: this.me, pending: true }); },
    }).then((p) => { if (p) toast(`Added ${subject}`); }).catch(() => {});
  }
}
