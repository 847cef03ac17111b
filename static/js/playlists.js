import { post } from "./api.js";
import { navigate } from "./shell.js";

const form = document.getElementById("create-form");
const err = document.getElementById("create-error");
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  err.textContent = "";
  try {
    const p = await post("/api/playlists", {
      name: form.elements.name.value.trim(),
      isCollaborative: form.elements.isCollaborative.checked,
    });
    navigate(`/playlists/${p.id}`);
  } catch (e) {
    err.textContent = (e.fields && e.fields.name && e.fields.name.join(" ")) || e.message;
  }
});
