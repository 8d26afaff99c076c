/* The decoupled demo: a static front end on its own origin that reads a
 * Wagtail site through Wagtail's page API v2 and the plugin's JSON API
 * (docs/headless.md). No framework, no build step, no third-party script.
 *
 *   ./            lists the landing pages (/api/v2/pages/?type=wagtail_leadgen.LandingPage)
 *   ./?page=<id>  shows one: its body from /api/v2/pages/<id>/ and its form from
 *                 the form schema (GET /api/leadgen/v1/forms/<id>), posted as JSON
 */
"use strict";

(function () {
  const LANDING_TYPE = "wagtail_leadgen.LandingPage";
  const view = document.getElementById("view");
  const status = document.getElementById("status");
  const params = new URLSearchParams(window.location.search);

  // -- Configuration: the API origin -------------------------------------
  function apiOrigin() {
    const fromQuery = params.get("api");
    const fromMeta = document.querySelector('meta[name="leadgen-api"]');
    for (const candidate of [fromQuery, fromMeta && fromMeta.content]) {
      try {
        const url = new URL(candidate);
        if (url.protocol === "http:" || url.protocol === "https:") return url.origin;
      } catch (error) {
        /* not a URL: try the next source */
      }
    }
    return "http://127.0.0.1:8000";
  }
  const API = apiOrigin();
  const apiUrl = (path) => new URL(path, API).href;

  // Links inside the front end keep an explicit ?api=.
  function frontUrl(extra) {
    const next = new URLSearchParams(extra);
    if (params.get("api")) next.set("api", params.get("api"));
    const query = next.toString();
    return query ? `./?${query}` : "./";
  }

  // -- Small DOM helpers ---------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // HTML from the API (rich text, purposes, the notice) is sanitised by the
  // site; it is rebuilt here from an allow-list anyway, so that no markup
  // from another origin ever runs in this one.
  const ALLOWED = new Set(["P", "A", "STRONG", "EM", "B", "I", "UL", "OL", "LI", "BR", "H2", "H3", "H4", "BLOCKQUOTE", "SPAN", "DIV", "DL", "DT", "DD", "SMALL", "DETAILS", "SUMMARY"]);
  function safeHtml(html) {
    const fragment = document.createDocumentFragment();
    const parsed = new DOMParser().parseFromString(String(html || ""), "text/html");
    (function copy(from, to) {
      for (const node of from.childNodes) {
        if (node.nodeType === Node.TEXT_NODE) {
          to.append(node.textContent);
        } else if (node.nodeType === Node.ELEMENT_NODE) {
          if (!ALLOWED.has(node.tagName)) {
            copy(node, to);
            continue;
          }
          const clean = document.createElement(node.tagName.toLowerCase());
          if (node.tagName === "A") {
            const href = node.getAttribute("href") || "";
            try {
              const url = new URL(href, API);
              if (["http:", "https:", "mailto:", "tel:"].includes(url.protocol)) {
                clean.setAttribute("href", url.href);
              }
            } catch (error) {
              /* an unusable link becomes its text */
            }
          }
          copy(node, clean);
          to.append(clean);
        }
      }
    })(parsed.body, fragment);
    const wrapper = el("div");
    wrapper.append(fragment);
    return wrapper;
  }

  function say(message) {
    status.textContent = message;
  }

  async function getJson(path) {
    const response = await fetch(apiUrl(path), { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${path} answered ${response.status}`);
    return response.json();
  }

  // -- The list of offers --------------------------------------------------
  async function showList() {
    const data = await getJson(`/api/v2/pages/?type=${LANDING_TYPE}&fields=intro`);
    document.title = "Offers — decoupled demo";
    const list = el("ul", { class: "offers" });
    for (const item of data.items) {
      list.append(
        el("li", {},
          el("h2", {}, el("a", { href: frontUrl({ page: item.id }), text: item.title })),
          item.intro ? el("p", { text: item.intro }) : null)
      );
    }
    view.replaceChildren(
      el("h1", { text: "Offers" }),
      data.items.length ? list : el("p", { text: "No landing page is published yet." })
    );
    say(`${data.items.length} offer(s) from ${API}.`);
  }

  // -- One landing page ------------------------------------------------------
  function renderBlock(block) {
    if (block.type === "paragraph") return safeHtml(block.value);
    if (block.type === "cta" && block.value) {
      const cta = block.value;
      return el("p", {},
        el("a", { class: "cta", href: apiUrl(cta.click_url || cta.href), text: cta.label }),
        cta.description ? el("span", { class: "help", text: ` ${cta.description}` }) : null);
    }
    return null; // images and other blocks: not drawn by this small demo
  }

  async function showPage(pageId) {
    const page = await getJson(`/api/v2/pages/${encodeURIComponent(pageId)}/`);
    document.title = `${page.title} — decoupled demo`;
    const article = el("article", {},
      el("p", {}, el("a", { href: frontUrl({}), text: "← All offers" })),
      el("h1", { text: page.title }),
      page.intro ? el("p", { class: "intro", text: page.intro }) : null);
    for (const block of page.body || []) {
      const node = renderBlock(block);
      if (node) article.append(node);
    }
    const formArea = el("section", { "aria-labelledby": "form-title" });
    article.append(formArea);
    view.replaceChildren(article);
    const schemaPath = page.form_schema_url || `/api/leadgen/v1/forms/${page.id}`;
    await showForm(formArea, schemaPath, {});
    say("");
  }

  // -- The form, from the plugin's schema ------------------------------------
  function fieldControl(field, value) {
    const id = `field-${field.name}`;
    const attrs = {
      id,
      name: field.name,
      required: field.required,
      maxlength: field.max_length,
      "aria-describedby": field.help_text ? `${id}-help` : null,
    };
    if (field.kind === "question" || field.input_type === "textarea") {
      const area = el("textarea", { ...attrs, rows: "4" });
      area.value = value || "";
      return area;
    }
    const type = field.kind === "email" ? "email" : field.kind === "phone" ? "tel" : (field.input_type || "text");
    const input = el("input", { ...attrs, type, autocomplete: field.autocomplete || null });
    input.value = value || "";
    return input;
  }

  async function showForm(area, schemaPath, answers, notice) {
    const schema = await getJson(schemaPath);
    const form = el("form", { novalidate: true });
    const errorSlot = el("div");
    form.append(errorSlot, el("p", { class: "help", text: "Fields marked * are required." }));
    if (notice) errorSlot.append(errorSummary([notice], {}));

    for (const field of schema.fields) {
      const id = `field-${field.name}`;
      form.append(el("div", { class: "field", "data-field": field.name },
        el("label", { for: id, text: field.label + (field.required ? " *" : "") }),
        field.help_text ? el("p", { class: "help", id: `${id}-help`, text: field.help_text }) : null,
        fieldControl(field, answers[field.name])));
    }
    // The honeypot: no person sees it (hidden, out of the accessibility tree).
    const honeypot = el("input", { type: "text", name: schema.anti_spam.honeypot_field || "hp", tabindex: "-1", autocomplete: "off", id: "hp" });
    form.append(el("div", { class: "hp", hidden: true, "aria-hidden": "true" },
      el("label", { for: "hp", text: "Leave this field empty" }), honeypot));

    const boxes = schema.consents.filter((consent) => !consent.is_request);
    if (boxes.length) {
      const fieldset = el("fieldset", { class: "consents" }, el("legend", { text: "Your choices" }));
      for (const consent of boxes) {
        const id = `consent-${consent.id}`;
        // Never pre-ticked: not ticking is a refusal, not an error.
        const box = el("input", { type: "checkbox", id, name: id, "data-purpose": String(consent.id), "aria-describedby": `${id}-text` });
        box.checked = false;
        const text = safeHtml(consent.text);
        text.className = "purpose";
        text.id = `${id}-text`;
        fieldset.append(el("div", { class: "consent" }, box, el("label", { for: id, text: consent.name }), text));
      }
      form.append(fieldset);
    }
    for (const request of schema.consents.filter((consent) => consent.is_request)) {
      form.append(el("p", { class: "request", text: request.name }));
    }
    if (schema.notice && schema.notice.html) {
      const noticeNode = safeHtml(schema.notice.html);
      noticeNode.className = "notice";
      form.append(noticeNode);
    }
    const button = el("button", { type: "submit", text: schema.submit_label });
    form.append(button);
    area.replaceChildren(el("h2", { id: "form-title", text: schema.heading }), form);

    let lastBody = null;
    let idempotencyKey = null;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        answers: Object.fromEntries(schema.fields.map((field) => [field.name, form.elements[field.name].value])),
        consents: Object.fromEntries(boxes.map((consent) => [String(consent.id), form.elements[`consent-${consent.id}`].checked])),
        token: schema.anti_spam.token,
        honeypot: honeypot.value,
      };
      const serialised = JSON.stringify(body);
      // The same answers sent twice (a double click, a retry) are one lead.
      if (serialised !== lastBody) {
        lastBody = serialised;
        idempotencyKey = window.crypto.randomUUID();
      }
      button.disabled = true;
      say("Sending…");
      try {
        const response = await fetch(apiUrl(schema.submit_url), {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": idempotencyKey },
          body: serialised,
        });
        const reply = await response.json().catch(() => ({}));
        if (response.status === 201) {
          await showThanks(area, reply);
          return;
        }
        if (response.status === 409) {
          // The form changed (a purpose's wording, an expired token): show it again.
          await showForm(area, schemaPath, body.answers,
            { field: null, message: "This form has changed since it was shown. Please check it and send it again." });
          return;
        }
        let errors = Array.isArray(reply.errors) && reply.errors.length ? reply.errors : [{ field: null, message: reply.detail || "The form could not be sent." }];
        if (response.status === 429) {
          const wait = response.headers.get("Retry-After");
          errors = [{ field: null, message: `Too many attempts: please try again${wait ? ` in ${wait} seconds` : " later"}.` }];
        }
        showErrors(form, errorSlot, errors);
      } catch (error) {
        showErrors(form, errorSlot, [{ field: null, message: "The site could not be reached. Please try again." }]);
      } finally {
        button.disabled = false;
        say("");
      }
    });
  }

  function errorSummary(errors, labels) {
    const list = el("ul");
    for (const error of errors) {
      const label = error.field && labels[error.field];
      const text = label ? `${label}: ${error.message}` : error.message;
      list.append(el("li", {}, label ? el("a", { href: `#field-${error.field}`, text }) : document.createTextNode(text)));
    }
    return el("div", { class: "error-summary", role: "alert", tabindex: "-1", id: "error-summary" },
      el("h2", { text: "Please correct the following:" }), list);
  }

  function showErrors(form, slot, problems) {
    // A problem's `field` is a path into the body: "answers.email" is the
    // email field; anything else (null, "token"…) is about the whole form.
    const errors = problems.map((error) => ({
      ...error,
      field: typeof error.field === "string" && error.field.startsWith("answers.") ? error.field.slice(8) : null,
    }));
    const labels = {};
    for (const wrapper of form.querySelectorAll(".field")) {
      const name = wrapper.dataset.field;
      const control = form.elements[name];
      labels[name] = wrapper.querySelector("label").textContent.replace(/ \*$/, "");
      control.removeAttribute("aria-invalid");
      const old = wrapper.querySelector(".field-error");
      if (old) old.remove();
      if (wrapper.querySelector(".help")) control.setAttribute("aria-describedby", `field-${name}-help`);
      else control.removeAttribute("aria-describedby");
    }
    for (const error of errors) {
      const wrapper = error.field && form.querySelector(`.field[data-field="${CSS.escape(error.field)}"]`);
      if (!wrapper) continue;
      const control = form.elements[error.field];
      const id = `field-${error.field}-error`;
      wrapper.insertBefore(el("p", { class: "field-error", id, text: error.message }), control);
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", `${id} ${control.getAttribute("aria-describedby") || ""}`.trim());
    }
    const summary = errorSummary(errors, labels);
    slot.replaceChildren(summary);
    summary.focus();
  }

  // -- After a 201: the thank-you page and the download --------------------------
  async function showThanks(area, reply) {
    const parts = [];
    if (reply.thank_you_page) {
      const thanks = await getJson(`/api/v2/pages/${reply.thank_you_page.id}/`);
      parts.push(el("h2", { id: "thanks-title", text: thanks.title }));
      if (thanks.message) parts.push(safeHtml(thanks.message));
    } else {
      parts.push(el("h2", { id: "thanks-title", text: "Thank you" }));
    }
    if (reply.download_url) {
      parts.push(el("p", {}, el("a", { class: "download", href: apiUrl(reply.download_url), text: "Download your copy" })));
    }
    if (reply.confirmation_requested) {
      parts.push(el("p", { text: "We have sent you an email: confirm your choices from the link in it." }));
    }
    const region = el("div", { role: "status", tabindex: "-1", "aria-labelledby": "thanks-title" }, ...parts);
    area.replaceChildren(region);
    region.focus();
  }

  // -- Start -------------------------------------------------------------------
  const pageId = params.get("page");
  (pageId ? showPage(pageId) : showList()).catch((error) => {
    view.replaceChildren(el("div", { class: "error-summary", role: "alert" },
      el("p", { text: `The site at ${API} could not be read (${error.message}). Is \`make demo\` running, and does its CORS_ALLOWED_ORIGINS list this page's origin?` })));
    say("");
  });
})();
