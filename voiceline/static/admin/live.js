// Keeps the admin home current without reloading it: every few seconds it fetches the
// live sections (GET data-live-url) and swaps in each one that changed. Without this
// script the page is complete as served; it only stops moving.
(function () {
  "use strict";

  var root = document.getElementById("live");
  if (!root || !window.fetch || !window.DOMParser) {
    return;
  }
  var url = root.getAttribute("data-live-url");
  var interval = Number(root.getAttribute("data-live-seconds") || "5") * 1000;
  var status = document.querySelector("[data-live-status]");
  var summary = document.getElementById("live-summary");
  var baseTitle = document.title.replace(/^\(\d+\) /, "");
  var timer = null;
  var inFlight = false;
  var isExpired = false;

  function say(text, isStale) {
    if (status) {
      status.textContent = text;
      status.classList.toggle("stale", Boolean(isStale));
    }
  }

  // Where focus was, so a keyboard user is not thrown to the top when a section is swapped.
  function focusKey(element) {
    return element.id ? "#" + element.id : element.getAttribute("href");
  }

  function refocus(section, key) {
    if (!key) {
      return;
    }
    var candidates = section.querySelectorAll(key.charAt(0) === "#" ? key : "a[href]");
    for (var i = 0; i < candidates.length; i += 1) {
      if (focusKey(candidates[i]) === key) {
        candidates[i].focus();
        return;
      }
    }
  }

  // The counts the incidents section carries, for the tab title and screen readers.
  function counts() {
    var incidents = document.getElementById("open-incidents");
    var waiting = Number((incidents && incidents.getAttribute("data-unacknowledged")) || "0");
    var open = Number((incidents && incidents.getAttribute("data-open")) || "0");
    return { waiting: waiting, text: open + " open incidents, " + waiting + " not acknowledged." };
  }

  var lastSummary = counts().text;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    fresh.querySelectorAll("[data-live-section]").forEach(function (section) {
      var current = document.getElementById(section.id);
      if (!current || current.isEqualNode(section)) {
        return;
      }
      var active = document.activeElement;
      var key = active && current.contains(active) ? focusKey(active) : null;
      var copy = document.importNode(section, true);
      current.replaceWith(copy);
      refocus(copy, key);
    });
    var now = counts();
    document.title = (now.waiting ? "(" + now.waiting + ") " : "") + baseTitle;
    if (summary && now.text !== lastSummary) {
      summary.textContent = now.text;
    }
    lastSummary = now.text;
  }

  function stop() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  }

  function poll() {
    if (inFlight) {
      return;
    }
    inFlight = true;
    var options = {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual", // a logged-out request is sent to the login form: do not follow
      headers: { Accept: "text/html" },
    };
    fetch(url, options)
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401) {
          isExpired = true;
          stop();
          say("Live updates stopped: the login has expired. Reload the page to log in again.", true);
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (html !== null) {
          swap(html);
          say("Live: updates every " + interval / 1000 + " s.", false);
        }
      })
      .catch(function () {
        say("Cannot reach the server: showing what it last sent, retrying.", true);
      })
      .then(function () {
        inFlight = false;
      });
  }

  function start() {
    if (timer === null) {
      timer = setInterval(poll, interval);
    }
  }

  // A hidden tab does not poll; it catches up the moment it is shown again.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || isExpired) {
      stop();
    } else {
      poll();
      start();
    }
  });
  say("Live: updates every " + interval / 1000 + " s.", false);
  start();
})();
