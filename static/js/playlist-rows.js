// The rows of the track list. Every change redraws the whole list, so the focused row (and the
// focused button in it) is focused again afterwards: keyboard users keep their place.
import { h, fmtDuration } from "./api.js";
import { noAudioMark, thumb } from "./tracks-ui.js";

function trackRow(t, i, n, me) {
  const by = t.addedBy ? (t.addedBy.id === me.id ? "you" : t.addedBy.username) : "someone";
  return h("li", {
    class: "track", tabindex: "0", dataset: { id: t.id },
    "aria-label": `${i + 1}. ${t.title} by ${t.artist}, added by ${by}`,
  },
    h("span", { class: "handle", draggable: "true", title: "Drag to reorder", "aria-hidden": "true" }, "⠿"),
    h("span", { class: "pos num muted" }, String(i + 1)),
    thumb(t),
    h("div", { class: "track-main" },
      h("a", { href: `/tracks/${t.id}`, class: "track-title", tabindex: "-1" }, t.title),
      h("span", { class: "track-artist" }, t.artist),
      noAudioMark(t)),
    h("span", { class: "added-by small muted" }, t.pending ? "not sent yet" : `added by ${by}`),
    h("span", { class: "muted num hide-sm" }, fmtDuration(t.durationMs)),
    h("span", { class: "row-btns" },
      h("button", { type: "button", class: "icon-btn", "aria-label": `Move up: ${t.title}`, disabled: i === 0, dataset: { act: "up" } }, "↑"),
      h("button", { type: "button", class: "icon-btn", "aria-label": `Move down: ${t.title}`, disabled: i === n - 1, dataset: { act: "down" } }, "↓"),
      h("button", { type: "button", class: "icon-btn danger", "aria-label": `Remove: ${t.title}`, dataset: { act: "remove" } }, "✕")),
    // Every action of the row, and the only way to them on a phone (playlist-menu.js).
    h("button", {
      type: "button", class: "icon-btn more", "aria-label": `More actions: ${t.title}`,
      "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": "row-menu", dataset: { act: "menu" },
    }, "⋯"));
}

export function renderTracks(list, tracks, me) {
  const active = document.activeElement;
  const focusRow = active && list.contains(active) ? active.closest("li") : null;
  const focusId = focusRow && focusRow.dataset.id;
  const focusAct = active && active.dataset && active.dataset.act;
  list.replaceChildren(...tracks.map((t, i) => trackRow(t, i, tracks.length, me)));
  if (focusId) {
    const li = list.querySelector(`li[data-id="${CSS.escape(focusId)}"]`);
    if (li) {
      const btn = focusAct && li.querySelector(`[data-act="${focusAct}"]`);
      (btn && !btn.disabled ? btn : li).focus();
    }
  }
}
