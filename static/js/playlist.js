// The page of one playlist: puts its parts together. PlaylistSync keeps the playlist and makes
// the edits; the other modules draw the page and turn clicks, keys and drags into edits;
// LiveRoom brings other people's edits and presence over the socket.
import { onLeave } from "./api.js";
import { LiveRoom } from "./live.js";
import { Banner } from "./banner.js";
import { PlaylistSync } from "./playlist-sync.js";
import { renderTracks } from "./playlist-rows.js";
import { enableRowButtonsAndKeys, enableDragToReorder } from "./playlist-reorder.js";
import { enableRowMenu } from "./playlist-menu.js";
import { enableUndoableRemoval } from "./playlist-undo.js";
import { enableTrackSearch } from "./playlist-search.js";
import { enablePeopleCard, renderPresence } from "./playlist-people.js";
import { enableSuggestions } from "./playlist-suggestions.js";
import { enableDetails } from "./playlist-details.js";

const initial = JSON.parse(document.getElementById("playlist-data").textContent);
const me = JSON.parse(document.getElementById("me-data").textContent);
const share = JSON.parse(document.getElementById("share-data").textContent);

const list = document.getElementById("tracks");
const empty = document.getElementById("empty");
const liveMsg = document.getElementById("live-msg");
const presence = document.getElementById("presence");
const banner = new Banner(document.getElementById("conn-banner"));
const announce = (text) => { liveMsg.textContent = text; };

const sync = new PlaylistSync(initial, me, banner, {
  render,
  announce,
  requestSnapshot: () => room.resync(),
  updated: (details) => header.update(details),
});
const header = enableDetails(sync, initial);
const peopleCard = enablePeopleCard(sync, me, share);
const addTrack = (track) => sync.addTrack(track);
const inPlaylist = (id) => sync.indexOf(id) >= 0;
const undo = enableUndoableRemoval(sync, announce);
const searchCard = enableTrackSearch(addTrack, inPlaylist);
const suggestions = enableSuggestions(sync.id, me, addTrack, inPlaylist);

function render() {
  const { tracks, version } = sync.state;
  renderTracks(list, tracks, me);
  empty.hidden = tracks.length > 0;
  list.dataset.version = String(version); // the e2e tests read which version is shown
  header.render();
  peopleCard.render();
  searchCard.refresh();
  suggestions.refresh();
}

enableRowButtonsAndKeys(list, sync, undo.remove);
const rowMenu = enableRowMenu(list, sync, undo.remove);
enableDragToReorder(list, sync, render);

// ---------------------------------------------------------------- connection status

const FATAL = {
  signed_out: "Your session ended. Sign in again to keep editing.",
  forbidden: "You no longer have access to this playlist.",
  gone: "This playlist no longer exists.",
};

function showConnection(status, info) {
  document.body.dataset.live = status;
  if (FATAL[status]) {
    banner.set("fatal", FATAL[status], "error");
  } else if (status === "lost") {
    banner.set("connection", `Connection lost. Reconnecting in ${Math.ceil(info.delay / 1000)} s… Your changes are kept.`, "warn");
  } else if (status === "reconnecting") {
    banner.set("connection", "Reconnecting…", "warn");
  } else if (status === "offline") {
    banner.set("connection", "You are offline. Changes you make will be sent when the connection is back.", "warn");
  } else if (status === "restored") {
    banner.clear("connection");
    banner.set("notice", "Reconnected. The playlist is up to date.", "ok", { autohide: 4000 });
  } else if (status === "live") {
    banner.clear("connection");
  }
}

const room = new LiveRoom(sync.id, {
  onSnapshot: (s) => sync.applySnapshot(s),
  onEvent: (ev) => sync.applyEvent(ev),
  onPresence: (here) => renderPresence(presence, here, me),
  onStatus: showConnection,
});
window.audoticsRoom = room; // the e2e tests drop the socket and feed it events through this
render();
room.connect();
onLeave(() => {
  room.close();
  sync.dispose();
  undo.dispose();
  rowMenu.dispose();
  if (window.audoticsRoom === room) delete window.audoticsRoom;
  delete document.body.dataset.live;
});
