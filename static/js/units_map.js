// Units map: draws the filtered units' boundaries (GeoJSON built by PostgreSQL) on a Leaflet map.
window.unitsMapInit = function (map) {
  var status = document.getElementById("units-map-status");
  var colours = { phuong: "#0d6efd", xa: "#198754" };
  fetch(window.UNITS_GEOJSON_URL, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var n = data.features.length;
      map.getContainer().dataset.features = n;
      if (!n) { status.textContent = window.MAP_TEXT.none; return; }
      var layer = L.geoJSON(data, {
        style: function (f) {
          return { color: colours[f.properties.kind] || "#6c757d", weight: 1, fillOpacity: 0.15 };
        },
        onEachFeature: function (f, l) {
          var a = document.createElement("a");
          a.href = window.UNITS_DETAIL_URL.replace("00000", f.id);
          a.textContent = f.properties.name + " (" + f.id + ")";
          l.bindPopup(a);
          l.bindTooltip(f.properties.name, { sticky: true });
        }
      }).addTo(map);
      map.fitBounds(layer.getBounds());
      status.textContent = window.MAP_TEXT.loaded + " " + n;
    });
};
