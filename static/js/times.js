// Times in the viewer's own time zone. The server writes each time as <time datetime="…UTC ISO…"> with the UTC
// time as its text (so it reads right without JavaScript); here the text becomes the local time, relative while
// recent ("3 minutes ago"), and the title the exact local date and time with the zone. Times swapped in by htmx
// are done as they arrive, and relative ones are brought up to date every minute.
(function () {
  "use strict";

  var RELATIVE_FOR = 7 * 24 * 3600 * 1000; // past a week a date reads better than "23 days ago"
  var UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  var relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  var exact = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });
  var short = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function ago(at, now) {
    var seconds = Math.round((at - now) / 1000);
    for (var i = 0; i < UNITS.length; i++) {
      if (Math.abs(seconds) >= UNITS[i][1]) return relative.format(Math.round(seconds / UNITS[i][1]), UNITS[i][0]);
    }
    return relative.format(0, "second"); // "now"
  }

  function show(element, now) {
    var at = new Date(element.getAttribute("datetime"));
    if (isNaN(at.getTime())) return;
    element.textContent = Math.abs(now - at) < RELATIVE_FOR ? ago(at, now) : short.format(at);
    element.title = exact.format(at);
  }

  function showAll(root) {
    var now = Date.now();
    root.querySelectorAll("time[datetime]").forEach(function (element) { show(element, now); });
  }

  document.addEventListener("DOMContentLoaded", function () { showAll(document); });
  document.addEventListener("htmx:load", function (event) { showAll(event.target); });
  setInterval(function () { showAll(document); }, 60 * 1000);
})();
