// ork Control Center: one page, views chosen by the URL's hash, data polled from /api/*.
// Every text is set with textContent (never innerHTML): names and messages come from clusters.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const STATES = ["healthy", "started", "pending", "gated", "degraded", "gateway"];

let snapshot = null; // the last /api/state
let timer = null;
let seenChildren = new Map(); // CR key -> Map(child key -> {kind, name, namespace, uid, missing, restored})

// ---------- DOM helpers ----------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function badge(state, label) {
  const text = label || state;
  return h("span", { class: "badge s-" + String(state).replace(/[^a-z]/g, ""), text });
}

function facts(pairs) {
  return h("dl", { class: "facts" },
    pairs.filter((p) => p).map(([term, value]) => [h("dt", { text: term }), h("dd", {}, value ?? "—")]));
}

function table(label, headers, rows) {
  return h("div", { class: "scroll" },
    h("table", {},
      h("caption", { text: label }),
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col", text: x })))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: headers.length, class: "muted", text: "None." })))));
}

// ---------- routes ----------

function enc(x) { return encodeURIComponent(x); }
function crdHref(k, crd) { return `#/k/${enc(k)}/crd/${enc(crd)}`; }
function crHref(k, crd, ns, name) { return `${crdHref(k, crd)}/cr/${enc(ns || "_")}/${enc(name)}`; }

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || "");
  if (parts[0] === "k" && parts[2] === "crd" && parts[4] === "cr" && parts.length === 7) {
    return { view: "cr", katalog: parts[1], crd: parts[3], namespace: parts[5] === "_" ? "" : parts[5], name: parts[6], params };
  }
  if (parts[0] === "k" && parts[2] === "crd" && parts.length === 4) {
    return { view: "crd", katalog: parts[1], crd: parts[3], params };
  }
  return { view: "overview", params };
}

function setParams(params) {
  const hash = location.hash.split("?")[0] || "#/";
  const query = params.toString();
  history.replaceState(null, "", query ? `${hash}?${query}` : hash);
}

// ---------- data ----------

async function getJSON(url) {
  const response = await fetch(url, { headers: { accept: "application/json" } });
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) throw new Error((body && body.error) || `HTTP ${response.status}`);
  return body;
}

function katalogOf(name) {
  return snapshot && snapshot.katalogs.find((k) => k.name === name);
}

// Go durations such as "1h2m3.5s" or "250ms", in seconds, for sorting ages.
function seconds(text) {
  let total = 0;
  const re = /([\d.]+)(h|ms|m|s|us|µs|ns)/g;
  let match;
  while ((match = re.exec(text || "")) !== null) {
    const n = parseFloat(match[1]);
    total += n * ({ h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, "µs": 1e-6, ns: 1e-9 }[match[2]]);
  }
  return total;
}

function percent(x) { return x === undefined || x === null ? "—" : `${(x * 100).toFixed(1)} %`; }

// ---------- views ----------

function crumbs(items) {
  const list = document.getElementById("crumbs");
  list.replaceChildren(...items.map(([text, href], i) =>
    h("li", {}, i === items.length - 1 ? h("span", { "aria-current": "page", text }) : h("a", { href, text }))));
}

function endpointsTable(endpoints) {
  return table("Endpoints polled", ["URL", "Role", "State", "Katalog", "Leader", "Last answer", "Error"],
    endpoints.map((e) => h("tr", {},
      h("td", {}, h("code", { text: e.url })),
      h("td", {}, badge(e.role)),
      h("td", {}, badge(e.reachable ? "reachable" : "unreachable")),
      h("td", { text: e.katalog || "—" }),
      h("td", { text: e.isKonductor === true ? "yes" : e.isKonductor === false ? "no" : "—" }),
      h("td", { text: e.lastSeen ? new Date(e.lastSeen).toLocaleString() : "never" }),
      h("td", { class: e.error ? "error-text" : "", text: e.error || "" }))));
}

function katalogHealth(k) {
  if (!k.reachable) return "unreachable";
  if (!k.leader) return "gateway";
  return k.healthy ? "healthy" : "degraded";
}

function viewOverview(main) {
  crumbs([["Overview", "#/"]]);
  document.title = "Overview · ork Control Center";
  const katalogs = snapshot.katalogs;
  const up = snapshot.endpoints.filter((e) => e.reachable).length;
  append(main, 
    h("h1", { text: "Operators" }),
    h("p", {}, `${katalogs.length} Katalog${katalogs.length === 1 ? "" : "s"}, `,
      `${up} of ${snapshot.endpoints.length} endpoints answering.`),
    h("section", { "aria-labelledby": "katalogs-h" },
      h("h2", { id: "katalogs-h", text: "Katalogs" }),
      katalogs.length ? h("div", { class: "grid" }, katalogs.map(katalogCard))
        : h("p", { class: "muted", text: "No endpoint has answered yet." })),
    katalogs.map(katalogSection),
    h("section", { "aria-labelledby": "endpoints-h" },
      h("h2", { id: "endpoints-h", text: "Endpoints" }),
      endpointsTable(snapshot.endpoints)));
}

function katalogCard(k) {
  const counts = k.statusCounts || {};
  return h("article", { class: "card", "aria-label": `Katalog ${k.name}` },
    h("h3", {}, `${k.name} `, badge(katalogHealth(k))),
    facts([
      ["Version", k.version || "—"],
      ["CRDs", String(k.crds.length)],
      ["Health", `${counts.healthy ?? 0} healthy, ${counts.degraded ?? 0} degraded, ${counts.pending ?? 0} pending`],
      ["Leader", k.leader ? [h("code", { text: k.leader }), k.leaderConfirmed ? "" : " (unconfirmed)"] : "none"],
      ["Gateways", k.gateways.length ? k.gateways.join(", ") : "none"],
      k.degradedReason ? ["Reason", h("span", { class: "error-text", text: k.degradedReason })] : null,
    ]));
}

function katalogSection(k) {
  const id = `k-${k.name.replace(/[^a-zA-Z0-9-]/g, "-")}`;
  return h("section", { "aria-labelledby": id },
    h("h2", { id }, `Katalog ${k.name}`),
    table(`CRDs of ${k.name}`, ["CRD", "State", "Workers", "Queue", "Error rate", "Gateway"],
      k.crds.map((c) => {
        const rt = c.runtime || {};
        return h("tr", {},
          h("th", { scope: "row" }, h("a", { href: crdHref(k.name, c.name), text: c.name })),
          h("td", {}, badge(c.state)),
          h("td", { class: "num", text: rt.workers != null ? String(rt.workers) : "—" }),
          h("td", { class: "num", text: rt.queue ? String(rt.queue.depth) : "—" }),
          h("td", { class: "num", text: rt.metrics ? percent(rt.metrics.errorRate) : "—" }),
          h("td", { text: c.gateway ? "yes" : "no" }));
      })),
    h("h3", { text: `dependsOn graph of ${k.name}` }),
    graph(k));
}

// Layers: a CRD sits one column right of the deepest CRD it depends on.
function graph(k) {
  const names = k.crds.map((c) => c.name);
  const deps = new Map(k.crds.map((c) => [c.name, (c.dependsOn || []).filter((d) => names.includes(d.name))]));
  const depth = new Map();
  const visiting = new Set();
  const level = (n) => {
    if (depth.has(n)) return depth.get(n);
    if (visiting.has(n)) return 0; // a cycle: validation refuses it; draw it anyway
    visiting.add(n);
    const d = Math.max(-1, ...deps.get(n).map((x) => level(x.name))) + 1;
    visiting.delete(n);
    depth.set(n, d);
    return d;
  };
  names.forEach(level);
  const columns = [];
  for (const n of names) (columns[depth.get(n)] ||= []).push(n);
  const W = 150, H = 34, GX = 70, GY = 18, PAD = 10;
  const pos = new Map();
  columns.forEach((col, x) => col.forEach((n, y) => pos.set(n, { x: PAD + x * (W + GX), y: PAD + y * (H + GY) })));
  const width = PAD * 2 + columns.length * (W + GX) - GX;
  const height = PAD * 2 + Math.max(1, ...columns.map((c) => c.length)) * (H + GY) - GY;
  const byName = new Map(k.crds.map((c) => [c.name, c]));
  const edges = [];
  for (const [n, list] of deps) {
    for (const d of list) {
      const from = pos.get(n), to = pos.get(d.name);
      edges.push(s("path", {
        class: "edge" + (d.condition === "healthy" ? " healthy-dep" : ""),
        d: `M${from.x} ${from.y + H / 2} C${from.x - GX / 2} ${from.y + H / 2}, ${to.x + W + GX / 2} ${to.y + H / 2}, ${to.x + W} ${to.y + H / 2}`,
        "marker-end": "url(#arrow)",
      }, s("title", { text: `${n} depends on ${d.name} (${d.condition})` })));
    }
  }
  const nodes = names.map((n) => {
    const p = pos.get(n), c = byName.get(n);
    const label = n.length > 18 ? n.slice(0, 17) + "…" : n;
    return s("a", { href: crdHref(k.name, n), "aria-label": `${n}: ${c.state}` },
      s("rect", { class: `n-${c.state}`, x: p.x, y: p.y, width: W, height: H, rx: 5 }),
      s("text", { x: p.x + 8, y: p.y + 21, text: `${label} · ${c.state}` }));
  });
  const edgeCount = edges.length;
  return h("figure", { class: "graph" },
    s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "group",
      "aria-label": `dependsOn graph of ${k.name}: ${names.length} CRDs, ${edgeCount} dependencies` },
      s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
        s("path", { d: "M0 0 L10 5 L0 10 z", fill: "#4a5360" }))),
      edges, nodes),
    h("figcaption", { class: "legend" }, "Colour by state:", STATES.map((x) => badge(x)),
      h("span", { class: "muted", text: "Arrows point at what a CRD depends on; dashed: must be healthy." })));
}

function plot(title, values, unit, format) {
  const points = values.map((v, i) => [i, v]).filter(([, v]) => v !== null && v !== undefined);
  const last = points.length ? points[points.length - 1][1] : null;
  const max = Math.max(1e-9, ...points.map(([, v]) => v));
  const W = 300, H = 90;
  const n = Math.max(1, values.length - 1);
  const d = points.map(([i, v], j) => `${j ? "L" : "M"}${(i / n) * (W - 10) + 5} ${H - 8 - (v / max) * (H - 16)}`).join(" ");
  const summary = points.length ? `${title}: last ${format(last)}${unit}, peak ${format(max)}${unit} over ${values.length} samples`
    : `${title}: no samples yet`;
  return h("figure", { class: "plot" },
    h("figcaption", {}, h("span", { text: title }), h("strong", { text: last === null ? "—" : format(last) + unit })),
    s("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": summary },
      s("line", { class: "axis", x1: 0, y1: H - 8, x2: W, y2: H - 8 }),
      d ? s("path", { class: "line", d }) : null));
}

function viewCrd(main, r, done) {
  const k = katalogOf(r.katalog);
  crumbs([["Overview", "#/"], [r.katalog, "#/"], [r.crd, crdHref(r.katalog, r.crd)]]);
  document.title = `${r.crd} · ork Control Center`;
  const c = k && k.crds.find((x) => x.name === r.crd);
  if (!c) {
    append(main, h("h1", { text: `CRD ${r.crd}` }), h("p", { class: "error-text", text: `Katalog ${r.katalog} has no CRD ${r.crd} (or no endpoint serving it answered).` }));
    return done();
  }
  const rt = c.runtime || {};
  const gw = c.gateway;
  const series = c.history || { rate: [], errorRate: [], p99Ms: [] };
  const autoscaler = rt.autoscaler || {};
  append(main, 
    h("h1", {}, `CRD ${c.name} `, badge(c.state)),
    h("div", { class: "grid" },
      h("section", { class: "card", "aria-labelledby": "rt-h" },
        h("h2", { id: "rt-h", text: "Runtime" }),
        c.runtime ? facts([
          ["GVK", rt.gvk],
          ["Workers", `${rt.workers} (${rt.workersSource})`],
          ["Autoscaler", autoscaler.enabled
            ? `${autoscaler.active ? "scaled up" : "at baseline"}: ${autoscaler.baselineWorkers} workers, ${autoscaler.scaledWorkers ?? "?"} when scaled`
            : "off"],
          ["Queue depth", String(rt.queue.depth)],
          ["Failure threshold", String(rt.queue.failureThreshold)],
          ["Resync", rt.resync],
          ["Error rate (all time)", percent(rt.metrics.errorRate)],
        ]) : h("p", { class: "muted", text: "No runtime serves this CRD: the gateway alone protects it." }),
        h("div", { id: "health" })),
      h("section", { class: "card", "aria-labelledby": "gw-h" },
        h("h2", { id: "gw-h", text: "Gateway" }), gatewayFacts(rt, gw))),
    h("section", { "aria-labelledby": "plots-h" },
      h("h2", { id: "plots-h", text: "Last samples" }),
      h("p", { class: "muted", text: `One point per poll (every ${snapshot.refreshSeconds} s), from the leader's counters.` }),
      h("div", { class: "plots" },
        plot("Reconciles per second", series.rate, "/s", (v) => v.toFixed(2)),
        plot("Error rate", series.errorRate.map((v) => v * 100), " %", (v) => v.toFixed(1)),
        plot("p99 latency", series.p99Ms, " ms", (v) => v.toFixed(1)))),
    h("section", { "aria-labelledby": "crs-h" },
      h("h2", { id: "crs-h", text: "Custom resources" }),
      h("div", { id: "crs" }, h("p", { class: "muted", text: "Loading…" }))));
  if (!c.runtime) return done();
  Promise.allSettled([
    getJSON(`/api/katalogs/${enc(r.katalog)}/crds/${enc(r.crd)}/health`),
    getJSON(`/api/katalogs/${enc(r.katalog)}/crds/${enc(r.crd)}/cr`),
  ]).then(([health, list]) => {
    const box = main.querySelector("#health");
    if (box && health.status === "fulfilled") {
      const x = health.value;
      box.replaceChildren(h("h3", { text: "Live health" }), facts([
        ["Leader", x.isKonductor ? "this replica" : "no"],
        ["Reconciles", String(x.totalReconciles ?? "—")],
        ["Consecutive failures", String(x.consecutiveFails ?? "—")],
        ["Last reconcile", x.lastReconcile || "—"],
        ["Uptime", x.uptime || "—"],
        x.lastError ? ["Last error", h("span", { class: "error-text", text: x.lastError })] : null,
      ]));
    }
    const crs = main.querySelector("#crs");
    if (!crs) return;
    if (list.status === "fulfilled") crList(crs, r, list.value.items || []);
    else crs.replaceChildren(h("p", { class: "error-text", text: `CRs unavailable: ${list.reason.message}` }));
  }).finally(done);
}

function gatewayFacts(rt, gw) {
  if (!gw) {
    const a = rt.admission || {};
    return facts([
      ["Admission webhooks", a.webhooksEnabled ? "declared (no gateway polled)" : "off"],
      ["Conversion", rt.conversion && rt.conversion.enabled ? "declared (no gateway polled)" : "off"],
      ["Deletion protection", rt.deletionProtection && rt.deletionProtection.enabled ? "on" : "off"],
      ["Namespace protection", rt.namespaceProtection && rt.namespaceProtection.enabled ? "on" : "off"],
      ["Counters", "add the gateway's URL to --urls to see them"],
    ]);
  }
  const a = gw.admission || {};
  const conv = gw.conversion;
  const del = gw.deletionProtection || {};
  const ns = gw.namespaceProtection || {};
  return facts([
    ["Validation", a.validation ? "on" : "off"],
    ["Mutation", a.mutation ? "on" : "off"],
    ["Validations", a.validationTotal !== undefined ? `${a.validationTotal} (${a.validationDenied} denied), p95 ${Number(a.valP95LatencyMs).toFixed(1)} ms` : "—"],
    ["Conversion", conv ? `storage ${conv.storageVersion}` : "off"],
    conv ? ["Conversions", `${conv.total} (${conv.failures} failed), avg ${Number(conv.avgLatencyMs).toFixed(1)} ms, p95 ${Number(conv.p95LatencyMs).toFixed(1)} ms`] : null,
    ["Deletion protection", `${del.protectCRD ? "CRD protected" : "CRD not protected"}; ${del.total ?? 0} checked, ${del.blocked ?? 0} blocked`],
    ["Restricted namespaces", ns.restricted && ns.restricted.length ? ns.restricted.join(", ") : "none"],
    ns.allowed && ns.allowed.length ? ["Allowed namespaces", ns.allowed.join(", ")] : null,
  ]);
}

const COLUMNS = [
  ["name", "Name", (x) => x.name],
  ["namespace", "Namespace", (x) => x.namespace],
  ["phase", "Phase", (x) => x.phase],
  ["ready", "Ready", (x) => (x.ready ? 1 : 0)],
  ["age", "Age", (x) => seconds(x.age)],
  ["generation", "Generation", (x) => x.generation],
];

function crList(box, r, items) {
  const params = r.params;
  const filter = params.get("q") || "";
  const sort = params.get("sort") || "name";
  const desc = params.get("dir") === "desc";
  const needle = filter.toLowerCase();
  const shown = items.filter((x) => !needle || [x.name, x.namespace, x.phase].some((v) => (v || "").toLowerCase().includes(needle)));
  const key = (COLUMNS.find((c) => c[0] === sort) || COLUMNS[0])[2];
  shown.sort((a, b) => {
    const x = key(a), y = key(b);
    const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return desc ? -order : order;
  });
  const input = h("input", { id: "cr-filter", type: "search", value: filter, placeholder: "name, namespace or phase",
    oninput: (e) => { params.set("q", e.target.value); if (!e.target.value) params.delete("q"); setParams(params); crList(box, r, items); } });
  const headers = COLUMNS.map(([id, label]) => {
    const active = id === sort;
    return h("th", { scope: "col", "aria-sort": active ? (desc ? "descending" : "ascending") : "none" },
      h("button", { type: "button", onclick: () => {
        params.set("sort", id);
        if (active && !desc) params.set("dir", "desc"); else params.delete("dir");
        setParams(params);
        crList(box, r, items);
        document.getElementById(`sort-${id}`)?.focus();
      }, id: `sort-${id}` }, label, active ? (desc ? " ▼" : " ▲") : ""));
  });
  const rows = shown.map((x) => h("tr", {},
    h("th", { scope: "row" }, h("a", { href: crHref(r.katalog, r.crd, x.namespace, x.name), text: x.name })),
    h("td", { text: x.namespace || "—" }),
    h("td", { text: x.phase || "—" }),
    h("td", {}, badge(x.ready ? "ready" : "notready", x.ready ? "ready" : "not ready")),
    h("td", { text: x.age }),
    h("td", { class: "num", text: String(x.generation) })));
  const hadFocus = document.activeElement && document.activeElement.id === "cr-filter";
  const caret = hadFocus ? document.activeElement.selectionStart : null;
  box.replaceChildren(
    h("div", { class: "filters" },
      h("label", { for: "cr-filter", text: "Filter" }), input,
      h("span", { id: "cr-count", role: "status", text: `${shown.length} of ${items.length} shown` })),
    h("div", { class: "scroll" }, h("table", { id: "cr-table" },
      h("caption", { text: `CRs of ${r.crd}` }),
      h("thead", {}, h("tr", {}, headers)),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: COLUMNS.length, class: "muted", text: "No CR matches." }))))));
  if (hadFocus) { input.focus(); input.setSelectionRange(caret, caret); }
}

function viewCr(main, r, done) {
  const title = r.namespace ? `${r.namespace}/${r.name}` : r.name;
  crumbs([["Overview", "#/"], [r.katalog, "#/"], [r.crd, crdHref(r.katalog, r.crd)], [title, crHref(r.katalog, r.crd, r.namespace, r.name)]]);
  document.title = `${title} · ork Control Center`;
  getJSON(`/api/katalogs/${enc(r.katalog)}/crds/${enc(r.crd)}/cr/${enc(r.namespace || "_")}/${enc(r.name)}`)
    .then(({ detail, events }) => {
      const status = detail.status || {};
      append(main, 
        h("h1", {}, `${r.crd} ${title} `, badge(detail.ready ? "ready" : "notready", detail.ready ? "ready" : "not ready")),
        h("div", { class: "grid" }, h("section", { class: "card", "aria-labelledby": "sum-h" },
          h("h2", { id: "sum-h", text: "Summary" }),
          facts([["Phase", detail.phase || "—"], ["Generation", String(detail.generation)],
            ["Observed generation", status.observedGeneration !== undefined ? String(status.observedGeneration) : "—"]]))),
        h("section", { "aria-labelledby": "children-h" },
          h("h2", { id: "children-h", text: "Children" }), children(r, detail.children || {})),
        h("section", { "aria-labelledby": "events-h" },
          h("h2", { id: "events-h", text: "Events" }),
          Array.isArray(events)
            ? table(`Events of ${title}, newest first`, ["Type", "Reason", "Message", "Age"],
              events.map((e) => h("tr", {},
                h("td", {}, badge(e.type === "Warning" ? "warning" : "normal", e.type)),
                h("td", { text: e.reason }), h("td", { text: e.message }), h("td", { text: e.age }))))
            : h("p", { class: "error-text", text: `Events unavailable: ${(events && events.error) || "unknown error"}` })),
        h("section", { "aria-labelledby": "cond-h" },
          h("h2", { id: "cond-h", text: "Conditions" }),
          table(`Conditions of ${title}`, ["Type", "Status", "Reason", "Message", "Since"],
            (status.conditions || []).map((c) => h("tr", {},
              h("th", { scope: "row", text: c.type }),
              h("td", {}, conditionBadge(c)),
              h("td", { text: c.reason || "" }), h("td", { text: c.message || "" }),
              h("td", { text: c.lastTransitionTime || "" }))))),
        h("section", { "aria-labelledby": "status-h" },
          h("h2", { id: "status-h", text: "Status" }),
          h("details", {}, h("summary", { text: "Whole status as JSON" }), h("pre", { text: JSON.stringify(status, null, 2) }))));
    })
    .catch((e) => append(main, h("h1", { text: `${r.crd} ${title}` }), h("p", { class: "error-text", text: e.message })))
    .finally(done);
}

// A condition's status, coloured by whether it is good news: `Ready=True` is, and so is
// `ValidationFailed=False` (negative-polarity types end in Failed, Warning, Degraded, Error).
function conditionBadge(c) {
  if (c.status !== "True" && c.status !== "False") return badge("unknown", c.status || "Unknown");
  const negative = /(Failed|Warning|Degraded|Error|Stalled)$/.test(c.type || "");
  const good = (c.status === "True") !== negative;
  return badge(good ? "ready" : "notready", c.status);
}

// Children by kind; a child seen earlier on this page and absent now is listed as missing,
// and once it is back (or came back under a new uid between two answers) as restored.
function children(r, byKind) {
  const key = `${r.katalog}/${r.crd}/${r.namespace}/${r.name}`;
  const seen = seenChildren.get(key) || new Map();
  seenChildren.set(key, seen);
  const now = new Set();
  for (const [kind, list] of Object.entries(byKind)) {
    for (const c of list || []) {
      const id = `${kind}/${c.namespace}/${c.name}`;
      now.add(id);
      const before = seen.get(id);
      const replaced = before !== undefined && (before.missing || (before.uid && c.uid && before.uid !== c.uid));
      seen.set(id, { kind, name: c.name, namespace: c.namespace, uid: c.uid || "", missing: false,
        restored: replaced || (before !== undefined && before.restored) });
    }
  }
  for (const [id, c] of seen) if (!now.has(id)) c.missing = true;
  const kinds = new Map();
  for (const [kind, list] of Object.entries(byKind)) {
    kinds.set(kind, (list || []).map((c) => ({ ...c, present: true,
      restored: seen.get(`${kind}/${c.namespace}/${c.name}`).restored })));
  }
  for (const [id, c] of seen) {
    if (!now.has(id)) {
      if (!kinds.has(c.kind)) kinds.set(c.kind, []);
      kinds.get(c.kind).push({ name: c.name, namespace: c.namespace, uid: c.uid, present: false });
    }
  }
  if (!kinds.size) return h("p", { class: "muted", text: "No children found." });
  return h("ul", { class: "tree", "aria-label": `Children of ${r.name}` },
    [...kinds.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([kind, list]) =>
      h("li", {}, h("strong", { text: `${kind} (${list.filter((c) => c.present).length})` }),
        kind === "Secret" ? h("span", { class: "muted", text: " — names only; contents are never shown" }) : null,
        h("ul", {}, list.map((c) => h("li", { class: "child", "data-kind": kind, "data-name": c.name, "data-uid": c.uid || "" },
          h("code", { text: c.namespace ? `${c.namespace}/${c.name}` : c.name }), " ",
          !c.present ? badge("missing")
            : c.ready === true ? badge("ready")
              : c.ready === false ? badge("notready", "not ready")
                : badge("none", "no readiness"),
          c.present && c.restored ? " " : null,
          c.present && c.restored ? badge("restored") : null))))));
}

// ---------- the loop ----------

let rendering = false;

async function refresh() {
  clearTimeout(timer);
  const problem = document.getElementById("problem");
  try {
    snapshot = await getJSON("/api/state");
    problem.hidden = true;
  } catch (e) {
    problem.textContent = `The Control Center itself does not answer: ${e.message}`;
    problem.hidden = false;
  }
  if (snapshot) render();
  const period = snapshot ? snapshot.refreshSeconds : 10;
  timer = setTimeout(refresh, Math.max(1, period) * 1000);
}

function render(focusMain) {
  if (rendering) return;
  rendering = true;
  const r = route();
  const main = document.getElementById("main");
  const next = h("main", { id: "main", tabindex: "-1" });
  const finish = () => {
    // Keep the reader's place: the filter keeps focus, the scroll position stays.
    const active = document.activeElement && document.activeElement.id;
    const caret = active === "cr-filter" ? document.activeElement.selectionStart : null;
    const y = window.scrollY;
    document.getElementById("main").replaceWith(next);
    if (focusMain) next.focus();
    else if (active && document.getElementById(active)) {
      const el = document.getElementById(active);
      el.focus();
      if (caret !== null) el.setSelectionRange(caret, caret);
    }
    window.scrollTo(0, focusMain ? 0 : y);
    document.getElementById("updated").textContent =
      snapshot.polledAt ? `Updated ${new Date(snapshot.polledAt).toLocaleTimeString()}` : "Waiting for the first poll";
    next.setAttribute("data-ready", "true");
    rendering = false;
  };
  if (r.view === "crd") viewCrd(next, r, finish);
  else if (r.view === "cr") viewCr(next, r, finish);
  else { viewOverview(next); finish(); }
  void main;
}

window.addEventListener("hashchange", () => { if (snapshot) render(true); });
refresh();
