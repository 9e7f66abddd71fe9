// Maps of the cables app. GeoJSON comes from the page or from PostgreSQL; these functions only draw it.
// Every value reaches the page as text: DOM nodes (textContent) or hi.escapeHtml (static/js/escape.js).
//   cablesSegmentsMapInit: the city map, segments in the visible box coloured by progress or status
//   cablesProjectMapInit:  one project's segments coloured by progress
//   cablesLinesMapInit:    civil-works routes (the data sits in "<map id>-data")
(function () {
  "use strict";

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

  function progressColour(table, pct) {
    var colour = table[0][1];
    table.forEach(function (row) { if (pct >= row[0]) colour = row[1]; });
    return colour;
  }

  function drawStatic(map, data, popup) {
    if (!data || !data.features || !data.features.length) {
      map.getContainer().dataset.features = "0";
      return;
    }
    var layer = L.geoJSON(data, {
      style: function (f) { return { color: f.properties.colour || "#2563eb", weight: 6, opacity: 0.9 }; },
      onEachFeature: function (f, l) { l.bindPopup(function () { return popup(f.properties); }); }
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [20, 20] });
    map.getContainer().dataset.features = String(data.features.length);
  }

  window.cablesProjectMapInit = function (map) {
    drawStatic(map, json("project-map-data"), function (p) {
      var box = el("div", null, { "data-testid": "segment-popup" });
      box.appendChild(el("div", p.name, { class: "fw-bold" }));
      box.appendChild(el("div", (p.operator ? p.operator + " · " : "") + p.length_m + " m · " + p.pct + "%"));
      return box;
    });
  };

  window.cablesLinesMapInit = function (map) {
    var id = map.getContainer().id;
    drawStatic(map, json(id + "-data"), function (p) {
      var box = el("div");
      if (p.url) box.appendChild(el("a", p.title, { href: p.url }));
      else box.appendChild(el("div", p.title, { class: "fw-bold" }));
      return box;
    });
  };

  window.cablesSegmentsMapInit = function (map) {
    var cfg = json("segments-map-config");
    var status = document.getElementById("map-status");
    var lines = L.featureGroup().addTo(map);
    var features = [], pending = null, timer = null, fitted = false;

    function colourBy() {
      var checked = document.querySelector("input[name=colour-by]:checked");
      return checked ? checked.value : "progress";
    }

    function pct(p) {
      return p.length_m ? Math.min(100, Math.round(100 * (p.duct_built_m || 0) / p.length_m)) : 0;
    }

    function colour(p) {
      if (colourBy() === "status") return cfg.statusColours[p.project_status] || "#6b7280";
      return progressColour(cfg.progressColours, pct(p));
    }

    function popup(p) {
      var box = el("div", null, { "data-testid": "segment-popup" });
      box.appendChild(el("div", p.name, { class: "fw-bold" }));
      box.appendChild(el("div", cfg.text.project + ": " + p.project + " (" + (cfg.statuses[p.project_status] || p.project_status) + ")"));
      if (p.operator) box.appendChild(el("div", cfg.text.operator + ": " + p.operator));
      box.appendChild(el("div", cfg.text.length + ": " + Math.round(p.length_m) + " m · " + cfg.text.duct + ": " + pct(p) + "%"));
      return box;
    }

    function draw() {
      lines.clearLayers();
      features.forEach(function (f) {
        if (!f.geometry) return;
        L.geoJSON(f.geometry, { style: { color: colour(f.properties), weight: 5, opacity: 0.9 } })
          .bindPopup(function () { return popup(f.properties); })
          .addTo(lines);
      });
    }

    function load() {
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
      var url = cfg.geojsonUrl + (cfg.geojsonUrl.indexOf("?") < 0 ? "?" : "&") + "bbox=" + bbox;
      if (pending) pending.abort();
      pending = new AbortController();
      status.textContent = cfg.text.loading;
      var limit = cfg.limit;
      fetch(url, { credentials: "same-origin", signal: pending.signal })
        .then(function (r) {
          limit = parseInt(r.headers.get("X-Feature-Limit") || cfg.limit, 10);
          return r.json();
        })
        .then(function (data) {
          features = data.features || [];
          var more = features.length >= limit;
          draw();
          if (!fitted && features.length) {
            fitted = true;
            map.fitBounds(lines.getBounds(), { maxZoom: 17, padding: [30, 30] });
          }
          map.getContainer().dataset.features = features.length;
          status.textContent = cfg.text.shown + " " + features.length.toLocaleString() + (more ? " " + cfg.text.more : "");
        })
        .catch(function (e) { if (e.name !== "AbortError") status.textContent = cfg.text.failed; });
    }

    document.querySelectorAll("input[name=colour-by]").forEach(function (input) {
      input.addEventListener("change", function () {
        var byStatus = colourBy() === "status";
        document.getElementById("legend-progress").hidden = byStatus;
        document.getElementById("legend-status").hidden = !byStatus;
        draw();
      });
    });
    map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 250); });
    load();
  };
})();
