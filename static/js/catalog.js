import { get, debounce, h, fmtDuration, genreOf, onLeave } from "./api.js";
import { noAudioMark, thumb } from "./tracks-ui.js";

const q = document.getElementById("q");
const genre = document.getElementById("genre");
const playable = document.getElementById("playable");
const list = document.getElementById("results");
const count = document.getElementById("result-count");
const more = document.getElementById("more");
let next = null;
let seq = 0;
let left = false; // the shell has moved on to another page: this one's URL is no longer ours

function row(t) {
  return h("li", { class: "track" },
    thumb(t),
    h("div", { class: "track-main" },
      h("a", { href: `/tracks/${t.id}`, class: "track-title" }, t.title),
      h("span", { class: "track-artist" }, t.artist),
      noAudioMark(t)),
    h("span", { class: "tag" }, genreOf(t)),
    h("span", { class: "muted num" }, fmtDuration(t.durationMs)));
}

async function search() {
  if (left) return;
  const mine = ++seq;
  const params = new URLSearchParams();
  if (q.value.trim()) params.set("q", q.value.trim());
  if (genre.value) params.set("genre", genre.value);
  if (playable.checked) params.set("playable", "true");
  // The shell keeps its own data in the history entry: keep it.
  history.replaceState(history.state, "", params.toString() ? `?${params}` : location.pathname);
  list.setAttribute("aria-busy", "true");
  try {
    const data = await get(`/api/tracks?${params}`);
    if (mine !== seq) return; // a newer search already answered
    list.replaceChildren(...data.results.map(row));
    count.textContent = `${data.count} track${data.count === 1 ? "" : "s"} found`;
    next = data.next;
    more.hidden = !next;
  } catch (e) {
    if (mine === seq) count.textContent = e.message;
  } finally {
    if (mine === seq) list.removeAttribute("aria-busy");
  }
}

more.addEventListener("click", async () => {
  if (!next) return;
  const url = new URL(next, location.origin);
  const data = await get(url.pathname + url.search);
  if (left) return;
  list.append(...data.results.map(row));
  next = data.next;
  more.hidden = !next;
});

const typed = debounce(search, 250);
q.addEventListener("input", typed);
onLeave(() => { left = true; typed.cancel(); });
genre.addEventListener("change", search);
playable.addEventListener("change", search);
document.getElementById("search-form").addEventListener("submit", (e) => { e.preventDefault(); search(); });
search();
