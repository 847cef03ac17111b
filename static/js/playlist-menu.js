// The "⋯" menu of a track row: every action of the row, where a phone has no room for its
// buttons, plus the long moves (to the top, to the bottom). One menu serves all rows and lives
// outside the list, so a redraw of the list (someone else's edit) does not close it; it acts
// on the row's track wherever that track is by then. Keyboard: the menu button, or Shift+F10
// and the context-menu key on a focused row, open it; arrows, Home and End move; Escape closes.

// sync: the page's PlaylistSync; remove(id): the undoable removal (playlist-undo.js).
export function enableRowMenu(list, sync, remove) {
  const menu = document.getElementById("row-menu");
  const items = [...menu.querySelectorAll("[role=menuitem]")];
  let trackId = null;
  let openedAt = 0; // the page's scroll position when the menu opened

  const rowButton = (id) => list.querySelector(`li[data-id="${CSS.escape(id)}"] button[data-act="menu"]`);

  function open(button) {
    const li = button.closest("li");
    trackId = li.dataset.id;
    const i = sync.indexOf(trackId), last = sync.state.tracks.length - 1;
    for (const item of items) {
      const act = item.dataset.act;
      item.disabled = ((act === "top" || act === "up") && i === 0) || ((act === "down" || act === "bottom") && i === last);
      item.tabIndex = -1;
    }
    menu.hidden = false;
    openedAt = window.scrollY;
    // Below the button, or above it when the screen ends first; never off its right edge.
    const r = button.getBoundingClientRect();
    const height = menu.offsetHeight, width = menu.offsetWidth;
    const top = r.bottom + height + 8 > window.innerHeight ? Math.max(8, r.top - height - 4) : r.bottom + 4;
    menu.style.top = `${Math.round(top)}px`;
    menu.style.left = `${Math.round(Math.max(8, Math.min(r.right - width, window.innerWidth - width - 8)))}px`;
    button.setAttribute("aria-expanded", "true");
    menu.setAttribute("aria-label", `Actions for ${sync.state.tracks[i]?.title || "this track"}`);
    items.find((x) => !x.disabled)?.focus();
  }

  function close({ refocus = true } = {}) {
    if (menu.hidden) return;
    menu.hidden = true;
    const button = trackId && rowButton(trackId);
    if (button) {
      button.setAttribute("aria-expanded", "false");
      if (refocus) button.focus();
    }
    trackId = null;
  }

  function act(action) {
    const id = trackId;
    const i = sync.indexOf(id);
    close({ refocus: action !== "remove" });
    if (i < 0) return; // gone meanwhile (another member removed it)
    const last = sync.state.tracks.length - 1;
    const to = { top: 0, up: i - 1, down: i + 1, bottom: last }[action];
    if (action === "remove") {
      remove(id).then((stands) => {
        const next = list.children[Math.min(i, list.children.length - 1)];
        if (stands && next) next.focus();
      });
    } else if (to !== undefined) {
      sync.moveTrack(id, to);
    }
  }

  list.addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-act='menu']");
    if (!button) return;
    const same = !menu.hidden && trackId === button.closest("li").dataset.id;
    close({ refocus: false });
    if (!same) open(button);
  });
  list.addEventListener("keydown", (ev) => {
    const li = ev.target.closest("li");
    if (li && ev.target === li && (ev.key === "ContextMenu" || (ev.shiftKey && ev.key === "F10"))) {
      ev.preventDefault();
      open(li.querySelector("button[data-act='menu']"));
    }
  });
  menu.addEventListener("click", (ev) => {
    const item = ev.target.closest("[role=menuitem]");
    if (item && !item.disabled) act(item.dataset.act);
  });
  menu.addEventListener("keydown", (ev) => {
    const enabled = items.filter((x) => !x.disabled);
    const k = enabled.indexOf(document.activeElement);
    const go = { ArrowDown: k + 1, ArrowUp: k - 1, Home: 0, End: enabled.length - 1 }[ev.key];
    if (go !== undefined) {
      ev.preventDefault();
      enabled[(go + enabled.length) % enabled.length].focus();
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      close();
    } else if (ev.key === "Tab") {
      close({ refocus: false });
    }
  });
  // A click elsewhere, a resize or a real scroll closes it (it is placed against the viewport;
  // the few pixels a tap or bringing the button into view scroll do not count).
  const onPointer = (ev) => {
    if (!menu.hidden && !menu.contains(ev.target) && !ev.target.closest?.("button[data-act='menu']")) close({ refocus: false });
  };
  const onMove = (ev) => {
    if (ev.type === "resize" || Math.abs(window.scrollY - openedAt) > 40) close({ refocus: false });
  };
  document.addEventListener("pointerdown", onPointer);
  window.addEventListener("resize", onMove);
  window.addEventListener("scroll", onMove, { passive: true });
  return { dispose() {
    document.removeEventListener("pointerdown", onPointer);
    window.removeEventListener("resize", onMove);
    window.removeEventListener("scroll", onMove);
  } };
}
