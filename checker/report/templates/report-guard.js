(function () {
  'use strict';
  var errors = [];
  window.__gtErrors = errors;
  function record(message) {
    errors.push(String(message));
    var root = document.documentElement;
    root.setAttribute('data-js-errors', String(errors.length));
    root.setAttribute('data-js-error-text', errors.join(' | ').slice(0, 2000));
    var box = document.getElementById('js-errors');
    if (box) {
      box.hidden = false;
      box.textContent = 'This report hit a JavaScript error, parts of it may be missing: ' + errors.join(' | ');
    }
  }
  window.__gtRecordError = record;
  window.addEventListener('error', function (e) {
    record((e.message || 'error') + (e.lineno ? ' (line ' + e.lineno + ':' + (e.colno || 0) + ')' : ''));
  });
  window.addEventListener('unhandledrejection', function (e) {
    record('unhandled rejection: ' + (e.reason && e.reason.message ? e.reason.message : e.reason));
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    record('blocked by the content security policy: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
  });
})();
