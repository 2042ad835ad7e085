// The workbench's only script: progress while a change is checked, confirmations, and the
// retraining's progress bar. Every page works without it (forms post, pages reload).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    var checking = form.getAttribute("data-checking");
    if (checking) {
      var note = document.createElement("p");
      note.className = "notice checking";
      note.setAttribute("role", "status");
      note.textContent = checking;
      form.appendChild(note);
      form.classList.add("busy");
    }
  });
  var job = document.getElementById("job");
  if (job && job.getAttribute("data-running") === "yes") {
    var id = job.getAttribute("data-job");
    var poll = function () {
      fetch("/models/jobs/" + id + ".json", {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (s) {
          document.getElementById("job-progress").value = s.fraction;
          document.getElementById("job-label").textContent = Math.round(s.fraction * 100) + "% · " + s.label;
          document.getElementById("job-outcome").textContent = s.outcome;
          document.getElementById("job-output").textContent = s.output;
          if (s.running) { setTimeout(poll, 2000); } else { window.location.replace("/models?job=" + id); }
        }).catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 1500);
  }
})();
