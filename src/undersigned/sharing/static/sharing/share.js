// Copy buttons beside the share panel's link and snippets. Without this the
// fields are still there to select and copy by hand.
(function () {
  "use strict";
  var labels = document.querySelector(".share .copy-labels");
  if (!labels || !navigator.clipboard) {
    return;
  }
  var copy = labels.getAttribute("data-copy-label");
  var copied = labels.getAttribute("data-copied-label");
  var fields = document.querySelectorAll(".share [data-copy]");
  Array.prototype.forEach.call(fields, function (field) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary copy";
    button.textContent = copy;
    button.setAttribute("aria-describedby", field.id);
    var status = document.createElement("span");
    status.setAttribute("role", "status");
    status.className = "copy-status";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        status.textContent = copied;
        setTimeout(function () {
          status.textContent = "";
        }, 3000);
      });
    });
    field.parentNode.appendChild(button);
    field.parentNode.appendChild(status);
  });
})();
