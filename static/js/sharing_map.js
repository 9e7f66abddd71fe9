// Maps of the sharing app. The GeoJSON is written by PostgreSQL; these functions only draw it.
// Every value reaches the page as text: DOM nodes (textContent) or hi.escapeHtml (static/js/escape.js).
//   assetsMapInit: shareable assets in the visible box; points clustered, duct routes as lines,
//                  coloured by kind or by free capacity, with "ask to share" for other operators
//   assetMapInit:  one asset's point or route
(function () {
  "use strict";

  var PLACEHOLDER = "00000000-0000-0000-0000-000000000000";

  function json(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function dot(colour, size) {
    size = size || 14;
    return L.divIcon({
      className: "",
      html: hi.html`<div class="map-dot" style="width:${size}px;height:${size}px;background:${colour}"></div>`,
      iconSize: [size, size],
      iconAnchor: [size / 2, size / 2],
      popupAnchor: [0, -size / 2]
    });
  }

  function freeColour(colours, free) {
    return free <= 0 ? colours.none : free === 1 ? colours.one : colours.more;
  }

  window.assetsMapInit = function (map) {
    var cfg = json("assets-map-config");
    var status = document.getElementById("map-status");
    var cluster = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 40 });
    var lines = L.featureGroup();
    map.addLayer(lines);
    map.addLayer(cluster);
    var features = [], pending = null, timer = null, fitted = false;

    function colourBy() {
      var checked = document.querySelector("input[name=colour-by]:checked");
      return checked ? checked.value : "kind";
    }

    function colour(p) {
      return colourBy() === "free" ? freeColour(cfg.freeColours, p.free_capacity) : (cfg.kindColours[p.kind] || "#6b7280");
    }

    function popup(p) {
      var box = el("div", null, { "data-testid": "asset-popup" });
      box.appendChild(el("div", p.code, { class: "fw-bold" }));
      box.appendChild(el("div", p.name));
      box.appendChild(el("div", (cfg.kinds[p.kind] || p.kind) + " · " + cfg.text.owner + ": " + p.owner));
      box.appendChild(el("div", cfg.text.free + ": " + p.free_capacity + " / " + p.capacity + " " + (cfg.units[p.kind] || "")));
      var links = el("div", null, { class: "mt-1 d-flex gap-2" });
      links.appendChild(el("a", cfg.text.open, { href: cfg.detailUrl.replace(PLACEHOLDER, p.id) }));
      if (cfg.canAsk && p.owner !== cfg.myOrg && p.free_capacity > 0) {
        links.appendChild(el("a", cfg.text.ask, {
          href: cfg.askUrl + "?asset=" + encodeURIComponent(p.id),
          class: "btn btn-sm btn-primary text-white", "data-testid": "ask-here"
        }));
      }
      box.appendChild(links);
      return box;
    }

    function draw() {
      cluster.clearLayers();
      lines.clearLayers();
      var markers = [];
      features.forEach(function (f) {
        var p = f.properties, g = f.geometry;
        if (!g) return;
        if (g.type === "Point") {
          var marker = L.marker([g.coordinates[1], g.coordinates[0]], { icon: dot(colour(p)), title: p.code });
          marker.on("add", function () {
            var node = marker.getElement();
            if (node) { node.dataset.testid = "asset-marker"; node.dataset.code = p.code; }
          });
          marker.bindPopup(function () { return popup(p); });
          markers.push(marker);
        } else {
          L.geoJSON(g, { style: { color: colour(p), weight: 5, opacity: 0.85 } })
            .bindPopup(function () { return popup(p); })
            .addTo(lines);
        }
      });
      cluster.addLayers(markers);
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
          features = data.features;
          var more = features.length > cfg.limit;
          if (more) features = features.slice(0, cfg.limit);
          draw();
          if (!fitted && features.length) {
            // The first view shows what the filters found; later moves only reload the box.
            fitted = true;
            var bounds = L.latLngBounds([]);
            if (lines.getLayers().length) bounds.extend(lines.getBounds());
            cluster.getLayers().forEach(function (m) { bounds.extend(m.getLatLng()); });
            if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 17, padding: [30, 30] });
          }
          map.getContainer().dataset.features = features.length;
          status.textContent = cfg.text.shown + " " + features.length.toLocaleString() + (more ? " " + cfg.text.more : "");
        })
        .catch(function (e) { if (e.name !== "AbortError") status.textContent = cfg.text.failed; });
    }

    document.querySelectorAll("input[name=colour-by]").forEach(function (input) {
      input.addEventListener("change", function () {
        var free = colourBy() === "free";
        document.getElementById("legend-kind").hidden = free;
        document.getElementById("legend-free").hidden = !free;
        draw();
      });
    });
    map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 250); });
    load();
  };

  window.assetMapInit = function (map) {
    var data = json("asset-geometry");
    if (!data || !data.geometry) return;
    var geometry = typeof data.geometry === "string" ? JSON.parse(data.geometry) : data.geometry;
    var layer = L.geoJSON(geometry, {
      style: { color: data.colour, weight: 5 },
      pointToLayer: function (f, latlng) { return L.marker(latlng, { icon: dot(data.colour, 18), title: data.label }); }
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [20, 20] });
    map.getContainer().dataset.features = "1";
  };
})();
