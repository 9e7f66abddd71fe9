// Starts django-leaflet's maps and geometry fields without inline scripts (the Content-Security-
// Policy allows none): templates/leaflet/_leaflet_map.html and widget.html write each map's and
// field's options in data attributes; this does what django-leaflet's inline scripts did. Included
// by every map (a second copy is a no-op).
(function () {
  "use strict";
  if (window.__hiLeafletBoot) return;
  window.__hiLeafletBoot = true;

  // "window.stationsMapInit" or "L.FieldStore" → the object it names (no eval).
  function resolve(path) {
    if (!path) return null;
    var obj = window;
    path.replace(/^window\./, "").split(".").forEach(function (key) { obj = obj == null ? obj : obj[key]; });
    return obj === undefined ? null : obj;
  }

  // Leaflet.draw's texts in the page's language (templates/leaflet/widget.html writes them).
  function merge(target, source) {
    Object.keys(source).forEach(function (key) {
      var value = source[key];
      if (value && typeof value === "object") {
        target[key] = target[key] && typeof target[key] === "object" ? target[key] : {};
        merge(target[key], value);
      } else {
        target[key] = value;
      }
    });
  }

  // The maps' texts in the page's language (templates/base.html writes them: core's map_strings).
  function strings() {
    var node = document.getElementById("map-strings");
    return node ? JSON.parse(node.textContent) : null;
  }

  function localiseControls() {
    var texts = strings();
    if (!texts || !window.L) return;
    L.Control.Zoom.prototype.options.zoomInTitle = texts.zoomIn;
    L.Control.Zoom.prototype.options.zoomOutTitle = texts.zoomOut;
    if (L.Control.ResetView) L.Control.ResetView.TITLE = texts.resetView;
  }

  function localiseDrawing() {
    var texts = strings();
    if (!texts || !window.L || !L.drawLocal) return;
    merge(L.drawLocal, texts.drawLocal);
  }

  function fieldCallback(node) {
    var d = node.dataset;
    return function (map, options) {
      localiseDrawing();
      var module = window[d.module] = window[d.module] || {};
      module.fieldid = d.fieldid;
      module.modifiable = d.modifiable === "true";
      module.geom_type = d.geomType;
      module.srid = parseInt(d.srid, 10);
      module.field_store_class = resolve(d.fieldStoreClass);
      module.precision = options.djoptions.precision;
      var GeometryField = resolve(d.geometryFieldClass);
      (new GeometryField(module)).addTo(map);
    };
  }

  function start(node) {
    var name = node.dataset.leafletMap;
    var field = document.querySelector('[data-leaflet-field="' + name + '"]');
    var named = node.dataset.callback;
    var callback = null;
    if (field) {
      callback = fieldCallback(field);
    } else if (named) {
      callback = function (map, options) {
        var fn = resolve(named);
        if (typeof fn === "function") fn(map, options);
      };
    }
    var globals = node.dataset.globals === "true";
    function loadmap() {
      localiseControls();
      var map = L.Map.djangoMap(name, {
        djoptions: JSON.parse(node.dataset.djoptions), initfunc: loadmap, globals: globals, callback: callback
      });
      if (globals && map) window["leafletmap" + name] = map;
    }
    if (globals) window["loadmap" + name] = loadmap;
    var events = JSON.parse(node.dataset.loadevents || "[]");
    if (!events.length) {
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", loadmap);
      else loadmap();
    } else {
      events.forEach(function (e) { window.addEventListener(e, loadmap, false); });
    }
  }

  // A field drawn on another form's map (django-leaflet's target_map).
  function bindTarget(field) {
    var target = field.dataset.targetMap, callback = fieldCallback(field);
    window.addEventListener("map:init", function (e) {
      var map = e.detail.map;
      map.on("map:loadfield", function (me) {
        if (me.fieldid === "id_" + target) setTimeout(function () { callback(map, e.detail.options); }, 0);
      });
    }, false);
  }

  function boot() {
    document.querySelectorAll("[data-leaflet-map]").forEach(start);
    document.querySelectorAll("[data-leaflet-field][data-target-map]:not([data-target-map=''])").forEach(bindTarget);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
