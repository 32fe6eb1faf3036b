// Behaviour shared by every page, kept out of the HTML so a strict CSP applies.
(function () {
  // forms whose action cannot be undone ask once more (the recontact)
  document.querySelectorAll("form[data-question]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.question)) event.preventDefault();
    });
  });
  // the communications log: the date fields matter only for a custom period
  var period = document.querySelector("#period-picker select[name=period]");
  if (period) {
    var sync = function () { period.form.classList.toggle("custom", period.value === "custom"); };
    period.addEventListener("change", sync);
    sync();
  }
})();
