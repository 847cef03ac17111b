// The owner's ways to bring people in: the invite box, which suggests usernames as you type (a
// combobox: ↓/↑ pick, Enter takes the picked name, Escape closes), and the invite link, which
// anyone signed in may open to join (create, copy, turn off).
import { get, post, api, debounce, h, toast } from "./api.js";

const MIN_QUERY = 2;
const SHOWN = 6;

// sync: the page's PlaylistSync; invited(collaborator) adds them to the People card.
export function enableInviteBox(sync, invited) {
  const form = document.getElementById("invite-form");
  const input = document.getElementById("invite-username");
  const listbox = document.getElementById("invite-options");
  const msg = document.getElementById("invite-msg");
  let options = [];
  let active = -1;
  let seq = 0;

  const members = () => new Set([sync.state.owner.id, ...sync.state.collaborators.map((c) => c.id)]);

  function show() {
    listbox.replaceChildren(...options.map((u, k) => h("li", {
      id: `invite-opt-${k}`, role: "option", class: "combo-option", "aria-selected": String(k === active),
      dataset: { k: String(k) },
    }, u.username)));
    const open = options.length > 0;
    listbox.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    if (open && active >= 0) input.setAttribute("aria-activedescendant", `invite-opt-${active}`);
    else input.removeAttribute("aria-activedescendant");
  }

  function closeList() { options = []; active = -1; show(); }

  function pick(k) {
    if (!options[k]) return;
    input.value = options[k].username;
    closeList();
    input.focus();
  }

  const search = debounce(async () => {
    const mine = ++seq;
    const q = input.value.trim();
    if (q.length < MIN_QUERY) { closeList(); return; }
    try {
      const data = await get(`/api/users/search?q=${encodeURIComponent(q)}`);
      if (mine !== seq || document.activeElement !== input) return;
      const already = members();
      options = data.results.filter((u) => !already.has(u.id)).slice(0, SHOWN);
      active = -1;
      show();
    } catch (e) {
      if (mine === seq) closeList(); // typing on is always possible: the exact name works
    }
  }, 200);

  input.addEventListener("input", () => { msg.textContent = ""; search(); });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      if (!options.length) return;
      ev.preventDefault();
      // -1 is the text itself: the arrows cycle through the names and back to it.
      const next = active + (ev.key === "ArrowDown" ? 1 : -1);
      active = next >= options.length ? -1 : next < -1 ? options.length - 1 : next;
      show();
    } else if (ev.key === "Enter" && active >= 0) {
      ev.preventDefault(); // takes the name; a second Enter sends the invitation
      pick(active);
    } else if (ev.key === "Escape" && options.length) {
      ev.preventDefault();
      closeList();
    }
  });
  // mousedown, not click: the input keeps focus, so the list is still there to be clicked.
  listbox.addEventListener("mousedown", (ev) => {
    const li = ev.target.closest("[role=option]");
    if (!li) return;
    ev.preventDefault();
    pick(Number(li.dataset.k));
  });
  input.addEventListener("blur", () => { seq++; closeList(); });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const username = input.value.trim();
    closeList();
    try {
      const c = await post(`/api/playlists/${sync.id}/collaborators`, { username });
      invited(c);
      msg.textContent = `${c.username} can now edit this playlist.`;
      form.reset();
    } catch (e) {
      msg.textContent = (e.fields && e.fields.username && `${username}: ${e.fields.username.join(" ")}`) || e.message;
    }
  });
}

// The invite link. initial: {url} of the live link from the page, or null.
export function enableShareLink(sync, initial) {
  const $ = (id) => document.getElementById(id);
  const on = $("share-on"), url = $("share-url"), create = $("share-create"), msg = $("share-msg");
  const path = `/api/playlists/${sync.id}/share-link`;

  function show(link) {
    on.hidden = !link;
    create.hidden = Boolean(link);
    url.value = link ? link.url : "";
  }

  create.addEventListener("click", async () => {
    try {
      show(await post(path));
      msg.textContent = "Invite link ready: send it to the people you want in.";
      $("share-copy").focus();
    } catch (e) { msg.textContent = e.message; }
  });
  $("share-copy").addEventListener("click", async () => {
    url.select();
    try {
      await navigator.clipboard.writeText(url.value);
      msg.textContent = "Link copied.";
    } catch {
      msg.textContent = "Selected: copy it with Ctrl+C (⌘+C).";
    }
  });
  $("share-off").addEventListener("click", async () => {
    try {
      await api("DELETE", path);
    } catch (e) {
      if (e.status !== 404) { msg.textContent = e.message; return; } // already off: fine
    }
    show(null);
    msg.textContent = "The link is off: it no longer lets anyone join.";
    toast("Invite link turned off");
    create.focus();
  });
  show(initial);
}
