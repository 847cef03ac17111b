// Likes as the server keeps them: read back with GET /api/users/me/likes?trackIds=…, made with a
// `like` interaction, undone with DELETE /api/users/me/likes/{trackId}; shown on toggle buttons.
import { api, get, post } from "./api.js";

// Which of these tracks the user has liked (one API page: at most 100 ids).
export async function likedAmong(ids) {
  if (!ids.length) return new Set();
  const q = new URLSearchParams({ trackIds: ids.slice(0, 100).join(","), pageSize: "100" });
  const page = await get(`/api/users/me/likes?${q}`);
  return new Set((page.results || []).map((t) => t.id));
}

export function showLiked(button, liked) {
  button.setAttribute("aria-pressed", String(liked));
  button.textContent = liked ? "Liked" : "Like";
}

// Like the track, or unlike it when the button shows it liked; returns whether it is liked now.
export async function toggleLike(button, trackId, context) {
  const liked = button.getAttribute("aria-pressed") === "true";
  if (liked) await api("DELETE", `/api/users/me/likes/${encodeURIComponent(trackId)}`);
  else await post("/api/interactions", context ? { trackId, type: "like", context } : { trackId, type: "like" });
  showLiked(button, !liked);
  return !liked;
}
