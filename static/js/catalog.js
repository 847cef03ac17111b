// The catalog's search as you type. The page arrives with its results rendered for the URL
// (/catalog?q=&genre=&playable=&page=); typing or changing a filter fetches the same results
// from /catalog/results and swaps them in, and the URL follows (replaced, not pushed: typing
// is one search, and Back leaves it). Pager links are ordinary links the shell follows, so Back
// returns to the previous page of results, and from a track to the results it was opened from.
import { debounce, onLeave } from "./api.js";
import { rememberSearch } from "./tracks-ui.js";

const form = document.getElementById("search-form");
const q = document.getElementById("q");
const genre = document.getElementById("genre");
const playable = document.getElementById("playable");
const region = document.getElementById("search-results");
const count = document.getElementById("result-count");
let seq = 0;
let controller = null;
let left = false; // the shell has moved on to another page: this one's URL is no longer ours

function params() {
  const p = new URLSearchParams();
  if (q.value.trim()) p.set("q", q.value.trim());
  if (genre.value) p.set("genre", genre.value);
  if (playable.checked) p.set("playable", "true");
  return p;
}

const here = () => location.pathname + location.search;
rememberSearch(location.search ? here() : "");

async function search() {
  if (left) return;
  const mine = ++seq;
  const p = params();
  const url = p.toString() ? `/catalog?${p}` : "/catalog";
  // The shell keeps its own data in the history entry: keep it.
  history.replaceState(history.state, "", url);
  rememberSearch(p.toString() ? url : "");
  if (controller) controller.abort();
  controller = new AbortController();
  region.setAttribute("aria-busy", "true");
  try {
    const res = await fetch(`/catalog/results?${p}`, {
      credentials: "same-origin", headers: { Accept: "text/html" }, signal: controller.signal,
    });
    if (!res.ok) throw new Error(`Search failed (${res.status}). Try again.`);
    const html = await res.text();
    if (mine !== seq || left) return; // a newer search already answered
    const doc = new DOMParser().parseFromString(html, "text/html");
    const body = doc.getElementById("results-body");
    if (!body) throw new Error("Search failed. Try again.");
    region.replaceChildren(document.adoptNode(body));
    count.textContent = body.dataset.summary || "";
    document.title = p.get("q") ? `“${p.get("q")}” · Catalog · Audotics` : "Catalog · Audotics";
  } catch (e) {
    if (e.name !== "AbortError" && mine === seq) {
      count.textContent = e.name === "TypeError" ? "You appear to be offline." : e.message;
    }
  } finally {
    if (mine === seq) region.removeAttribute("aria-busy");
  }
}

const typed = debounce(search, 250);
q.addEventListener("input", typed);
genre.addEventListener("change", search);
playable.addEventListener("change", search);
form.addEventListener("submit", (e) => { e.preventDefault(); typed.cancel(); search(); });
// What was typed or chosen while this script was loading (the page shows first) is searched
// now: the fields differ from what the page was rendered for.
// (A select without a `selected` option shows its first one.)
const renderedGenre = Math.max(0, [...genre.options].findIndex((o) => o.defaultSelected));
if (q.value !== q.defaultValue || playable.checked !== playable.defaultChecked
  || genre.selectedIndex !== renderedGenre) search();
onLeave(() => {
  left = true;
  typed.cancel();
  if (controller) controller.abort();
});
