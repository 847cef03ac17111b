// What every track list shows for the player: a cover thumbnail, a play button and, for a track
// with no audio, a "No audio" mark and a disabled button. The buttons carry the track, and the
// player (player-lists.js) handles their clicks wherever they are: the queue is the buttons of
// the same [data-queue] list. Server-rendered lists use templates/web/_play_button.html.
import { h } from "./api.js";

export const streamUrl = (id) => `/api/tracks/${encodeURIComponent(id)}/stream`;
export const coverUrl = (id, size) => `/api/tracks/${encodeURIComponent(id)}/cover?size=${size}`;

export function fmt(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

const SVG = "http://www.w3.org/2000/svg";
const PATHS = { play: "M8 5v14l11-7z", pause: "M6 5h4v14H6zm8 0h4v14h-4z" };

export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", `i-${name}`);
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", PATHS[name]);
  svg.append(path);
  return svg;
}

// The small (96 px, shown at 48) or large (512 px) cover, or a neutral square without one.
export function cover(t, size = "small") {
  if (t.hasCover) {
    const px = size === "large" ? 512 : 48;
    return h("img", {
      class: `cover cover-${size}`, src: coverUrl(t.id, size), alt: "", width: px, height: px,
      loading: "lazy", decoding: "async",
    });
  }
  return h("span", { class: `cover cover-${size} cover-none`, "aria-hidden": "true" });
}

const hasPlayer = () => Boolean(document.getElementById("player"));

// Signed out there is no player (streams need a session): no button, no mark.
export function playButton(t) {
  if (!hasPlayer()) return null;
  if (!t.hasAudio) {
    return h("button", {
      type: "button", class: "play-btn", disabled: true, title: "No audio for this track",
      "aria-label": `No audio for ${t.title}`, dataset: { play: t.id, audio: "0" },
    }, icon("play"));
  }
  return h("button", {
    type: "button", class: "play-btn", "aria-label": `Play ${t.title} by ${t.artist}`,
    dataset: {
      play: t.id, audio: "1", title: t.title, artist: t.artist, album: t.album || "",
      cover: t.hasCover ? "1" : "0", ms: String(t.durationMs || 0),
    },
  }, icon("play"), icon("pause"));
}

export function noAudioMark(t) {
  return hasPlayer() && !t.hasAudio ? h("span", { class: "no-audio" }, "No audio") : null;
}

// The cover with the play button over it: what each row of a list starts with.
export function thumb(t) {
  return h("span", { class: "thumb" }, cover(t, "small"), playButton(t));
}

// Artist and album pages take names as written (the server normalises them, as for slugs);
// a slash would split the path, and means nothing to the name.
const pathName = (name) => encodeURIComponent(String(name || "").replace(/\//g, " ").trim());
export const artistUrl = (name) => `/artists/${pathName(name)}`;
export const albumUrl = (t) => `/albums/${pathName(t.artist)}/${pathName(t.album)}`;

// The artist (and album) of a row, as links to their pages.
export function artistLinks(t) {
  return h("span", { class: "track-artist" },
    h("a", { href: artistUrl(t.artist) }, t.artist),
    t.album ? [h("span", { "aria-hidden": "true" }, " · "), h("a", { href: albumUrl(t), class: "track-album" }, t.album)] : null);
}

// The last catalog search the listener left (static/js/catalog.js), for the track page's way back.
const SEARCH_KEY = "audotics.catalog.search";
const SEARCH_FRESH_MS = 30 * 60 * 1000;

export function rememberSearch(url) {
  try {
    if (url) sessionStorage.setItem(SEARCH_KEY, JSON.stringify({ url, at: Date.now() }));
    else sessionStorage.removeItem(SEARCH_KEY);
  } catch { /* private mode: the link simply goes to the catalog */ }
}

export function lastSearch() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SEARCH_KEY) || "null");
    return saved && Date.now() - saved.at < SEARCH_FRESH_MS && saved.url.startsWith("/catalog?") ? saved.url : "";
  } catch { return ""; }
}
