// People: who is here now (presence from the socket) and the People card, which lists who may
// edit. The owner may remove a collaborator, a collaborator may leave; only the owner's page
// has the invite form and the button that makes the playlist collaborative.
import { api, post, h, toast } from "./api.js";
import { navigate } from "./shell.js";

export function renderPresence(ul, people, me) {
  ul.replaceChildren(...people.map((p) => h("li", { class: "avatar", title: p.username },
    h("span", { "aria-hidden": "true", class: "avatar-dot" }, (p.username || "?")[0].toUpperCase()),
    h("span", { class: "avatar-name" }, p.id === me.id ? `${p.username} (you)` : p.username))));
}

// Wires the People card to `sync` (a PlaylistSync); returns { render } for the page's redraws.
export function enablePeopleCard(sync, me) {
  const ul = document.getElementById("collaborators");
  const { state } = sync;

  function render() {
    const isOwner = state.owner && state.owner.id === me.id;
    const items = [h("li", {}, h("strong", {}, state.owner.username), h("span", { class: "muted small" }, " owner"))];
    for (const c of state.collaborators) {
      items.push(h("li", {}, c.username, h("span", { class: "muted small" }, " collaborator"),
        isOwner || c.id === me.id
          ? h("button", {
            type: "button", class: "link-btn small", "aria-label": c.id === me.id ? "Leave this playlist" : `Remove ${c.username}`,
            onclick: () => removeCollaborator(c),
          }, c.id === me.id ? "Leave" : "Remove")
          : null));
    }
    ul.replaceChildren(...items);
  }

  async function removeCollaborator(c) {
    try {
      await api("DELETE", `/api/playlists/${sync.id}/collaborators/${c.id}`);
      if (c.id === me.id) { navigate("/playlists"); return; } // nothing left to see here
      state.collaborators = state.collaborators.filter((x) => x.id !== c.id);
      render();
    } catch (e) { toast(e.message, "error"); }
  }

  const inviteForm = document.getElementById("invite-form");
  if (inviteForm) {
    const msg = document.getElementById("invite-msg");
    inviteForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const username = inviteForm.elements.username.value.trim();
      try {
        const c = await post(`/api/playlists/${sync.id}/collaborators`, { username });
        if (!state.collaborators.some((x) => x.id === c.id)) state.collaborators.push(c);
        render();
        msg.textContent = `${c.username} can now edit this playlist.`;
        inviteForm.reset();
      } catch (e) {
        msg.textContent = (e.fields && e.fields.username && `${username}: ${e.fields.username.join(" ")}`) || e.message;
      }
    });
    document.getElementById("make-collab-btn").addEventListener("click", async () => {
      try {
        sync.applyState(await api("PATCH", `/api/playlists/${sync.id}`, { isCollaborative: true }), { force: true });
        document.getElementById("make-collab").hidden = true;
        inviteForm.hidden = false;
        document.getElementById("invite-username").focus();
      } catch (e) { toast(e.message, "error"); }
    });
  }

  return { render };
}
