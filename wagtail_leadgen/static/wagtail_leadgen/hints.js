/* wagtail-leadgen: live content hints in the page editor.
 *
 * Posts the unsaved edit form to the hints endpoint a moment after the editor
 * stops typing, and redraws the panel from the JSON answer. Loaded by
 * ContentHintsPanel's media, in the admin only; no other script is needed.
 */
(function () {
  "use strict";

  var POLL_MS = 2000; // catches widgets that change the form without an event

  function formBody(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") {
        params.append(name, value);
      }
    });
    return params;
  }

  function Hints(root) {
    this.root = root;
    this.form = root.closest("form");
    this.url = root.dataset.url;
    this.debounce = parseInt(root.dataset.debounce, 10) || 800;
    this.list = root.querySelector("[data-hints-list]");
    this.status = root.querySelector("[data-hints-status]");
    this.template = root.querySelector("[data-hints-template]");
    this.timer = null;
    this.sent = null;
    this.controller = null;
  }

  Hints.prototype.start = function () {
    if (!this.form || !this.url || !this.list) {
      return;
    }
    var schedule = this.schedule.bind(this);
    this.form.addEventListener("input", schedule);
    this.form.addEventListener("change", schedule);
    this.form.addEventListener("keyup", schedule);
    var self = this;
    window.setInterval(function () {
      if (!document.hidden && formBody(self.form).toString() !== self.sent) {
        self.schedule();
      }
    }, POLL_MS);
    this.refresh();
  };

  Hints.prototype.schedule = function () {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(this.refresh.bind(this), this.debounce);
  };

  Hints.prototype.refresh = function () {
    var body = formBody(this.form);
    var key = body.toString();
    if (key === this.sent) {
      return;
    }
    this.sent = key;
    if (this.controller) {
      this.controller.abort();
    }
    this.controller = new AbortController();
    var csrf = this.form.querySelector("input[name=csrfmiddlewaretoken]");
    var self = this;
    this.root.setAttribute("aria-busy", "true");
    fetch(this.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "X-CSRFToken": csrf ? csrf.value : "",
        "X-Requested-With": "XMLHttpRequest",
      },
      signal: this.controller.signal,
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        self.render(data);
        self.say(data.valid ? "" : self.root.dataset.stale);
      })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          self.sent = null; // try again on the next change
          self.say(self.root.dataset.error);
        }
      })
      .finally(function () {
        self.root.removeAttribute("aria-busy");
      });
  };

  Hints.prototype.say = function (text) {
    if (!this.status) {
      return;
    }
    this.status.textContent = text || "";
    this.status.hidden = !text;
  };

  Hints.prototype.render = function (data) {
    var display = data.metrics.display;
    var values = {
      words: display.words,
      reading_time: display.reading_time,
      readability: display.readability,
      form_fields: data.metrics.form_fields,
    };
    Object.keys(values).forEach(function (name) {
      var cell = this.root.querySelector('[data-hints-metric="' + name + '"]');
      if (cell && values[name] !== null && values[name] !== undefined) {
        cell.textContent = String(values[name]);
      }
    }, this);
    var readability = this.root.querySelector('[data-hints-metric="readability"]');
    if (readability) {
      readability.title = data.metrics.readability_formula || "";
    }
    var items = document.createDocumentFragment();
    data.hints.forEach(function (hint) {
      items.appendChild(this.item(hint));
    }, this);
    this.list.replaceChildren(items);
  };

  Hints.prototype.item = function (hint) {
    var item = this.template.content.firstElementChild.cloneNode(true);
    item.className = "leadgen-hint leadgen-hint--" + hint.level;
    item.dataset.hintId = hint.id;
    item.dataset.level = hint.level;
    item.querySelector("[data-hint-level]").textContent =
      this.root.dataset["label" + hint.level.charAt(0).toUpperCase() + hint.level.slice(1)] || hint.level;
    item.querySelector("[data-hint-message]").textContent = hint.message;
    item.querySelector("[data-hint-action]").textContent = hint.action;
    return item;
  };

  function init() {
    document.querySelectorAll("[data-leadgen-hints]").forEach(function (root) {
      if (!root.dataset.started) {
        root.dataset.started = "true";
        new Hints(root).start();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
