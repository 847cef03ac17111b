// One status line for the playlist page, showing the most important thing the user must know:
// a dead end (signed out, no access, deleted), then edits not sent yet, then the connection,
// then short notices (a rejected edit, a restored connection) that clear by themselves.

const ORDER = ["fatal", "outbox", "connection", "notice"];

export class Banner {
  constructor(el) {
    this.el = el;
    this.layers = {};
    this.timers = {};
  }

  // kind: ok | warn | error (the CSS colours it); autohide: ms, 0 to keep it.
  set(layer, text, kind, { autohide = 0 } = {}) {
    clearTimeout(this.timers[layer]);
    this.layers[layer] = { text, kind };
    if (autohide) this.timers[layer] = setTimeout(() => this.clear(layer), autohide);
    this.paint();
  }

  clear(layer) {
    clearTimeout(this.timers[layer]);
    delete this.layers[layer];
    this.paint();
  }

  paint() {
    const top = ORDER.map((name) => this.layers[name]).find(Boolean);
    this.el.hidden = !top;
    if (!top) return;
    if (this.el.textContent !== top.text) this.el.textContent = top.text;
    this.el.dataset.kind = top.kind;
  }
}
