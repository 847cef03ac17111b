import { api, post, toast } from "./api.js";

const form = document.getElementById("prefs-form");
const energy = document.getElementById("energy");
const energyOut = document.getElementById("energy-out");
const prefsStatus = document.getElementById("prefs-status");

energy.addEventListener("input", () => { energyOut.textContent = energy.value; });

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const fd = new FormData(form);
  const body = {
    genres: fd.getAll("genres"),
    moods: fd.getAll("moods"),
    energy: Number(energy.value),
    explicitContent: form.elements.explicitContent.checked,
  };
  prefsStatus.textContent = "Saving…";
  try {
    await api("PATCH", "/api/users/me/preferences", body);
    prefsStatus.textContent = "Saved.";
    toast("Preferences saved");
  } catch (e) {
    prefsStatus.textContent = e.message;
  }
});

// Two-factor enrollment: setup → QR + secret → confirm with a code.
const msg = document.getElementById("tfa-msg");
const state = document.getElementById("tfa-state");
function say(text, kind = "error") {
  msg.hidden = !text;
  msg.textContent = text || "";
  msg.className = "alert alert-" + kind;
}

const setupForm = document.getElementById("tfa-setup-form");
setupForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  say("");
  try {
    const data = await post("/api/auth/2fa/setup", { password: setupForm.elements.password.value });
    setupForm.reset();
    const qr = document.getElementById("tfa-qr");
    // The SVG comes from our own API (a QR code image, no scripts); parse it as SVG, not HTML.
    const doc = new DOMParser().parseFromString(data.qrSvg, "image/svg+xml");
    const svg = doc.documentElement;
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    qr.replaceChildren(document.importNode(svg, true));
    const secret = new URL(data.otpauthUri.replace(/^otpauth:/, "https:")).searchParams.get("secret") || "";
    document.getElementById("tfa-secret").textContent = secret.replace(/(.{4})/g, "$1 ").trim();
    document.getElementById("tfa-secret").dataset.secret = secret;
    document.getElementById("tfa-uri").href = data.otpauthUri;
    document.getElementById("tfa-enroll").hidden = false;
    setupForm.hidden = true;
    document.getElementById("tfa-code").focus();
  } catch (e) {
    say(e.message);
  }
});

document.getElementById("tfa-confirm-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const otp = document.getElementById("tfa-code").value.replace(/\s+/g, "");
  try {
    const result = await post("/api/auth/2fa/confirm", { otp });
    showCodes(result.recoveryCodes || []);
    document.getElementById("tfa-off").hidden = true;
    document.getElementById("tfa-disable-form").hidden = false;
    document.getElementById("tfa-renew-form").hidden = false;
    state.innerHTML = "<strong>On.</strong> Signing in asks for a code from your authenticator app.";
    say("Two-factor authentication is now on.", "ok");
  } catch (e) {
    say(e.message);
  }
});

document.getElementById("tfa-disable-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  try {
    await post("/api/auth/2fa/disable", {
      password: f.elements.password.value,
      otp: f.elements.otp.value.replace(/\s+/g, ""),
    });
    f.reset();
    f.hidden = true;
    document.getElementById("tfa-off").hidden = false;
    document.getElementById("tfa-renew-form").hidden = true;
    document.getElementById("tfa-codes").hidden = true;
    document.getElementById("tfa-enroll").hidden = true;
    setupForm.hidden = false;
    state.innerHTML = "<strong>Off.</strong> Add a second step to sign-in with an authenticator app.";
    say("Two-factor authentication is off.", "ok");
  } catch (e) {
    say(e.message);
  }
});

// Scrobbling tokens: made here (the value shown once), listed, revoked.
const tokenForm = document.getElementById("token-form");
const tokenList = document.getElementById("token-list");
function revoker(button) {
  button.addEventListener("click", async () => {
    const name = button.closest("li").querySelector("strong").textContent;
    if (!confirm(`Revoke “${name}”? Players using it stop scrobbling at once.`)) return;
    try {
      await api("DELETE", `/api/users/me/listen-tokens/${encodeURIComponent(button.dataset.revoke)}`);
      button.closest("li").remove();
      toast(`Revoked “${name}”.`);
    } catch (e) {
      toast(e.message, "error");
    }
  });
}
tokenList.querySelectorAll("button[data-revoke]").forEach(revoker);
tokenForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const made = await post("/api/users/me/listen-tokens", { name: tokenForm.elements.name.value });
    document.getElementById("token-value").textContent = made.token;
    document.getElementById("token-new").hidden = false;
    document.getElementById("token-empty")?.remove();
    const li = document.createElement("li");
    const main = document.createElement("span");
    main.className = "lib-main";
    const strong = document.createElement("strong");
    strong.textContent = made.name;
    const meta = document.createElement("span");
    meta.className = "muted small";
    meta.textContent = " made just now · never used";
    main.append(strong, meta);
    const button = document.createElement("button");
    Object.assign(button, { type: "button", className: "btn btn-small btn-danger", textContent: "Revoke" });
    button.dataset.revoke = made.id;
    button.setAttribute("aria-label", `Revoke ${made.name}`);
    revoker(button);
    li.append(main, button);
    tokenList.prepend(li);
    tokenForm.reset();
  } catch (e) {
    toast(e.message, "error");
  }
});
document.getElementById("token-copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(document.getElementById("token-value").textContent);
    toast("Token copied.");
  } catch {
    toast("Select the token and copy it by hand.", "error");
  }
});

// Deleting the account: password (and code), then the signed-out home page.
const deleteForm = document.getElementById("delete-form");
deleteForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const msg = document.getElementById("delete-msg");
  msg.textContent = "";
  const body = { password: deleteForm.elements.password.value };
  if (deleteForm.elements.otp) body.otp = deleteForm.elements.otp.value.replace(/\s+/g, "");
  try {
    await api("DELETE", "/api/users/me", body);
    location.assign("/?deleted=1");
  } catch (e) {
    msg.textContent = e.message;
  }
});

// Recovery codes: listed once after 2FA is turned on or after renewing them.
function showCodes(codes) {
  const list = document.getElementById("tfa-code-list");
  list.replaceChildren(...codes.map((c) => {
    const li = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = c;
    li.append(code);
    return li;
  }));
  document.getElementById("tfa-codes").hidden = !codes.length;
}
const renewForm = document.getElementById("tfa-renew-form");
renewForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const result = await post("/api/auth/2fa/recovery-codes", {
      password: renewForm.elements.password.value,
      otp: renewForm.elements.otp.value.replace(/\s+/g, ""),
    });
    renewForm.reset();
    showCodes(result.codes);
    say("");
  } catch (e) {
    say(e.message);
  }
});

// Ending one sign-in (another browser, an API client, an app) from here.
for (const button of document.querySelectorAll("button[data-end]")) {
  button.addEventListener("click", async () => {
    try {
      await api("DELETE", `/api/users/me/sessions/${encodeURIComponent(button.dataset.end)}`);
      button.closest("li").remove();
      toast("Signed out there.");
    } catch (e) {
      toast(e.message, "error");
    }
  });
}

// Email change: a confirmation link goes to the new address.
const emailForm = document.getElementById("email-form");
emailForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const status = document.getElementById("email-status");
  try {
    await post("/api/users/me/email", {
      email: emailForm.elements.email.value, password: emailForm.elements.password.value,
    });
    status.textContent = `Check ${emailForm.elements.email.value}: the change happens when you open the link.`;
    emailForm.reset();
  } catch (e) {
    status.textContent = e.message;
  }
});
