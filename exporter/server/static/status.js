// Status page behaviour: filter in place, open an app's detail, refresh from the JSON API.
// The server-rendered page already works without this file; everything here only makes it live.
(function () {
  "use strict";

  var STATES = ["Unknown", "Degraded", "Missing", "OutOfSync", "Progressing", "Suspended", "Healthy"];
  var BAD = { Unknown: 1, Degraded: 1, Missing: 1, OutOfSync: 1, Progressing: 1 };
  // Where a health verdict came from (page.py's HEALTH_SOURCES); a specific check says nothing.
  var HEALTH_SOURCES = {
    family: "judged by its operator family's rule",
    fallback: "judged from its conditions only (no check for this kind)",
    user: "judged by your health check"
  };
  var body = document.body;
  var refreshMs = Math.max(1, Number(body.getAttribute("data-refresh")) || 5) * 1000;
  var form = document.getElementById("filters");
  var tbody = document.querySelector("#apps tbody");
  var detail = document.getElementById("detail");
  var openApp = new URLSearchParams(location.search).get("app");
  var apps = [];
  var timer = null;

  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function relative(ts) {
    if (!ts) return "";
    var d = Math.max(0, Math.floor(Date.now() / 1000 - ts));
    if (d < 10) return "just now";
    if (d < 60) return d + "s ago";
    if (d < 3600) return Math.floor(d / 60) + "m ago";
    if (d < 86400) {
      var h = Math.floor(d / 3600), m = Math.floor((d % 3600) / 60);
      return m ? h + "h " + m + "m ago" : h + "h ago";
    }
    var days = Math.floor(d / 86400), hours = Math.floor((d % 86400) / 3600);
    return hours ? days + "d " + hours + "h ago" : days + "d ago";
  }

  function timeTag(iso, ts) {
    if (!iso) return "";
    return '<time datetime="' + esc(iso) + '" data-ts="' + esc(ts) + '" title="' + esc(iso) + '">' +
      esc(relative(ts)) + "</time>";
  }

  function chip(state) {
    return state ? '<span class="chip s-' + esc(state) + '">' + esc(state) + "</span>" : "";
  }

  function shortRev(rev) {
    return rev && /^[0-9a-f]{12,64}$/.test(rev) ? rev.slice(0, 7) : (rev || "");
  }

  // Filters live in the query string so a link shows the same view.
  function currentFilter() {
    var data = new FormData(form);
    var labels = String(data.get("label") || "").split(",").map(function (s) { return s.trim(); })
      .filter(Boolean).map(function (s) {
        var i = s.indexOf("=");
        return i < 0 ? [s, null] : [s.slice(0, i).trim(), s.slice(i + 1).trim()];
      });
    return { status: data.get("status") || "", project: data.get("project") || "",
      cluster: data.get("cluster") || "", labels: labels, label: String(data.get("label") || "").trim(),
      q: String(data.get("q") || "").trim() };
  }

  function matches(app, f) {
    if (f.q && app.name.toLowerCase().indexOf(f.q.toLowerCase()) < 0) return false;
    if (f.status && app.status.toLowerCase() !== f.status.toLowerCase()) return false;
    if (f.project && app.project !== f.project) return false;
    if (f.cluster && app.cluster !== f.cluster) return false;
    for (var i = 0; i < f.labels.length; i++) {
      var key = f.labels[i][0], val = f.labels[i][1];
      if (!Object.prototype.hasOwnProperty.call(app.labels, key)) return false;
      if (val !== null && app.labels[key] !== val) return false;
    }
    return true;
  }

  function syncUrl() {
    var f = currentFilter();
    var q = new URLSearchParams();
    var active = 0;
    ["q", "status", "project", "cluster", "label"].forEach(function (k) { if (f[k]) { q.set(k, f[k]); active++; } });
    if (openApp) q.set("app", openApp);
    var s = q.toString();
    history.replaceState(null, "", s ? "?" + s : location.pathname);
    document.getElementById("filter-active").textContent = active ? "(" + active + " active)" : "";
  }

  // The revision links to its commit where the hosting service is known, titled with the commit.
  function revisionHtml(app, full) {
    var rev = app.revision || "", c = app.commit;
    var title = rev + (c ? "\n" + c.subject + "\n" + c.author : "");
    var code = '<code title="' + esc(title) + '">' + esc(full ? rev : shortRev(rev)) + "</code>";
    var link = app.revisionUrl ? '<a class="rev" href="' + esc(app.revisionUrl) + '" rel="noopener noreferrer">' +
      code + "</a>" : code;
    return link + (c && !full ? ' <span class="subject">' + esc(c.subject) + "</span>" : "");
  }

  function commitHtml(app) {
    var c = app.commit;
    if (!c) return "";
    var ts = c.committedAt ? Date.parse(c.committedAt) / 1000 : null;
    return esc(c.subject) + '<div class="note">' + esc(c.author) + (ts ? " · " + timeTag(c.committedAt, ts) : "") +
      "</div>";
  }

  function rowHtml(app) {
    var frozen = app.frozen ? '<span class="frozen" title="A deny window is active: changes are freeze violations">frozen</span>' : "";
    return '<th scope="row" data-label="App"><a class="app-link" href="?app=' + encodeURIComponent(app.name) + '#detail">' +
      esc(app.name) + "</a>" + frozen + "</th>" +
      '<td data-label="State">' + chip(app.status) + "</td>" +
      '<td data-label="Since">' + timeTag(app.since, app.sinceTimestamp) + "</td>" +
      '<td data-label="Revision">' + revisionHtml(app, false) + "</td>" +
      '<td data-label="Reason" class="reason">' + esc(app.reason) + "</td>" +
      '<td data-label="Project">' + esc(app.project) + "</td>" +
      '<td data-label="Cluster">' + esc(app.cluster) + "</td>";
  }

  function sortApps(list) {
    return list.slice().sort(function (a, b) {
      var d = STATES.indexOf(a.status) - STATES.indexOf(b.status);
      return d || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
  }

  // Rows are updated in place (not rebuilt) so keyboard focus and the open row survive a refresh.
  function renderRows() {
    var existing = {};
    Array.prototype.forEach.call(tbody.querySelectorAll("tr[data-app]"), function (tr) {
      existing[tr.getAttribute("data-app")] = tr;
    });
    var f = currentFilter();
    var shown = 0;
    sortApps(apps).forEach(function (app, index) {
      var tr = existing[app.name];
      delete existing[app.name];
      if (!tr) {
        tr = document.createElement("tr");
        tr.setAttribute("data-app", app.name);
      }
      var html = rowHtml(app);
      if (tr.getAttribute("data-html") !== html) {
        tr.innerHTML = html;
        tr.setAttribute("data-html", html);
      }
      tr.setAttribute("data-status", app.status);
      tr.setAttribute("data-project", app.project);
      tr.setAttribute("data-cluster", app.cluster);
      tr.classList.toggle("open", app.name === openApp);
      var visible = matches(app, f);
      tr.hidden = !visible;
      if (visible) shown++;
      if (tbody.children[index] !== tr) tbody.insertBefore(tr, tbody.children[index] || null);
    });
    Object.keys(existing).forEach(function (name) { existing[name].remove(); });
    document.getElementById("shown").textContent = "Showing " + shown + " of " + apps.length + " apps";
  }

  function renderCounts() {
    var counts = {};
    STATES.forEach(function (s) { counts[s] = 0; });
    apps.forEach(function (a) { counts[a.status] = (counts[a.status] || 0) + 1; });
    var f = currentFilter();
    Array.prototype.forEach.call(document.querySelectorAll("#counts a[data-state]"), function (a) {
      var s = a.getAttribute("data-state");
      a.querySelector(".n").textContent = counts[s] || 0;
      a.setAttribute("aria-current", f.status === s ? "true" : "false");
    });
    var bad = apps.filter(function (a) { return BAD[a.status]; }).length;
    var summary = bad ? bad + " of " + apps.length + " apps need attention" : "No app needs attention (" + apps.length + " apps)";
    document.getElementById("summary").textContent = summary;
    document.title = "GitOps drift: " + summary;
    var worst = STATES.filter(function (s) { return counts[s]; })[0] || "Healthy";
    var icon = document.querySelector('link[rel="icon"]');
    if (icon && icon.getAttribute("href") !== "favicon.svg?state=" + worst) {
      icon.setAttribute("href", "favicon.svg?state=" + worst);
    }
  }

  // New projects and clusters appear in the selects without losing the current choice.
  function renderOptions() {
    ["project", "cluster"].forEach(function (key) {
      var select = form.elements[key];
      var values = {};
      apps.forEach(function (a) { values[a[key]] = 1; });
      Array.prototype.forEach.call(select.options, function (o) { if (o.value) delete values[o.value]; });
      Object.keys(values).sort().forEach(function (v) {
        var o = document.createElement("option");
        o.value = v; o.textContent = v;
        select.appendChild(o);
      });
    });
  }

  function refreshTimes() {
    Array.prototype.forEach.call(document.querySelectorAll("time[data-ts]"), function (t) {
      t.textContent = relative(Number(t.getAttribute("data-ts")));
    });
  }

  function differences(obj) {
    var items = obj.differences.map(function (d) {
      var why = d.reason ? ' <span class="why">(' + esc(d.reason) + ")</span>" : "";
      return "<li><code>" + esc(d.path) + "</code>: git <code>" + esc(short(d.desired)) +
        "</code>, live <code>" + esc(short(d.live)) + "</code>" + why + "</li>";
    });
    if (obj.ignored.length) {
      var rules = obj.ignored.map(function (d) { return d.ignoredBy; }).filter(function (v, i, a) {
        return a.indexOf(v) === i;
      }).sort().join(", ");
      items.push('<li class="ignored" title="' + esc(rules) + '">' + obj.ignored.length + " ignored by rules</li>");
    }
    return items.length ? '<ul class="diffs">' + items.join("") + "</ul>" : "";
  }

  function short(value) {
    var text = JSON.stringify(value === undefined ? null : value);
    return text.length <= 80 ? text : text.slice(0, 79) + "\u2026";
  }

  function objectRow(o) {
    var gk = o.group ? o.group + "/" + o.kind : o.kind;
    var where = o.namespace ? o.namespace + "/" + o.name : o.name;
    var notes = [];
    if (!o.exists) notes.push("missing from the cluster");
    if (o.requiresPruning) notes.push("requires pruning");
    if (o.healthExcluded) notes.push("not counted for health");
    return '<tr><th scope="row" data-label="Object"><span class="kind">' + esc(gk) + "</span> " + esc(where) +
      (notes.length ? '<div class="note">' + esc(notes.join("; ")) + "</div>" : "") + differences(o) + "</th>" +
      '<td data-label="Health">' + chip(o.health) + (o.healthMessage ? '<div class="note">' + esc(o.healthMessage) + "</div>" : "") +
      (HEALTH_SOURCES[o.healthSource] ? '<div class="note source">' + esc(HEALTH_SOURCES[o.healthSource]) + "</div>" : "") + "</td>" +
      '<td data-label="Sync">' + chip(o.sync) + "</td></tr>";
  }

  function diffHtml(text) {
    if (!text) return "No differences.";
    return text.split(/(?<=\n)/).map(function (line) {
      var cls = /^(\+\+\+|---)/.test(line) ? "d-file" : line[0] === "+" ? "d-add" : line[0] === "-" ? "d-del" :
        line.slice(0, 2) === "@@" ? "d-hunk" : "";
      return cls ? '<span class="' + cls + '">' + esc(line) + "</span>" : esc(line);
    }).join("");
  }

  // History: the states over the API's window as an SVG bar (no inline styles under the CSP), time
  // in each state, and the latest changes; the same markup page.py's render_history writes.
  function percent(share) {
    return share >= 0.01 || share === 0 ? Math.round(share * 100) + "%" : "<1%";
  }

  function renderHistory(h) {
    if (!h) return "";
    var now = Date.now() / 1000, start = h.window.sinceTimestamp, span = Math.max(now - start, 1);
    var entries = h.entries, rects = "";
    entries.forEach(function (e, i) {
      var begin = Math.max(e.atTimestamp, start);
      var end = Math.min(i + 1 < entries.length ? entries[i + 1].atTimestamp : now, now);
      if (end <= begin) return;
      rects += '<rect class="s-' + esc(e.to) + '" x="' + ((begin - start) / span * 1000).toFixed(2) + '" y="0" width="' +
        ((end - begin) / span * 1000).toFixed(2) + '" height="20"><title>' + esc(e.to) + " from " + esc(e.at) +
        "</title></rect>";
    });
    var days = h.window.seconds / 86400;
    var win = days >= 1 ? String(days) + " days" : Math.round(h.window.seconds / 3600) + "h";
    var shares = Object.keys(h.timeInStateShare).map(function (k) { return [k, h.timeInStateShare[k]]; })
      .sort(function (a, b) { return b[1] - a[1]; });
    var summary = shares.map(function (x) { return chip(x[0]) + " " + esc(percent(x[1])); }).join(" · ") ||
      "no changes recorded";
    var label = shares.map(function (x) { return x[0] + " " + percent(x[1]); }).join("; ") || "no data";
    var items = entries.slice(-20).reverse().map(function (e) {
      return "<li>" + timeTag(e.at, e.atTimestamp) + " " + (e.from ? chip(e.from) + " → " : "") + chip(e.to) +
        (e.revision ? " <code>" + esc(shortRev(e.revision)) + "</code>" : "") +
        (e.reason ? " <span class=reason>" + esc(e.reason) + "</span>" : "") + "</li>";
    }).join("");
    return '<h3>History</h3><p class="tis">Last ' + esc(win) + ": " + summary + "</p>" +
      '<svg class="timeline" id="detail-timeline" viewBox="0 0 1000 20" preserveAspectRatio="none" role="img" ' +
      'aria-label="States over the last ' + esc(win) + ": " + esc(label) + '">' + rects + "</svg>" +
      '<ol class="changes">' + (items || "<li>No changes recorded yet.</li>") + "</ol>";
  }

  function renderDetail(app, diffText, history) {
    var facts = [
      ["State", chip(app.status)], ["Sync", esc(app.sync)], ["Health", esc(app.health)],
      ["Reason", esc(app.reason)], ["Repository", esc(app.repo)], ["Path", esc(app.path)],
      ["Target revision", esc(app.targetRevision)], ["Revision", revisionHtml(app, true)]
    ].concat(app.commit ? [["Commit", commitHtml(app)]] : []).concat([
      ["Evaluated", timeTag(app.evaluatedAt, app.evaluatedAtTimestamp)]
    ]).map(function (f) { return "<dt>" + f[0] + "</dt><dd>" + f[1] + "</dd>"; }).join("");
    var rows = app.objects.map(objectRow).join("") || "<tr><td colspan=3>No objects</td></tr>";
    var html = '<div class="detail-head"><h2 id="detail-title">' + esc(app.name) + "</h2>" +
      '<a class="close" id="detail-close" href="?">Close</a></div>' +
      '<dl class="facts">' + facts + "</dl>" + renderHistory(history) +
      '<h3>Objects</h3><table class="objects"><thead><tr><th scope="col">Object and differences</th><th scope="col">Health</th>' +
      '<th scope="col">Sync</th></tr></thead><tbody>' + rows + "</tbody></table>" +
      '<h3>Diff</h3><pre class="diff" id="detail-diff">' + diffHtml(diffText) + "</pre>";
    if (detail.getAttribute("data-html") !== html) {
      var scroll = detail.scrollTop;
      detail.innerHTML = html;
      detail.setAttribute("data-html", html);
      detail.scrollTop = scroll;
    }
    detail.hidden = false;
  }

  function api(path, asText) {
    return fetch(path, { headers: { Accept: asText ? "text/plain" : "application/json" }, cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error(path + ": HTTP " + r.status);
        return asText ? r.text() : r.json();
      });
  }

  function loadDetail(name) {
    var base = "api/v1/apps/" + encodeURIComponent(name);
    // A shard that predates the history route still shows the rest of the panel.
    var history = api(base + "/history").catch(function () { return null; });
    return Promise.all([api(base), api(base + "/diff", true), history]).then(function (res) {
      if (openApp === name) renderDetail(res[0], res[1], res[2]);
    }, function () {
      if (openApp === name) closeDetail();
    });
  }

  function openDetail(name, focus) {
    openApp = name;
    syncUrl();
    renderRows();
    loadDetail(name).then(function () {
      if (focus && !detail.hidden) {
        detail.focus({ preventScroll: true });
        detail.scrollIntoView({ block: "nearest" });
      }
    });
  }

  function closeDetail() {
    var name = openApp;
    openApp = null;
    detail.hidden = true;
    detail.removeAttribute("data-html");
    syncUrl();
    renderRows();
    var link = name && tbody.querySelector('tr[data-app="' + CSS.escape(name) + '"] a');
    if (link) link.focus();
  }

  // A sharded agent lists every shard's apps and names the shards that did not answer in a header.
  function renderShards(missing) {
    var banner = document.getElementById("shards");
    if (!banner) return;
    var count = banner.getAttribute("data-shard-count");
    var shards = String(missing || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    var text = !shards.length ? "" : shards.length === 1
      ? "shard " + shards[0] + " of " + count + " did not answer; its apps are not shown."
      : "shards " + shards.join(", ") + " of " + count + " did not answer; their apps are not shown.";
    if (banner.textContent !== text) banner.textContent = text;
    banner.hidden = !text;
  }

  function refresh() {
    return fetch("api/v1/apps", { headers: { Accept: "application/json" }, cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("api/v1/apps: HTTP " + r.status);
      renderShards(r.headers.get("X-Unreachable-Shards"));
      return r.json();
    }).then(function (list) {
      apps = list;
      renderOptions();
      renderRows();
      renderCounts();
      refreshTimes();
      if (openApp) return loadDetail(openApp);
    }).catch(function () { /* keep the last view; the next tick retries */ });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () { refresh().then(schedule); }, refreshMs);
  }

  form.addEventListener("change", function () { syncUrl(); renderRows(); renderCounts(); });
  form.addEventListener("input", function (e) {
    if (e.target.name === "label" || e.target.name === "q") { syncUrl(); renderRows(); }
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); syncUrl(); renderRows(); renderCounts(); });
  form.querySelector('a[href="?"]').addEventListener("click", function (e) {
    e.preventDefault();
    form.reset();
    Array.prototype.forEach.call(form.elements, function (el) { if (el.name) el.value = ""; });
    syncUrl(); renderRows(); renderCounts();
  });
  document.getElementById("counts").addEventListener("click", function (e) {
    var a = e.target.closest("a[data-state]");
    if (!a) return;
    e.preventDefault();
    var s = a.getAttribute("data-state");
    form.elements.status.value = form.elements.status.value === s ? "" : s;
    syncUrl(); renderRows(); renderCounts();
  });
  tbody.addEventListener("click", function (e) {
    var tr = e.target.closest("tr[data-app]");
    if (!tr || e.target.closest("a:not(.app-link)")) return;  // a commit link opens the commit
    e.preventDefault();
    var name = tr.getAttribute("data-app");
    if (name === openApp && !detail.hidden) closeDetail(); else openDetail(name, true);
  });
  detail.addEventListener("click", function (e) {
    if (e.target.closest("#detail-close")) { e.preventDefault(); closeDetail(); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && openApp) closeDetail();
  });

  // A phone folds the filters unless one is set, so the apps come first.
  var box = document.getElementById("filter-box");
  var f0 = currentFilter();
  if (box && window.matchMedia("(max-width: 640px)").matches && !(f0.q || f0.status || f0.project ||
      f0.cluster || f0.label)) box.open = false;

  // A link to one app (?app=NAME) opens on its panel, wherever the panel sits.
  if (openApp && !detail.hidden && detail.getBoundingClientRect().top > window.innerHeight / 2) {
    detail.scrollIntoView({ block: "start" });
  }

  refresh().then(schedule);
})();
