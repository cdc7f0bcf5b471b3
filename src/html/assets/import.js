// Progressive enhancement for the console's import page: while an import runs, the
// progress bar follows it (polling its progress every half second) instead of waiting for
// the page's one-second refresh; when it is done, the page reloads to show the report.
(function () {
  'use strict';
  var bar = document.getElementById('import-progress');
  var label = document.getElementById('import-progress-text');
  if (!bar || !bar.getAttribute('data-poll') || !window.fetch) {
    return;
  }
  var url = bar.getAttribute('data-poll');
  function poll() {
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        bar.max = Math.max(p.total, 1);
        bar.value = p.done;
        if (label) {
          label.textContent = p.done + ' of ' + p.total + ' rows, ' + p.failed + ' failed';
        }
        if (p.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 500);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  poll();
})();
