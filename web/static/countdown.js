// Keeps the deadline badge on a department's page current while it stays open.
(function () {
  var badge = document.getElementById("countdown");
  if (!badge) return;
  var due = new Date(badge.getAttribute("data-due"));
  function tick() {
    var ms = due - new Date();
    var late = ms < 0;
    var hours = Math.floor(Math.abs(ms) / 3600000);
    var days = Math.floor(hours / 24);
    var text = (days ? days + "天" : "") + (hours % 24) + "小时";
    badge.textContent = late ? "已逾期" + text : "还剩" + text;
    badge.className = late ? "badge bad" : "badge";
  }
  // Only when the browser's clock agrees with the server's idea of the deadline being ahead
  // or past: a rehearsal in simulated time keeps the server's wording.
  var serverLate = badge.textContent.indexOf("已逾期") === 0;
  if ((due - new Date() < 0) === serverLate) {
    tick();
    setInterval(tick, 60000);
  }
})();
