// Tiny client for the Audotics REST API: session cookie + CSRF header, JSON in and out,
// errors as ApiError carrying the envelope's code, message and fields.

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `Request failed (${status})`);
    this.status = status;
    this.code = err.code || (status === 0 ? "network_error" : "error");
    this.fields = err.fields || null;
  }
}

export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (m) return decodeURIComponent(m[1]);
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export async function api(method, path, body) {
  const opts = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  };
  if (method !== "GET" && method !== "HEAD") opts.headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, { error: { code: "network_error", message: "You appear to be offline." } });
  }
  if (res.status === 204 || res.status === 202 && res.headers.get("content-length") === "0") return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    if (res.status === 401 || (res.status === 403 && data && data.error && data.error.code === "not_authenticated")) {
      // The session ended: go sign in again and come back here.
      location.assign("/signin?next=" + encodeURIComponent(location.pathname + location.search));
    }
    throw new ApiError(res.status, data);
  }
  return data;
}

// A multipart POST with upload progress (XMLHttpRequest: fetch cannot report it). Resolves with
// the JSON body on a 2xx; rejects with ApiError (status 0 when offline). onProgress(percent).
export function upload(path, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable && onProgress) onProgress(Math.round((100 * ev.loaded) / ev.total));
    };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new ApiError(0, { error: { code: "network_error",
      message: "You appear to be offline; nothing was stored. Try again." } }));
    xhr.send(formData);
  });
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);

// Every item of a paginated list ({count, next, previous, results}), page after page.
export async function getAll(path) {
  const items = [];
  let url = path;
  while (url) {
    const page = await get(url);
    items.push(...(page.results || []));
    // `next` is an absolute URL; follow its path only, so that a TLS-terminating proxy that
    // makes it http:// cannot send this page to another origin.
    const next = page.next ? new URL(page.next, location.href) : null;
    url = next && next.pathname + next.search;
  }
  return items;
}

// The shell (shell.js) is replacing this page with another: the page closes what it holds.
export function onLeave(fn) {
  window.addEventListener("audotics:leave", fn, { once: true });
}

export function debounce(fn, ms) {
  let t;
  const run = (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  run.cancel = () => clearTimeout(t);
  return run;
}

// Build an element: h("li", {class: "row", onclick: f}, child, "text", ...).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let toastTimer;
let toastHold = null; // the toast's pointer or focus is on it: it waits for them to leave
// A short message at the bottom of the page. With `action` ({label, onClick, ms}) it carries a
// button ("Undo") and stays longer, and not while the pointer or focus is on it.
export function toast(message, kind = "info", action = null) {
  const el = document.getElementById("toast");
  if (!el) return;
  el.replaceChildren(message);
  if (action) {
    el.append(" ", h("button", {
      type: "button", class: "toast-action",
      onclick: () => { hide(); action.onClick(); },
    }, action.label));
  }
  el.dataset.kind = kind;
  el.classList.add("show");
  const ms = action ? action.ms || 8000 : 3500;
  const hide = () => { clearTimeout(toastTimer); el.classList.remove("show"); };
  const arm = () => { clearTimeout(toastTimer); toastTimer = setTimeout(hide, ms); };
  if (!toastHold) {
    toastHold = { el, pause: () => clearTimeout(toastTimer), resume: () => toastHold.arm() };
    for (const type of ["pointerenter", "focusin"]) el.addEventListener(type, () => toastHold.pause());
    for (const type of ["pointerleave", "focusout"]) el.addEventListener(type, () => toastHold.resume());
  }
  toastHold.arm = arm;
  arm();
}

export function fmtDuration(ms) {
  if (!ms && ms !== 0) return "";
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function genreOf(track) {
  const m = track.metadata || {};
  return m.genre || (Array.isArray(m.genres) && m.genres.join(", ")) || track.genre || "";
}
