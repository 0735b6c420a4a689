// Petitions that look like yours, while you type the title: asks
// /petitions/lookalike.json a moment after the typing stops and lists what it
// answers in #lookalikes (a polite live region), with the heading and the
// words the server rendered in the page's language (#lookalikes-parts, the
// region's data-count-* plural forms). The form is complete without it: the
// server shows the same list when the form is saved, once per title; when this
// script has shown a list for the title being saved, it says so in the form's
// lookalikes_seen field, and the save goes through.
(function () {
  "use strict";
  var region = document.getElementById("lookalikes");
  var parts = document.getElementById("lookalikes-parts");
  var title = document.getElementById("id_title");
  var seen = document.getElementById("lookalikes-seen");
  if (!region || !parts || !title || !window.fetch || !region.getAttribute("data-url")) {
    return;
  }
  var url = region.getAttribute("data-url");
  var language = document.documentElement.lang || undefined;
  var format = window.Intl ? new Intl.NumberFormat(language) : null;
  var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(language) : null;
  var timer = null;
  var asked = 0; // the number of the latest question: older answers are dropped
  var shown = ""; // what the region shows now, so that the same list is not announced again

  function normal(text) {
    return text.replace(/\s+/g, " ").trim();
  }

  function countText(n) {
    var category = plurals ? plurals.select(n) : n === 1 ? "one" : "other";
    var form =
      region.getAttribute("data-count-" + category) ||
      region.getAttribute("data-count-other") ||
      "%(n)s";
    return form.replace("%(n)s", format ? format.format(n) : String(n));
  }

  function item(lookalike) {
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = lookalike.url;
    link.textContent = lookalike.title;
    var meta = document.createElement("span");
    meta.className = "meta";
    (lookalike.states || []).forEach(function (state) {
      var badge = document.createElement("span");
      badge.className = "badge state-" + state.state;
      badge.textContent = state.label;
      meta.appendChild(badge);
      meta.appendChild(document.createTextNode(" "));
    });
    meta.appendChild(document.createTextNode(countText(lookalike.verified)));
    li.appendChild(link);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(meta);
    return li;
  }

  function show(list, forTitle) {
    var key = JSON.stringify(list);
    if (seen) {
      seen.value = list.length ? forTitle : "";
    }
    if (key === shown) {
      return;
    }
    shown = key;
    while (region.firstChild) {
      region.removeChild(region.firstChild);
    }
    if (!list.length) {
      return;
    }
    var content = parts.content.cloneNode(true);
    var ul = content.querySelector("ul");
    list.forEach(function (lookalike) {
      ul.appendChild(item(lookalike));
    });
    region.appendChild(content);
  }

  function ask() {
    var text = normal(title.value);
    var number = ++asked;
    if (text.length < 3) {
      show([], text);
      return;
    }
    fetch(url + "?title=" + encodeURIComponent(text), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (response.status === 400) {
          return { lookalikes: [] }; // nothing to compare yet
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (number === asked && normal(title.value) === text) {
          show(data.lookalikes || [], text);
        }
      })
      .catch(function () {
        // Busy, limited or away: the list stays as it is, and the save shows it.
      });
  }

  title.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 500);
  });
})();
