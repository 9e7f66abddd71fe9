// The one output-encoding helper of the portal's scripts. Every value that reaches HTML from a
// script (a Leaflet tooltip or popup given as a string, a label, innerHTML) goes through it, or is
// set as textContent / a DOM node. Loaded by base.html before every page script.
//   hi.escapeHtml(value)   text → HTML text or attribute value (& < > " ' ` escaped)
//   hi.html`<b>${value}</b>`  a tagged template: every ${…} is escaped, unless wrapped in hi.raw()
//   hi.raw(html)           marks an HTML string as already safe (for hi.html only)
(function (root) {
  "use strict";
  var hi = (root.hi = root.hi || {});
  if (hi.escapeHtml) return;

  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

  hi.escapeHtml = function (value) {
    if (value === null || value === undefined) return "";
    return String(value).replace(/[&<>"'`]/g, function (c) { return ENTITIES[c]; });
  };

  function Raw(html) { this.html = String(html); }
  Raw.prototype.toString = function () { return this.html; };
  hi.raw = function (html) { return new Raw(html); };

  function part(value) {
    if (value instanceof Raw) return value.html;
    if (Array.isArray(value)) return value.map(part).join("");
    return hi.escapeHtml(value);
  }

  hi.html = function (strings) {
    var out = strings[0];
    for (var i = 1; i < strings.length; i++) out += part(arguments[i]) + strings[i];
    return out;
  };
})(window);
