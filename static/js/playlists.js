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

// A cover that fails to load (deleted audio) leaves its tile to the neutral background: those
// failed before this ran, and those that fail later.
const main = document.getElementById("main");
const broken = (img) => img.classList.add("broken");
main.querySelectorAll(".mosaic img").forEach((img) => { if (img.complete && !img.naturalWidth) broken(img); });
main.addEventListener("error", (ev) => { if (ev.target.matches && ev.target.matches(".mosaic img")) broken(ev.target); }, true);
