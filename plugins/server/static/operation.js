// A long operation's progress over server-sent events; the page reloads when it ends.
(function () {
  var box = document.getElementById("operation");
  if (!box || box.dataset.state !== "running" || !window.EventSource) return;
  var source = new EventSource(box.dataset.events);
  function show(event) {
    var op = JSON.parse(event.data);
    var bar = box.querySelector("[data-field=bar]");
    if (bar) { bar.max = op.total || Math.max(op.done, 1); bar.value = op.done; }
    var done = box.querySelector("[data-field=done]");
    if (done) done.textContent = op.done;
    if (op.state !== "running") { source.close(); window.location.reload(); }
  }
  source.addEventListener("progress", show);
  source.addEventListener("done", show);
  source.addEventListener("failed", show);
})();
