// The player's side of the track lists. A play button anywhere on the page starts its list (the
// play buttons of the nearest [data-queue] element, in page order, those with audio) from that
// track on, or pauses and resumes the track already playing. The current track's buttons and
// rows show it, also in lists drawn later (a MutationObserver on <main>, which the shell and the
// pages redraw). And the queue panel of the bar.
import { h } from "./api.js";

let shown = { id: null, playing: false };

function trackOf(button) {
  const d = button.dataset;
  return {
    id: d.play, title: d.title || "", artist: d.artist || "", album: d.album || "",
    hasCover: d.cover === "1", durationMs: Number(d.ms) || 0,
  };
}

function paint() {
  for (const button of document.querySelectorAll("button[data-play]")) {
    const on = Boolean(shown.id) && button.dataset.play === shown.id;
    const state = on && shown.playing ? "playing" : "paused";
    const row = button.closest("li, article");
    if (row) row.classList.toggle("now-playing", on);
    button.classList.toggle("is-current", on);
    if (button.dataset.state === state || button.dataset.audio !== "1") continue;
    button.dataset.state = state;
    const what = `${button.dataset.title} by ${button.dataset.artist}`;
    button.setAttribute("aria-label", `${state === "playing" ? "Pause" : "Play"} ${what}`);
  }
}

export function markLists(id, playing) {
  shown = { id: id || null, playing: Boolean(playing) };
  paint();
}

export function enableLists(player) {
  document.addEventListener("click", (ev) => {
    const button = ev.target instanceof Element && ev.target.closest("button[data-play]");
    if (!button || button.disabled || button.dataset.audio !== "1") return;
    const current = player.current;
    if (current && current.id === button.dataset.play) { player.toggle(); return; }
    const box = button.closest("[data-queue]");
    const all = box ? [...box.querySelectorAll('button[data-play][data-audio="1"]')] : [button];
    player.playFrom(all.slice(all.indexOf(button)).map(trackOf), box ? box.dataset.queue : "");
  });
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; paint(); });
  }).observe(document.getElementById("main"), { childList: true, subtree: true });
}

// The queue panel (drawn only while open): every item, the current one marked; one jumps there.
export function renderQueue(list, state, jump) {
  if (list.closest("[hidden]")) return;
  const heading = document.getElementById("player-queue-h");
  heading.textContent = state.source ? `Queue · from ${state.source}` : "Queue";
  list.replaceChildren(...state.tracks.map((t, i) => h("li", null,
    h("button", {
      type: "button", class: "queue-item", "aria-current": i === state.index ? "true" : null,
      onclick: () => jump(i),
    }, h("span", { class: "queue-title" }, t.title), h("span", { class: "queue-artist" }, t.artist)))));
  const current = list.querySelector('[aria-current="true"]');
  if (current) current.scrollIntoView({ block: "nearest" });
}
