// Progressive enhancement for badge pages: a "Copy link" button beside the link text.
// Without JavaScript the link stays a selectable text field, so nothing depends on this.
(function () {
  'use strict';
  var buttons = document.querySelectorAll('[data-copy-target]');
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute('data-copy-target'));
    var status = document.querySelector('.copy-status');
    if (!field || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(field.value).then(
        function () {
          if (status) { status.textContent = 'Link copied.'; }
        },
        function () {
          field.select();
          if (status) { status.textContent = 'Press Ctrl+C (or Cmd+C) to copy the selected link.'; }
        }
      );
    });
  });
  // Selecting the whole link on focus makes copying by keyboard one step.
  Array.prototype.forEach.call(document.querySelectorAll('.share-url'), function (field) {
    field.addEventListener('focus', function () { field.select(); });
  });
})();
