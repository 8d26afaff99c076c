/* A lead form a shared cache (a CDN) holds carries a page token, the same for
 * every visitor. This script, loaded after the first paint by the plugin's
 * layout (or with `defer` in a site's layout: it never blocks rendering),
 * swaps it for the visitor's own time-trap token from the form's
 * token URL, with a proof-of-work challenge when the site has it on (pow.js
 * then solves it), and fills in where the visitor came from. Without
 * JavaScript, or if the fetch fails, the form still posts with the page
 * token (the server then applies its stricter checks). */
(function () {
  "use strict";

  function prepare(form) {
    var url = form.getAttribute("data-leadgen-token-url");
    var token = form.querySelector('input[name="leadgen_token"]');
    var referrer = form.querySelector('input[name="leadgen_ref"]');
    if (referrer && !referrer.value && document.referrer) {
      referrer.value = document.referrer;
    }
    if (!url || !token || !window.fetch) {
      return;
    }
    var done = false;
    var ready = fetch(url + "?t=" + encodeURIComponent(token.value), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data || typeof data.token !== "string") {
          return;
        }
        token.value = data.token;
        if (data.pow) {
          form.setAttribute("data-leadgen-pow", JSON.stringify(data.pow));
          form.dispatchEvent(new CustomEvent("leadgen:pow", { bubbles: true }));
        }
      })
      .catch(function () {})
      .then(function () {
        done = true;
      });
    // Sent before the token came: wait for it, then send again (pow.js, now
    // listening, may hold the form until its challenge is solved).
    form.addEventListener("submit", function (event) {
      if (done) {
        return;
      }
      event.preventDefault();
      form.setAttribute("aria-busy", "true");
      ready.then(function () {
        if (form.requestSubmit) {
          form.requestSubmit(event.submitter || undefined);
        } else {
          form.submit();
        }
      });
    });
  }

  document.querySelectorAll("form[data-leadgen-token-url]").forEach(prepare);
})();
