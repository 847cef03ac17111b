// The playlist room over WebSocket (SPEC.md §5): session-cookie auth, SNAPSHOT then versioned
// events, PING keep-alive, reconnect with capped exponential backoff and jitter.
// Statuses: connecting, live, lost, reconnecting, restored, offline, and the fatal ones below.

const FATAL = { 4401: "signed_out", 4403: "forbidden", 4404: "gone" };
const PROBE_MS = 5000; // an open socket that answers no PING within this is dead

export class LiveRoom {
  constructor(playlistId, { onSnapshot, onEvent, onPresence, onStatus }) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/playlists/${playlistId}/`;
    this.handlers = { onSnapshot, onEvent, onPresence, onStatus };
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.everConnected = false;
    this.onOffline = () => this.status("offline");
    this.onOnline = () => this.networkBack();
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("online", this.onOnline);
  }

  // The page is going away (the shell shows another): no more reconnects, pings or statuses.
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stopPing();
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("online", this.onOnline);
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onmessage = null;
    // Closing a socket still connecting makes the browser log an error: close it once open.
    if (ws.readyState === WebSocket.CONNECTING) ws.onopen = () => ws.close(1000);
    else ws.close(1000);
  }

  status(name, info = {}) { if (!this.stopped) this.handlers.onStatus(name, info); }

  // The network is back. A socket that stayed open through the outage may be dead without
  // knowing it (no close frame ever came), so it must answer a PING or be replaced.
  networkBack() {
    if (!this.isOpen()) { this.connectNow(); return; }
    this.status("live");
    const ws = this.ws, asked = Date.now();
    this.send({ type: "PING" });
    setTimeout(() => { if (this.ws === ws && this.lastSeen < asked) ws.close(); }, PROBE_MS);
  }

  isOpen() { return this.ws && this.ws.readyState === WebSocket.OPEN; }

  connect() {
    if (this.stopped) return;
    this.handlers.onStatus(this.everConnected ? "reconnecting" : "connecting", {});
    const ws = new WebSocket(this.url);
    this.ws = ws;
    let synced = false; // this socket's first SNAPSHOT is the (re)connection; later ones answer RESYNC
    ws.onopen = () => { this.lastSeen = Date.now(); this.startPing(); };
    ws.onmessage = (m) => {
      this.lastSeen = Date.now();
      let frame;
      try { frame = JSON.parse(m.data); } catch { return; }
      if (frame.type === "SNAPSHOT") {
        const first = !synced, again = this.everConnected;
        synced = true;
        this.everConnected = true;
        this.attempt = 0;
        this.handlers.onSnapshot(frame);
        if (frame.presence) this.handlers.onPresence(frame.presence);
        if (first) this.handlers.onStatus(again ? "restored" : "live", {});
      } else if (frame.type === "PRESENCE") {
        this.handlers.onPresence((frame.data && frame.data.presence) || []);
      } else if (frame.type === "PONG" || frame.type === "ACK") {
        // keep-alive / acknowledgements: nothing to do
      } else if (frame.type === "ERROR") {
        console.warn("Playlist socket error", frame.error);
      } else {
        this.handlers.onEvent(frame);
      }
    };
    ws.onclose = (ev) => {
      this.stopPing();
      if (this.ws !== ws) return;
      this.ws = null;
      if (FATAL[ev.code]) {
        this.stopped = true;
        this.handlers.onStatus(FATAL[ev.code], { code: ev.code });
        return;
      }
      this.scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows and handles it */ };
  }

  scheduleReconnect() {
    if (this.stopped) return;
    const base = Math.min(10000, 500 * 2 ** this.attempt);
    const delay = Math.round(base / 2 + Math.random() * base / 2);
    this.attempt += 1;
    this.handlers.onStatus("lost", { delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  connectNow() { clearTimeout(this.timer); this.connect(); }

  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (!this.isOpen()) return;
      if (Date.now() - this.lastSeen > 45000) { this.ws.close(); return; } // half-open socket
      this.send({ type: "PING" });
    }, 20000);
  }

  stopPing() { clearInterval(this.pingTimer); }

  send(frame) {
    if (!this.isOpen()) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  resync() { return this.send({ type: "RESYNC" }); }

  // For tests and debugging: drop the connection as a network failure would.
  drop() { if (this.ws) this.ws.close(); }
}
