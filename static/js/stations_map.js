// Maps of the stations app. The GeoJSON is written by PostgreSQL; these functions only draw it.
// Every value reaches the page as text: DOM nodes (textContent) or hi.escapeHtml (static/js/escape.js).
//   stationsMapInit: the register, clustered, coloured by operator, reloaded for the visible box
//   sitesMapInit:    public sites coloured by status, with "apply here" for operator staff
//   pointsMapInit:   a small map of one point (and, for an application, the structures around it)
(function () {
  "use strict";

  function json(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function dot(colour, extraClass, size) {
    size = size || 14;
    return L.divIcon({
      className: "",
      html: hi.html`<div class="map-dot ${extraClass || ""}" style="width:${size}px;height:${size}px;background:${colour}"></div>`,
      iconSize: [size, size],
      iconAnchor: [size / 2, size / 2],
      popupAnchor: [0, -size / 2]
    });
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function line(parent, label, value) {
    var div = el("div");
    div.appendChild(el("strong", label + ": "));
    div.appendChild(document.createTextNode(value));
    parent.appendChild(div);
  }

  // --- The register ---------------------------------------------------------------------------

  window.stationsMapInit = function (map) {
    var cfg = json("stations-map-config");
    var status = document.getElementById("map-status");
    var operators = {};
    cfg.operators.forEach(function (o) { operators[o.id] = o; });
    var cluster = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 50 });
    map.addLayer(cluster);
    var pending = null, timer = null;

    function popup(f) {
      var p = f.properties, op = operators[p.operator] || { name: "?" };
      var box = el("div", null, { "data-testid": "station-popup" });
      box.appendChild(el("div", p.code, { class: "fw-bold" }));
      box.appendChild(el("div", p.name));
      line(box, cfg.text.operator, op.name);
      line(box, cfg.text.status, cfg.statuses[p.status] || p.status);
      if (p.non_bulky) box.appendChild(el("span", cfg.text.nonBulky, { class: "badge text-bg-light border" }));
      var link = el("a", cfg.text.open, { href: cfg.detailUrl.replace("00000000-0000-0000-0000-000000000000", p.id) });
      box.appendChild(el("div")).appendChild(link);
      return box;
    }

    function load() {
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
      var url = cfg.geojsonUrl + (cfg.geojsonUrl.indexOf("?") < 0 ? "?" : "&") + "bbox=" + bbox;
      if (pending) pending.abort();
      pending = new AbortController();
      status.textContent = cfg.text.loading;
      fetch(url, { credentials: "same-origin", signal: pending.signal })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var features = data.features, more = features.length > cfg.limit;
          if (more) features = features.slice(0, cfg.limit);
          cluster.clearLayers();
          cluster.addLayers(features.map(function (f) {
            var c = f.geometry.coordinates, op = operators[f.properties.operator];
            var marker = L.marker([c[1], c[0]], { icon: dot(op ? op.colour : "#6b7280", "station"), title: f.properties.code });
            marker.bindPopup(function () { return popup(f); });
            return marker;
          }));
          map.getContainer().dataset.features = features.length;
          status.textContent = cfg.text.shown + " " + features.length.toLocaleString() + (more ? " " + cfg.text.more : "");
        })
        .catch(function (e) { if (e.name !== "AbortError") status.textContent = cfg.text.failed; });
    }

    map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 250); });
    load();
  };

  // --- Public sites -----------------------------------------------------------------------------

  window.sitesMapInit = function (map) {
    var cfg = json("sites-map-config");
    var status = document.getElementById("map-status");
    fetch(cfg.geojsonUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var layer = L.featureGroup();
        data.features.forEach(function (f) {
          var p = f.properties, c = f.geometry.coordinates;
          var marker = L.marker([c[1], c[0]], {
            icon: dot(cfg.colours[p.status] || "#6b7280", "site status-" + p.status, 18),
            title: p.name
          });
          marker.on("add", function () {
            var node = marker.getElement();
            if (node) { node.dataset.testid = "site-marker"; node.dataset.status = p.status; node.dataset.name = p.name; }
          });
          marker.bindPopup(function () {
            var box = el("div", null, { "data-testid": "site-popup" });
            box.appendChild(el("div", p.name, { class: "fw-bold" }));
            box.appendChild(el("div", p.address, { class: "small" }));
            line(box, cfg.text.status, cfg.statuses[p.status] || p.status);
            line(box, cfg.text.capacity, String(p.capacity));
            var links = el("div", null, { class: "mt-1 d-flex gap-2" });
            links.appendChild(el("a", cfg.text.open, { href: cfg.detailUrl.replace("00000000-0000-0000-0000-000000000000", p.id) }));
            if (cfg.canApply && p.status !== "occupied") {
              links.appendChild(el("a", cfg.text.apply, {
                href: cfg.applyUrl + "?site=" + encodeURIComponent(p.id),
                class: "btn btn-sm btn-primary text-white", "data-testid": "apply-here"
              }));
            }
            box.appendChild(links);
            return box;
          });
          layer.addLayer(marker);
        });
        layer.addTo(map);
        map.getContainer().dataset.features = data.features.length;
        if (data.features.length) map.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [30, 30] });
        status.textContent = cfg.text.shown + " " + data.features.length;
      });
  };

  // --- One point and its neighbours -------------------------------------------------------------

  window.pointsMapInit = function (map) {
    var data = json("map-points");
    if (!data) return;
    var main = data.site || (data.lon !== undefined ? data : null);
    var group = L.featureGroup().addTo(map);
    if (main) {
      L.marker([main.lat, main.lon], { title: main.label || "" }).bindTooltip(hi.escapeHtml(main.label)).addTo(group);
      if (data.radius) {
        L.circle([main.lat, main.lon], { radius: data.radius, weight: 1, fillOpacity: 0.05 }).addTo(group);
      }
    }
    (data.candidates || []).forEach(function (c) {
      var text = c.code + " · " + (c.operator_name || c.operator) + " · " + Math.round(c.distance_m) + " m";
      L.marker([c.lat, c.lon], { icon: dot(c.colour || "#f59e0b", "candidate"), title: text })
        .bindTooltip(hi.escapeHtml(text)).addTo(group);
    });
    if (group.getLayers().length) map.fitBounds(group.getBounds(), { maxZoom: 17, padding: [20, 20] });
    map.getContainer().dataset.features = (main ? 1 : 0) + (data.candidates || []).length;
  };
})();
