// The live count: asks the public API for the petition's numbers every few
// seconds while the page is in view, and writes them into the elements marked
// data-count="verified" / "awaiting" / "paper" (of the verified, entered from
// paper sheets; shown only once there are any). The page is complete without it: the
// server rendered the same numbers, and any failure just leaves them.
//
// The word after a number follows it ("1 проверенная подпись", "2 проверенные
// подписи"): the number's parent carries every form of that word, rendered by
// the server in the page's language as data-plural-one/-few/-many/-other, and
// the browser's plural rules for that language pick one.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.Intl) {
    return;
  }
  var url = script.getAttribute("data-count-url");
  var every = Math.max(1, Number(script.getAttribute("data-interval")) || 10) * 1000;
  var slowest = 5 * 60 * 1000;
  var delay = every;
  var timer = null;
  var language = document.documentElement.lang || undefined;
  var format = new Intl.NumberFormat(language);
  var plurals = window.Intl.PluralRules ? new Intl.PluralRules(language) : null;

  // Only a real change is written: #counts is a polite live region, and
  // rewriting the same text would have screen readers repeat it.
  function write(node, text) {
    if (node.nodeValue !== null) {
      if (node.nodeValue !== text) {
        node.nodeValue = text;
      }
    } else if (node.textContent !== text) {
      node.textContent = text;
    }
  }

  // The text right after the number, where the server wrote the word.
  function word(node, value) {
    var holder = node.parentNode;
    var after = node.nextSibling;
    if (!plurals || !holder || !holder.hasAttribute("data-plural-other")) {
      return;
    }
    if (!after || after.nodeType !== 3) {
      return;
    }
    var form =
      holder.getAttribute("data-plural-" + plurals.select(value)) ||
      holder.getAttribute("data-plural-other");
    write(after, " " + form);
  }

  function show(bucket, value) {
    if (typeof value !== "number") {
      return;
    }
    var text = format.format(value);
    var nodes = document.querySelectorAll('[data-count="' + bucket + '"]');
    for (var i = 0; i < nodes.length; i++) {
      write(nodes[i], text);
      word(nodes[i], value);
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!document.hidden) {
      timer = setTimeout(poll, delay);
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 404) {
          throw new Error("gone");
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        show("verified", data.verified_count);
        show("awaiting", data.awaiting_count);
        show("paper", data.paper_count);
        delay = every;
        schedule();
      })
      .catch(function (error) {
        if (error && error.message === "gone") {
          return; // unpublished or removed: stop asking
        }
        // The server is busy or away: ask less often, up to every five minutes.
        delay = Math.min(delay * 2, slowest);
        schedule();
      });
  }

  // A hidden tab asks nothing; coming back asks at once.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else {
      delay = every;
      poll();
    }
  });
  schedule();
})();
