// iamaudit dashboard: a filter form whose data-autosubmit is "true" is sent as
// soon as one of its selects or checkboxes changes (the Apply button does the same
// without scripts). Nothing else: no network of its own, no storage, no eval.
(function () {
  "use strict";
  var forms = document.querySelectorAll('form[data-autosubmit="true"]');
  Array.prototype.forEach.call(forms, function (form) {
    Array.prototype.forEach.call(form.querySelectorAll("select, input[type=checkbox]"), function (el) {
      el.addEventListener("change", function () { form.submit(); });
    });
  });
})();
