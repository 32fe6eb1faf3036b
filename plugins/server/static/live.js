// Live counts of an alert being sent: server-sent events update the figures and the pie.
(function () {
  var box = document.getElementById("live");
  if (!box || !box.dataset.live || !window.EventSource) return;
  var source = new EventSource(box.dataset.live);
  var pie = document.getElementById("pie");
  source.addEventListener("counts", function (event) {
    var counts = JSON.parse(event.data);
    box.querySelectorAll("[data-count]").forEach(function (node) {
      var value = counts[node.dataset.count];
      if (value !== undefined && String(value) !== node.textContent) {
        node.textContent = value;
        node.classList.add("changed");
      }
    });
    if (pie) pie.src = pie.src.split("?")[0] + "?v=" + Date.now();
    // the recontact just became possible (or impossible): show the page as it now is
    if (counts.recontact_open !== undefined &&
        String(counts.recontact_open) !== box.dataset.recontactOpen) {
      source.close();
      window.location.reload();
    }
    if (counts.state === "finished" || counts.state === "cancelled") source.close();
  });
})();
