"use strict";
// The sign-in page: exchanges the token for an HttpOnly session cookie, then opens the console.
document.addEventListener("DOMContentLoaded", () => {
  if (new URLSearchParams(location.search).get("link") === "used") {
    document.getElementById("link-used").hidden = false;
  }
  document.getElementById("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("sign-in-error");
    error.textContent = "";
    const response = await fetch("/api/session", {
      method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({token: document.getElementById("token").value})
    });
    if (response.ok) {
      location.href = "/console/";
    } else {
      const body = await response.json().catch(() => ({}));
      error.textContent = body.error || ("sign-in failed: HTTP " + response.status);
    }
  });
});
