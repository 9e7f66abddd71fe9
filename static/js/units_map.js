// Maps of administrative units. The GeoJSON is built by PostgreSQL; these functions only draw it.
//   unitsMapInit: the filtered units' boundaries (URLs and texts in the map frame's data attributes)
//   unitMapInit:  one unit's boundary (the GeoJSON sits in "unit-boundary")
(function () {
  "use strict";

  window.unitsMapInit = function (map) {
    var frame = document.getElementById("units-map-frame");
    var status = document.getElementById("units-map-status");
    var colours = { phuong: "#0d6efd", xa: "#198754" };
    fetch(frame.dataset.geojsonUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var n = data.features.length;
        map.getContainer().dataset.features = n;
        if (!n) { status.textContent = frame.dataset.textNone; return; }
        var layer = L.geoJSON(data, {
          style: function (f) {
            return { color: colours[f.properties.kind] || "#6c757d", weight: 1, fillOpacity: 0.15 };
          },
          onEachFeature: function (f, l) {
            var a = document.createElement("a");
            a.href = frame.dataset.detailUrl.replace("00000", encodeURIComponent(f.id));
            a.textContent = f.properties.name + " (" + f.id + ")";
            l.bindPopup(a);
            l.bindTooltip(hi.escapeHtml(f.properties.name), { sticky: true });
          }
        }).addTo(map);
        map.fitBounds(layer.getBounds());
        status.textContent = frame.dataset.textLoaded + " " + n;
      });
  };

  window.unitMapInit = function (map) {
    var el = document.getElementById("unit-boundary");
    if (!el) return;
    var layer = L.geoJSON(JSON.parse(JSON.parse(el.textContent)), { style: { weight: 2 } }).addTo(map);
    map.fitBounds(layer.getBounds());
  };
})();
