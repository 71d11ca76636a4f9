// Keeps the deadline badge on a department's page current while it stays open.
(function () {
  var badge = document.getElementById("countdown");
  if (!badge) return;
  var due = new Date(badge.getAttribute("data-due"));
  // Counted on the server's clock, not the browser's: a computer whose clock is off, or a
  // rehearsal in simulated time (DUBAN_NOW), still shows the time the server means.
  var serverNow = new Date(badge.getAttribute("data-now"));
  var offset = isNaN(serverNow) ? 0 : serverNow - new Date();
  function tick() {
    var ms = due - (new Date().getTime() + offset);
    var late = ms < 0;
    var hours = Math.floor(Math.abs(ms) / 3600000);
    var days = Math.floor(hours / 24);
    var text = (days ? days + "天" : "") + (hours % 24) + "小时";
    badge.textContent = late ? "已逾期" + text : "还剩" + text;
    badge.className = late ? "badge bad" : "badge";
  }
  // Once past, the server's wording stays: overdue counts in calendar days, as the
  // dashboard and the reminders count them.
  if (badge.textContent.indexOf("已逾期") !== 0) {
    tick();
    setInterval(tick, 60000);
  }
})();
