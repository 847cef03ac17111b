// Moving rows of the track list, and removing them, with or without a mouse: the ↑ ↓ ✕ buttons,
// Alt+↑/↓ and Delete on a focused row, HTML5 drag and drop for the mouse, and a pointer
// fallback for touch and pen. The edits themselves are PlaylistSync's (removals go through
// `remove`, which offers an undo); listeners sit on the list, so they survive its redraws.

// Removing the focused row would drop focus to the page: the row now in its place takes it.
async function removeAndFocusNext(list, sync, remove, id) {
  const i = sync.indexOf(id);
  if (!(await remove(id))) return;
  const next = list.children[Math.min(i, list.children.length - 1)];
  if (next) next.focus();
}

export function enableRowButtonsAndKeys(list, sync, remove) {
  list.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-act]");
    if (!btn) return;
    const id = btn.closest("li").dataset.id;
    const i = sync.indexOf(id);
    if (btn.dataset.act === "up") sync.moveTrack(id, i - 1);
    else if (btn.dataset.act === "down") sync.moveTrack(id, i + 1);
    else if (btn.dataset.act === "remove") removeAndFocusNext(list, sync, remove, id);
  });

  list.addEventListener("keydown", (ev) => {
    const li = ev.target.closest("li");
    if (!li) return;
    const i = sync.indexOf(li.dataset.id);
    if (ev.altKey && (ev.key === "ArrowUp" || ev.key === "ArrowDown")) {
      ev.preventDefault();
      sync.moveTrack(li.dataset.id, ev.key === "ArrowUp" ? i - 1 : i + 1);
    } else if (ev.target === li && (ev.key === "ArrowUp" || ev.key === "ArrowDown")) {
      ev.preventDefault();
      const sib = ev.key === "ArrowUp" ? li.previousElementSibling : li.nextElementSibling;
      if (sib) sib.focus();
    } else if (ev.target === li && ev.key === "Delete") {
      ev.preventDefault();
      removeAndFocusNext(list, sync, remove, li.dataset.id);
    }
  });
}

// redraw() puts the rows back as the state has them, after a drag that was abandoned.
export function enableDragToReorder(list, sync, redraw) {
  let dragId = null;

  function dropIndex(clientY) {
    const rows = [...list.children];
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k].getBoundingClientRect();
      if (clientY < r.top + r.height / 2) return k;
    }
    return rows.length;
  }

  function finishDrop(clientY) {
    const id = dragId;
    dragId = null;
    list.querySelectorAll(".drop-before, .drop-after, .dragging").forEach((el) => el.classList.remove("drop-before", "drop-after", "dragging"));
    if (!id) return;
    const from = sync.indexOf(id);
    let to = dropIndex(clientY);
    if (to > from) to -= 1; // the row leaves its old slot first
    sync.moveTrack(id, to);
  }

  function markDrop(clientY) {
    list.querySelectorAll(".drop-before, .drop-after").forEach((el) => el.classList.remove("drop-before", "drop-after"));
    const k = dropIndex(clientY);
    const rows = list.children;
    if (k < rows.length) rows[k].classList.add("drop-before");
    else if (rows.length) rows[rows.length - 1].classList.add("drop-after");
  }

  // HTML5 drag and drop (mouse).
  list.addEventListener("dragstart", (ev) => {
    const li = ev.target.closest && ev.target.closest("li");
    if (!li) return;
    dragId = li.dataset.id;
    li.classList.add("dragging");
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", dragId);
    ev.dataTransfer.setDragImage(li, 10, 10);
  });
  list.addEventListener("dragover", (ev) => {
    if (!dragId) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "move";
    markDrop(ev.clientY);
  });
  list.addEventListener("drop", (ev) => { ev.preventDefault(); finishDrop(ev.clientY); });
  list.addEventListener("dragend", () => { if (dragId) { dragId = null; redraw(); } });

  // Pointer fallback (touch and pen, where HTML5 drag and drop is not available).
  list.addEventListener("pointerdown", (ev) => {
    if (ev.pointerType === "mouse" || !ev.target.classList.contains("handle")) return;
    const li = ev.target.closest("li");
    dragId = li.dataset.id;
    li.classList.add("dragging");
    ev.target.setPointerCapture(ev.pointerId);
    ev.preventDefault();
    const move = (e) => markDrop(e.clientY);
    const up = (e) => {
      ev.target.removeEventListener("pointermove", move);
      ev.target.removeEventListener("pointerup", up);
      ev.target.removeEventListener("pointercancel", up);
      if (e.type === "pointercancel") { dragId = null; redraw(); } else finishDrop(e.clientY);
    };
    ev.target.addEventListener("pointermove", move);
    ev.target.addEventListener("pointerup", up);
    ev.target.addEventListener("pointercancel", up);
  });
}
