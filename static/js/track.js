import { api, getAll, fmtDuration, toast } from "./api.js";
import { likedAmong, showLiked, toggleLike } from "./likes.js";

const dur = document.getElementById("duration");
if (dur) dur.textContent = fmtDuration(Number(dur.dataset.ms));

const form = document.getElementById("add-form");
if (form) {
  const select = document.getElementById("add-playlist");
  const status = document.getElementById("add-status");
  getAll("/api/playlists?pageSize=100").then((items) => {
    select.replaceChildren(...items.map((p) => new Option(p.name, p.id)));
    if (!items.length) select.replaceChildren(new Option("No playlists yet", ""));
  }).catch((e) => { status.textContent = e.message; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!select.value) return;
    try {
      await api("PUT", `/api/playlists/${select.value}/tracks`, { trackIds: [form.dataset.track] });
      status.textContent = "Added.";
    } catch (e) {
      status.textContent = e.code === "duplicate_track" ? "Already in that playlist." : e.message;
    }
  });
  const like = document.getElementById("like-track");
  const id = like.dataset.track;
  likedAmong([id]).then((liked) => showLiked(like, liked.has(id))).catch(() => {});
  like.addEventListener("click", async () => {
    try {
      const liked = await toggleLike(like, id);
      toast(liked ? "Thanks — your recommendations will reflect this." : "Like removed.");
    } catch (e) { toast(e.message, "error"); }
  });
}
