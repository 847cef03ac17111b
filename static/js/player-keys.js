// Driving the player without its buttons: keyboard shortcuts on the page (not while typing) and
// the system's media controls (Media Session: lock screen, headset keys, the browser's panel).
import { coverUrl } from "./tracks-ui.js";

const TYPING = "input, textarea, select, [contenteditable]:not([contenteditable='false'])";
// Space activates these itself; it plays and pauses only elsewhere.
const SPACE_OWNERS = "button, a[href], summary, [role='button'], [role='checkbox'], [role='slider'], audio, video";

export function enableKeys(player) {
  document.addEventListener("keydown", (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey || !player.current) return;
    const target = ev.target instanceof Element ? ev.target : document.body;
    if (target.closest(TYPING) || target.isContentEditable) return;
    const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    let action = null;
    if (key === " ") {
      if (target.closest(SPACE_OWNERS)) return;
      action = () => player.toggle();
    } else if (key === "k") action = () => player.toggle();
    else if (key === "j" || (ev.shiftKey && key === "ArrowLeft")) action = () => player.seekBy(-10);
    else if (key === "l" || (ev.shiftKey && key === "ArrowRight")) action = () => player.seekBy(10);
    else if (key === "n") action = () => player.next();
    else if (key === "p") action = () => player.previous();
    else if (key === "m") action = () => player.toggleMute();
    if (!action) return;
    ev.preventDefault();
    if (!ev.repeat || key === "j" || key === "l" || key.startsWith("Arrow")) action();
  });
}

// { metadata(track), playing(bool), position(audio) }; nothing happens where unsupported.
export function mediaSession(player) {
  if (!("mediaSession" in navigator) || typeof MediaMetadata === "undefined") {
    return { metadata() {}, playing() {}, position() {} };
  }
  const session = navigator.mediaSession;
  const handle = (action, fn) => {
    try { session.setActionHandler(action, fn); } catch { /* this browser lacks the action */ }
  };
  handle("play", () => player.play());
  handle("pause", () => player.pause());
  handle("stop", () => player.pause());
  handle("previoustrack", () => player.previous());
  handle("nexttrack", () => player.next());
  handle("seekbackward", (d) => player.seekBy(-(d.seekOffset || 10)));
  handle("seekforward", (d) => player.seekBy(d.seekOffset || 10));
  handle("seekto", (d) => {
    if (d.fastSeek && "fastSeek" in player.audio) player.audio.fastSeek(d.seekTime);
    else player.seekTo(d.seekTime);
  });

  return {
    metadata(t) {
      const artwork = t.hasCover
        ? [{ src: new URL(coverUrl(t.id, "large"), location.origin).href, sizes: "512x512", type: "image/jpeg" }]
        : [];
      session.metadata = new MediaMetadata({ title: t.title, artist: t.artist, album: t.album || "", artwork });
    },
    playing(on) { session.playbackState = on ? "playing" : "paused"; },
    position(audio) {
      const duration = audio.duration;
      if (!Number.isFinite(duration) || duration <= 0 || !session.setPositionState) return;
      try {
        session.setPositionState({
          duration, playbackRate: audio.playbackRate || 1,
          position: Math.min(Math.max(0, audio.currentTime), duration),
        });
      } catch { /* a position the browser refuses: keep the last one */ }
    },
  };
}
