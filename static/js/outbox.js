// Writes that could not reach the server, kept in order and sent again once it is reachable:
// on the browser's "online" event, when the page asks (after a reconnect), and on a capped
// backoff timer, since the server can come back without the browser seeing the network go.

export class Outbox {
  // send(op) -> Promise that rejects with an ApiError; onSent(op, answer), onRejected(op, error)
  // and onChange(size) tell the page what happened.
  constructor(send, { onSent, onRejected, onChange }) {
    this.sendOp = send;
    this.handlers = { onSent, onRejected, onChange };
    this.ops = [];
    this.busy = false;
    this.attempt = 0;
    this.onOnline = () => { this.attempt = 0; this.flush(); };
    window.addEventListener("online", this.onOnline);
  }

  // The page is going away: no more retries from it.
  dispose() {
    clearTimeout(this.timer);
    window.removeEventListener("online", this.onOnline);
  }

  get size() { return this.ops.length; }

  push(op) {
    this.ops.push(op);
    this.handlers.onChange(this.ops.length);
    if (!this.busy) this.retryLater();
  }

  // Send the queued writes one by one, oldest first; stop at the first that finds no network.
  async flush() {
    if (this.busy || !this.ops.length) return;
    this.busy = true;
    clearTimeout(this.timer);
    try {
      while (this.ops.length) {
        const op = this.ops[0];
        try {
          this.handlers.onSent(op, await this.sendOp(op));
        } catch (e) {
          if (e.code === "network_error") { this.retryLater(); return; }
          this.handlers.onRejected(op, e);
        }
        this.ops.shift();
        this.attempt = 0;
        this.handlers.onChange(this.ops.length);
      }
    } finally {
      this.busy = false;
    }
  }

  retryLater() {
    clearTimeout(this.timer);
    if (!navigator.onLine) return; // the "online" event will flush
    const delay = Math.min(30000, 1000 * 2 ** this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => this.flush(), delay);
  }
}
