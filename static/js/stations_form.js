// Station, site and application forms: keeps django-leaflet's point widget and the longitude /
// latitude inputs in step. Either may be used; without JavaScript the inputs alone are enough.
(function () {
  "use strict";

  function bind(map, field) {
    var fieldset = document.querySelector('[data-location-for="' + field.options.fieldid + '"]');
    if (!fieldset) return; // another geometry (a site's area): nothing to mirror
    var lon = fieldset.querySelector('input[name$="lon"]');
    var lat = fieldset.querySelector('input[name$="lat"]');
    var store = document.getElementById(field.options.fieldid);

    function fromStore() {
      if (!store.value) { lon.value = ""; lat.value = ""; return; }
      try {
        var geometry = JSON.parse(store.value);
        if (geometry.type === "Point") {
          lon.value = geometry.coordinates[0].toFixed(6);
          lat.value = geometry.coordinates[1].toFixed(6);
          lon.dispatchEvent(new Event("change", { bubbles: true }));
        }
      } catch (e) { /* a value the widget will report itself */ }
    }

    function place(x, y, zoom) {
      store.value = JSON.stringify({ type: "Point", coordinates: [x, y] });
      field.drawnItems.clearLayers();
      field.drawnItems.addLayer(L.marker([y, x]));
      if (zoom) map.setView([y, x], Math.max(map.getZoom(), 16));
    }

    function fromInputs() {
      var x = parseFloat(String(lon.value).replace(",", "."));
      var y = parseFloat(String(lat.value).replace(",", "."));
      if (isNaN(x) || isNaN(y)) return;
      place(x, y, true);
    }

    map.on("draw:created draw:edited draw:deleted", function () { setTimeout(fromStore, 0); });
    // A click on the map (outside the drawing tools) places the point too.
    map.on("click", function (e) {
      if (map._drawing) return;
      lon.value = e.latlng.lng.toFixed(6);
      lat.value = e.latlng.lat.toFixed(6);
      place(e.latlng.lng, e.latlng.lat, false);
      lon.dispatchEvent(new Event("change", { bubbles: true }));
    });
    map.on("draw:drawstart", function () { map._drawing = true; });
    map.on("draw:drawstop", function () { map._drawing = false; });
    lon.addEventListener("change", function (e) { if (e.isTrusted) fromInputs(); });
    lat.addEventListener("change", function (e) { if (e.isTrusted) fromInputs(); });
    if (store.value) {
      fromStore();
    } else if (lon.value && lat.value) {
      fromInputs();
    }
  }

  window.addEventListener("map:init", function (e) {
    var map = e.detail.map;
    map.on("map:loadfield", function (me) { bind(map, me.field); });
  });
})();
