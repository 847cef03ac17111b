// The player bar (templates/web/_player.html). It sits outside <main>, which the shell
// (shell.js) swaps on navigation, so one <audio> element plays on across pages. The queue is the
// list a play button was pressed in, from that track on (player-lists.js); its state survives a
// reload in sessionStorage (player-state.js); listening is reported as plays and skips
// (player-report.js); keys and the system's media controls drive it too (player-keys.js).
import { toast } from "./api.js";
import { PlayerState } from "./player-state.js";
import { Reporter, ListenCounter, listeningStart } from "./player-report.js";
import { enableKeys, mediaSession } from "./player-keys.js";
import { enableLists, markLists, renderQueue } from "./player-lists.js";
import { coverUrl, fmt, streamUrl } from "./tracks-ui.js";

const $ = (id) => document.getElementById(id);
const bar = $("player");
const audio = $("player-audio");
const ui = {
  cover: $("player-cover"), title: $("player-title"), artist: $("player-artist"),
  toggle: $("player-toggle"), prev: $("player-prev"), next: $("player-next"),
  seek: $("player-seek"), elapsed: $("player-elapsed"), total: $("player-total"),
  mute: $("player-mute"), volume: $("player-volume"), live: $("player-live"),
  queueToggle: $("player-queue-toggle"), queue: $("player-queue"), queueList: $("player-queue-list"),
};

const state = new PlayerState();
const reporter = new Reporter();
const counter = new ListenCounter(reporter);
let pendingSeek = null; // where to go once the new source knows its duration
let wantPlay = false; // the listener asked for sound (an error then moves on to the next track)
let dragging = false; // the seek slider is being moved: time updates must not fight it
let savedAt = 0;

function duration() {
  if (Number.isFinite(audio.duration) && audio.duration > 0) return audio.duration;
  const t = state.current;
  return t && t.durationMs ? t.durationMs / 1000 : 0;
}

// ------------------------------------------------------------------------------ drawing

function paintTrack() {
  const t = state.current;
  bar.hidden = !t;
  document.body.classList.toggle("has-player", Boolean(t));
  if (!t) return;
  ui.title.textContent = t.title;
  ui.title.href = `/tracks/${encodeURIComponent(t.id)}`;
  ui.artist.textContent = t.artist;
  ui.cover.hidden = !t.hasCover;
  if (t.hasCover) ui.cover.src = coverUrl(t.id, "small");
  else ui.cover.removeAttribute("src");
  ui.next.disabled = !state.hasNext;
  media.metadata(t);
  renderQueue(ui.queueList, state, jump);
  markLists(t.id, !audio.paused);
}

function paintPlaying() {
  const playing = !audio.paused;
  ui.toggle.dataset.state = playing ? "playing" : "paused";
  ui.toggle.setAttribute("aria-label", playing ? "Pause" : "Play");
  bar.dataset.state = playing ? "playing" : "paused";
  media.playing(playing);
  media.position(audio);
  const t = state.current;
  markLists(t && t.id, playing);
}

function paintTime() {
  const d = duration();
  const now = dragging ? Number(ui.seek.value) : audio.currentTime || pendingSeek || 0;
  ui.seek.max = String(d || 0);
  if (!dragging) ui.seek.value = String(now);
  ui.elapsed.textContent = fmt(now);
  ui.total.textContent = fmt(d);
  ui.seek.setAttribute("aria-valuetext", `${fmt(now)} of ${fmt(d)}`);
}

function paintVolume() {
  ui.mute.setAttribute("aria-pressed", String(audio.muted));
  ui.mute.setAttribute("aria-label", audio.muted ? "Unmute" : "Mute");
  ui.mute.dataset.state = audio.muted || audio.volume === 0 ? "muted" : "on";
  ui.volume.value = String(audio.muted ? 0 : audio.volume);
}

function saveSoon(force) {
  const now = Date.now();
  if (!force && now - savedAt < 2000) return;
  savedAt = now;
  if (state.current && audio.readyState > 0) state.position = audio.currentTime;
  state.save();
}

// ------------------------------------------------------------------------------ playing

// Start item `index` of the queue. `resume` is a saved listening record (after a reload).
function load(index, { autoplay = true, position = 0, announce = true, resume = null } = {}) {
  state.index = index;
  const t = state.current;
  if (!t) return;
  state.position = position;
  state.listening = resume || listeningStart(t.id);
  counter.rebase(state.listening);
  pendingSeek = position > 0 ? position : null;
  audio.src = streamUrl(t.id);
  paintTrack();
  paintTime();
  if (announce) ui.live.textContent = `Now playing: ${t.title} by ${t.artist}`;
  saveSoon(true);
  reporter.flush();
  if (autoplay) play();
  else paintPlaying();
}

// The listener leaves the current item for another one: maybe a skip.
function leaveCurrent() {
  if (state.current && !audio.ended) counter.left(state.listening);
}

function play() {
  if (!state.current) return;
  wantPlay = true;
  const p = audio.play();
  if (p) p.catch((e) => { if (e.name === "NotAllowedError") { wantPlay = false; paintPlaying(); } });
}

function pause() {
  wantPlay = false;
  audio.pause();
}

function toggle() { if (audio.paused) play(); else pause(); }

function next() {
  if (!state.hasNext) return;
  leaveCurrent();
  load(state.index + 1);
}

// Back to the start of the track, or to the previous one when near its start already.
function previous() {
  if (!state.current) return;
  if (audio.currentTime > 3 || !state.hasPrevious) { seekTo(0); play(); return; }
  leaveCurrent();
  load(state.index - 1);
}

function jump(index) {
  if (index === state.index) { toggle(); return; }
  leaveCurrent();
  load(index);
}

function seekTo(seconds) {
  if (!state.current) return;
  const d = duration();
  const to = Math.max(0, d ? Math.min(seconds, Math.max(0, d - 0.25)) : seconds);
  counter.rebase(state.listening);
  if (audio.readyState === 0) pendingSeek = to;
  else audio.currentTime = to;
  paintTime();
  media.position(audio);
}

function seekBy(delta) { seekTo((audio.currentTime || 0) + delta); }

function toggleMute() {
  if (audio.muted || audio.volume === 0) {
    audio.muted = false;
    if (audio.volume === 0) audio.volume = 0.5;
  } else {
    audio.muted = true;
  }
}

// A play button in a list: the queue becomes that list from the pressed track on.
function playFrom(tracks, source) {
  if (!tracks.length) return;
  leaveCurrent();
  state.replace(tracks, source);
  load(0);
}

// ------------------------------------------------------------------------------ wiring

const player = {
  get current() { return state.current; },
  get playing() { return !audio.paused; },
  audio, play, pause, toggle, next, previous, seekTo, seekBy, toggleMute, playFrom,
};
const media = mediaSession(player);

audio.addEventListener("play", paintPlaying);
audio.addEventListener("pause", () => { paintPlaying(); saveSoon(true); });
audio.addEventListener("playing", () => { counter.rebase(state.listening); paintPlaying(); });
audio.addEventListener("seeking", () => counter.rebase(state.listening));
audio.addEventListener("loadedmetadata", () => {
  if (pendingSeek !== null) {
    audio.currentTime = Math.min(pendingSeek, Math.max(0, audio.duration - 0.25));
    pendingSeek = null;
  }
  paintTime();
  media.position(audio);
});
audio.addEventListener("durationchange", paintTime);
audio.addEventListener("timeupdate", () => {
  if (!audio.paused && !audio.seeking) counter.progress(state.listening, audio.currentTime, duration());
  paintTime();
  saveSoon(false);
});
audio.addEventListener("seeked", () => media.position(audio));
audio.addEventListener("ended", () => {
  if (state.hasNext) { load(state.index + 1); return; }
  wantPlay = false;
  state.position = 0;
  state.listening = listeningStart(state.current.id); // played again, it may count again
  state.save();
  paintPlaying();
});
audio.addEventListener("error", () => {
  const t = state.current;
  if (!t || !audio.getAttribute("src")) return;
  toast(`“${t.title}” cannot be played right now.`, "error");
  if (wantPlay && state.hasNext) setTimeout(() => { if (state.current === t) load(state.index + 1); }, 1200);
  else { wantPlay = false; paintPlaying(); }
});
audio.addEventListener("volumechange", () => {
  state.volume = audio.volume;
  state.muted = audio.muted;
  paintVolume();
  saveSoon(true);
});

ui.toggle.addEventListener("click", toggle);
ui.prev.addEventListener("click", previous);
ui.next.addEventListener("click", next);
ui.mute.addEventListener("click", toggleMute);
ui.volume.addEventListener("input", () => {
  audio.volume = Number(ui.volume.value);
  audio.muted = audio.volume === 0;
});
ui.seek.addEventListener("input", () => { dragging = true; paintTime(); });
ui.seek.addEventListener("change", () => { dragging = false; seekTo(Number(ui.seek.value)); });
ui.seek.addEventListener("blur", () => { dragging = false; });
ui.queueToggle.addEventListener("click", () => {
  const open = ui.queue.hidden;
  ui.queue.hidden = !open;
  ui.queueToggle.setAttribute("aria-expanded", String(open));
  if (open) renderQueue(ui.queueList, state, jump);
});
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && !ui.queue.hidden && bar.contains(document.activeElement)) {
    ui.queue.hidden = true;
    ui.queueToggle.setAttribute("aria-expanded", "false");
    ui.queueToggle.focus();
  }
});
document.addEventListener("click", (ev) => {
  if (!ui.queue.hidden && ev.target instanceof Node && !bar.contains(ev.target)) {
    ui.queue.hidden = true;
    ui.queueToggle.setAttribute("aria-expanded", "false");
  }
});
// Signing out: what was heard is sent while the session lasts, and the queue is not left
// behind for whoever signs in next in this tab.
let signingOut = false;
document.addEventListener("submit", async (ev) => {
  const form = ev.target;
  if (signingOut || ev.defaultPrevented || !(form instanceof HTMLFormElement)
      || new URL(form.action).pathname !== "/signout") return;
  ev.preventDefault();
  signingOut = true;
  pause();
  await Promise.race([reporter.flush(), new Promise((r) => setTimeout(r, 1500))]);
  reporter.forget();
  state.forget();
  form.submit();
});
window.addEventListener("pagehide", () => saveSoon(true));

// The bar is fixed at the bottom: the page keeps room for it, whatever its height.
new ResizeObserver(() => {
  document.documentElement.style.setProperty("--player-h", `${bar.offsetHeight}px`);
}).observe(bar);

audio.volume = state.volume;
audio.muted = state.muted;
paintVolume();
enableKeys(player);
enableLists(player);
if (state.current) {
  // A reload: the same track, at the same place, paused until asked.
  load(state.index, { autoplay: false, position: state.position, announce: false, resume: state.listening });
} else {
  paintTrack();
}
window.audoticsPlayer = player; // for the browser tests and the console
