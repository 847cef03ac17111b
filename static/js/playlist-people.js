// People: who is here now (presence from the socket) and the People card, which lists who may
// edit. The owner may remove a collaborator, a collaborator may leave; only the owner's page
// has the button that makes the playlist collaborative, the invite box and the invite link
// (playlist-invite.js), shown while the playlist is collaborative.
import { api, h, toast } from "./api.js";
import { navigate } from "./shell.js";
import { enableInviteBox, enableShareLink } from "./playlist-invite.js";

export function renderPresence(ul, people, me) {
  ul.replaceChildren(...people.map((p) => h("li", { class: "avatar", title: p.username },
    h("span", { "aria-hidden": "true", class: "avatar-dot" }, (p.username || "?")[0].toUpperCase()),
    h("span", { class: "avatar-name" }, p.id === me.id ? `${p.username} (you)` : p.username))));
}

// Wires the People card to `sync` (a PlaylistSync); returns { render } for the page's redraws.
// share: the live invite link the page came with ({url}), or null.
export function enablePeopleCard(sync, me, share) {
  const ul = document.getElementById("collaborators");
  const { state } = sync;
  const makeCollab = document.getElementById("make-collab");
  const invite = document.getElementById("invite");

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
    if (makeCollab) makeCollab.hidden = Boolean(state.isCollaborative);
    if (invite) invite.hidden = !state.isCollaborative;
  }

  async function removeCollaborator(c) {
    try {
      await api("DELETE", `/api/playlists/${sync.id}/collaborators/${c.id}`);
      if (c.id === me.id) { navigate("/playlists"); return; } // nothing left to see here
      state.collaborators = state.collaborators.filter((x) => x.id !== c.id);
      render();
    } catch (e) { toast(e.message, "error"); }
  }

  if (invite) {
    enableInviteBox(sync, (c) => {
      if (!state.collaborators.some((x) => x.id === c.id)) state.collaborators.push(c);
      render();
    });
    enableShareLink(sync, share);
    document.getElementById("make-collab-btn").addEventListener("click", async () => {
      try {
        const p = await api("PATCH", `/api/playlists/${sync.id}`, { isCollaborative: true });
        state.isCollaborative = p.isCollaborative;
        render();
        document.getElementById("invite-username").focus();
      } catch (e) { toast(e.message, "error"); }
    });
  }

  return { render };
}
