// Page changes inside one document, so that the player bar (outside <main>) plays on.
// Same-origin links and GET forms fetch the next page's HTML; its <main>, header, title and head
// extras replace this page's, after an "audotics:leave" event lets the old page's modules close
// what they hold (sockets, timers); then the new page's module scripts run, imported under a new
// query (a module runs once per URL). pushState/popstate keep Back and Forward working, with the
// scroll position of each entry. Anything unusual (a network error, not HTML, another origin, a
// page without this layout) falls back to a full page load.
// Pages that must not be left silently (unsent edits) cancel "audotics:beforeleave". A form sent
// while the new page's scripts are still loading is sent again once they ran.

const EXCLUDED = /^\/(admin|api|o|1|static|media|metrics|healthz|readyz|signout)(\/|$)/;
const SCROLLS_KEY = "audotics.shell.scrolls";

let entry = ""; // the key of the history entry on show
let index = 0; // its place in the session history, to undo a Back the page refused
let shown = location.pathname + location.search; // the page on show (hash links stay on it)
let runs = 0; // page changes so far: the query under which the page scripts run again
let seq = 0;
let controller = null;
let ignorePop = false;
let scriptsRun = Promise.resolve(); // the page on show has run its scripts (on its own DOM)
let scriptsPending = false;
let scrolls = {};

const newKey = () => `${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;

function handled(url) {
  return (url.protocol === "http:" || url.protocol === "https:") && url.origin === location.origin
    && !EXCLUDED.test(url.pathname);
}

// Whether the page lets itself be left (it cancels audotics:beforeleave when it has unsaved work).
function mayLeave() {
  const ev = new CustomEvent("audotics:beforeleave", { cancelable: true });
  return window.dispatchEvent(ev) || window.confirm("Changes you made may not be saved. Leave this page?");
}

function hardLoad(url, replace) {
  if (replace) location.replace(url.href);
  else location.assign(url.href);
}

// The head elements that differ between pages ({% block head %}, the CSRF token) follow the page.
function syncHead(doc) {
  const keep = (el) => el.tagName !== "TITLE" && el.tagName !== "SCRIPT";
  const before = new Map([...document.head.children].filter(keep).map((el) => [el.outerHTML, el]));
  const after = [...doc.head.children].filter(keep);
  const wanted = new Set(after.map((el) => el.outerHTML));
  for (const [html, el] of before) if (!wanted.has(html)) el.remove();
  for (const el of after) if (!before.has(el.outerHTML)) document.head.append(document.adoptNode(el));
}

// Lists arrive after the page does: try for a moment until the page is tall enough.
function scrollToY(y) {
  let tries = 0;
  const stop = () => { tries = Infinity; };
  for (const type of ["wheel", "touchstart", "keydown", "pointerdown"]) window.addEventListener(type, stop, { once: true, passive: true });
  const step = () => {
    if (tries === Infinity) return;
    window.scrollTo(0, y);
    if (Math.abs(window.scrollY - y) > 2 && ++tries < 30) setTimeout(step, 50);
  };
  step();
}

function placeView(url, scroll) {
  if (typeof scroll === "number") { scrollToY(scroll); return; }
  const target = url.hash && document.getElementById(decodeURIComponent(url.hash.slice(1)));
  if (target) target.scrollIntoView();
  else window.scrollTo(0, 0);
}

async function runScripts(doc, base) {
  runs += 1;
  const scripts = doc.querySelectorAll("body > script[type='module'][src]:not([data-shell])");
  for (const script of scripts) {
    const src = new URL(script.getAttribute("src"), base);
    src.searchParams.set("v", String(runs));
    try {
      await import(src.href);
    } catch (e) {
      reportError(e); // as a page script's error would be on a full load
    }
  }
}

// Show `url` in this document. push: a new history entry (a link), else this one (Back, Forward,
// a redirect); key/scroll: the entry's own when coming back to it.
async function go(url, { push = true, key = null, scroll = null } = {}) {
  const mine = ++seq;
  if (controller) controller.abort();
  controller = new AbortController();
  const busy = setTimeout(() => document.documentElement.classList.add("navigating"), 150);
  let res, html;
  try {
    res = await fetch(url.href, {
      credentials: "same-origin", headers: { Accept: "text/html" }, signal: controller.signal,
    });
    html = await res.text();
  } catch (e) {
    if (e.name !== "AbortError" && mine === seq) hardLoad(url, !push);
    return;
  } finally {
    clearTimeout(busy);
    if (mine === seq) document.documentElement.classList.remove("navigating");
  }
  if (mine !== seq) return;
  const final = new URL(res.url || url.href);
  if (!res.redirected || final.pathname + final.search === url.pathname + url.search) final.hash = url.hash;
  const type = res.headers.get("Content-Type") || "";
  if (!handled(final) || !type.includes("text/html")) { hardLoad(final, !push); return; }
  const doc = new DOMParser().parseFromString(html, "text/html");
  const main = doc.getElementById("main");
  const header = doc.querySelector("body > header.top");
  // Signed in or out since: the player is there or not. Only a full load gets that right.
  if (!main || !header || Boolean(doc.getElementById("player")) !== Boolean(document.getElementById("player"))) {
    hardLoad(final, !push);
    return;
  }
  // A page whose scripts are still loading is left only once they ran (and can clean up).
  await scriptsRun;
  if (mine !== seq) return;

  window.dispatchEvent(new CustomEvent("audotics:leave"));
  scrolls[entry] = window.scrollY;
  document.title = doc.title;
  syncHead(doc);
  document.querySelector("body > header.top").replaceWith(document.adoptNode(header));
  // Focus goes to the page's autofocus field, else to <main> (screen readers read on from
  // there); the attribute goes, since the browser would not honour it in a live document.
  const autofocus = main.querySelector("[autofocus]");
  if (autofocus) autofocus.removeAttribute("autofocus");
  const here = document.getElementById("main");
  here.replaceChildren(...[...main.childNodes].map((n) => document.adoptNode(n)));
  here.removeAttribute("aria-busy");

  const same = final.href === location.href;
  if (push && !same) {
    entry = newKey();
    index += 1;
    history.pushState({ shell: entry, index }, "", final.href);
  } else {
    entry = key || entry || newKey();
    history.replaceState({ ...(history.state || {}), shell: entry, index }, "", final.href);
  }
  shown = final.pathname + final.search;

  (autofocus || here).focus({ preventScroll: true });
  document.getElementById("shell-status").textContent = doc.title;
  placeView(final, scroll);
  scriptsPending = true;
  scriptsRun = runScripts(doc, final).finally(() => { scriptsPending = false; });
  await scriptsRun;
  window.dispatchEvent(new CustomEvent("audotics:navigated", { detail: { url: final.href } }));
}

// For page scripts: go to a page of the site (a created playlist, the same page fresh).
export function navigate(target, { replace = false } = {}) {
  const url = new URL(target, location.href);
  if (!handled(url)) { hardLoad(url, replace); return; }
  go(url, { push: !replace });
}

function linkTarget(ev) {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return null;
  const a = ev.target instanceof Element ? ev.target.closest("a[href]") : null;
  if (!(a instanceof HTMLAnchorElement) || a.hasAttribute("download") || "reload" in a.dataset) return null;
  if (a.target && a.target !== "_self") return null;
  const url = new URL(a.href);
  if (!handled(url)) return null;
  // An anchor on this page: the browser scrolls to it.
  if (url.hash && url.pathname + url.search === location.pathname + location.search) return null;
  return url;
}

function formTarget(ev) {
  const form = ev.target;
  const submitter = ev.submitter;
  if (ev.defaultPrevented || !(form instanceof HTMLFormElement)) return null;
  const attr = (name, formName) => (submitter && submitter.getAttribute(formName)) || form.getAttribute(name) || "";
  if ((attr("method", "formmethod") || "get").toLowerCase() !== "get") return null;
  const target = attr("target", "formtarget");
  if ((target && target !== "_self") || form.querySelector("input[type='file']")) return null;
  const url = new URL(attr("action", "formaction") || location.href, location.href);
  if (!handled(url)) return null;
  let data;
  try { data = new FormData(form, submitter); } catch { data = new FormData(form); }
  url.search = new URLSearchParams(data).toString();
  url.hash = "";
  return url;
}

function start() {
  const state = history.state || {};
  entry = state.shell || newKey();
  index = typeof state.index === "number" ? state.index : 0;
  if (!state.shell) history.replaceState({ ...state, shell: entry, index }, "");
  history.scrollRestoration = "manual";
  try { scrolls = JSON.parse(sessionStorage.getItem(SCROLLS_KEY) || "{}") || {}; } catch { scrolls = {}; }
  const nav = performance.getEntriesByType("navigation")[0];
  if (nav && nav.type !== "navigate" && typeof scrolls[entry] === "number") scrollToY(scrolls[entry]);

  window.addEventListener("scroll", () => { scrolls[entry] = window.scrollY; }, { passive: true });
  window.addEventListener("pagehide", () => {
    const keys = Object.keys(scrolls).slice(-50);
    try { sessionStorage.setItem(SCROLLS_KEY, JSON.stringify(Object.fromEntries(keys.map((k) => [k, scrolls[k]])))); } catch { /* only scroll positions */ }
  });

  document.addEventListener("click", (ev) => {
    const url = linkTarget(ev);
    if (!url) return;
    ev.preventDefault();
    if (mayLeave()) go(url);
  });
  document.addEventListener("submit", (ev) => {
    // A form sent before its page's script is there to handle it: again once it is.
    if (scriptsPending && !ev.defaultPrevented && ev.target instanceof HTMLFormElement) {
      ev.preventDefault();
      const form = ev.target;
      const submitter = ev.submitter && ev.submitter.form === form ? ev.submitter : undefined;
      scriptsRun.then(() => { if (form.isConnected) form.requestSubmit(submitter); });
      return;
    }
    const url = formTarget(ev);
    if (!url) return;
    ev.preventDefault();
    if (mayLeave()) go(url);
  });
  window.addEventListener("popstate", (ev) => {
    if (ignorePop) { ignorePop = false; return; }
    const st = ev.state || {};
    if (st.shell ? st.shell === entry : location.pathname + location.search === shown) return; // an anchor
    if (!mayLeave()) {
      // Stay: undo the step through history (its size is known only for our own entries).
      if (typeof st.index === "number" && st.index !== index) { ignorePop = true; history.go(index - st.index); }
      return;
    }
    if (typeof st.index === "number") index = st.index;
    go(new URL(location.href), { push: false, key: st.shell || null, scroll: st.shell ? scrolls[st.shell] ?? 0 : 0 });
  });
}

start();
