// The intake form's suggestions as the agent types (api/workspace_intake.py): the form as typed so
// far goes to this site's /workspace/intake/suggestions, which answers the solved cases' list, drawn
// by the server like the rest of the page. No other site, no library; without it "Check" does the same.
"use strict";
(function () {
  const form = document.getElementById("intake");
  const list = document.getElementById("suggestion-list");
  if (!form || !list) return;
  let waiting = null;
  let asked = 0;
  async function suggest() {
    const mine = ++asked;
    const body = new URLSearchParams(new FormData(form));
    const answer = await fetch("/workspace/intake/suggestions", {method: "POST", body, credentials: "same-origin"});
    if (answer.ok && mine === asked) list.innerHTML = await answer.text();  // the server's escaped HTML
  }
  for (const name of ["description", "demand", "category"]) {
    const field = form.elements.namedItem(name);
    if (field) field.addEventListener("input", () => { clearTimeout(waiting); waiting = setTimeout(suggest, 300); });
  }
})();
