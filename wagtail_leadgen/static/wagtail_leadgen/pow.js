/* Solves the lead form's proof-of-work challenge (ALTCHA's format) in the
 * visitor's browser: find the number whose SHA-256, after the salt, is the
 * challenge; post it with the signed challenge. Loaded after the first paint
 * (or with `defer`), only when the site turned the option on; without
 * JavaScript the form still posts (the server then applies a stricter time
 * trap). */
(function () {
  "use strict";

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), function (byte) {
      return byte.toString(16).padStart(2, "0");
    }).join("");
  }

  async function solve(challenge) {
    var encoder = new TextEncoder();
    var salt = challenge.salt;
    for (var number = 0; number <= challenge.maxNumber; number += 1) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(salt + number));
      if (hex(digest) === challenge.challenge) {
        return number;
      }
    }
    return null;
  }

  function prepare(form) {
    var challenge = JSON.parse(form.getAttribute("data-leadgen-pow"));
    var field = form.querySelector('input[name="leadgen_pow"]');
    if (!field || !window.crypto || !crypto.subtle) {
      return;
    }
    var solved = solve(challenge).then(function (number) {
      if (number !== null) {
        field.value = btoa(JSON.stringify({
          algorithm: challenge.algorithm,
          challenge: challenge.challenge,
          number: number,
          salt: challenge.salt,
          signature: challenge.signature,
        }));
      }
    });
    form.addEventListener("submit", function (event) {
      if (field.value) {
        return;
      }
      event.preventDefault();
      form.setAttribute("aria-busy", "true");
      // form.submit() does not fire "submit" again.
      solved.then(function () { form.submit(); });
    });
  }

  document.querySelectorAll("form[data-leadgen-pow]").forEach(prepare);
  // A form a shared cache holds gets its challenge later, with the visitor's
  // token (form.js), and announces it with this event.
  document.addEventListener("leadgen:pow", function (event) {
    prepare(event.target);
  });
})();
