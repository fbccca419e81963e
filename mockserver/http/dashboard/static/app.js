// The mock's dashboard. Plain DOM: every value a client sent is set as text (textContent),
// never parsed as HTML. Live: an EventSource says which views changed; the page fetches
// what is new. It keeps at most MAX_ROWS request rows, so a full journal at 100 requests a
// second costs the page a bounded DOM.
"use strict";

const API = "/__admin/ui/api";
const MAX_ROWS = 500;
const LIVE_ROWS = 100;  // new rows fetched at most per change (4 a second: 400 requests/s shown)
const state = {
  csrf: null,
  view: "requests",
  lastRequest: 0,
  filters: {},
  stream: null,
  busy: {},
  again: {},
  task: null,
  taskState: null,
};

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
function shortTime(iso) { return iso ? iso.slice(11, 23) : ""; }
function pretty(value) { return value === null || value === undefined ? "(not kept)" : JSON.stringify(value, null, 2); }

async function api(path, options) {
  const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (opts.method && opts.method !== "GET" && state.csrf) opts.headers["X-CSRF-Token"] = state.csrf;
  const response = await fetch(path, opts);
  if (response.status === 401) { showLogin(""); throw new Error("logged out"); }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
  return { status: response.status, ok: response.ok, body };
}

// Runs ``fetcher`` for ``view`` once at a time; a change while it runs runs it once more.
async function refresh(view) {
  const fetcher = FETCH[view];
  if (!fetcher || !state.csrf) return;
  if (state.busy[view]) { state.again[view] = true; return; }
  state.busy[view] = true;
  try { await fetcher(); } catch (e) { /* shown on the next change */ }
  state.busy[view] = false;
  if (state.again[view]) { state.again[view] = false; refresh(view); }
}

// --- login -----------------------------------------------------------------------------
function showLogin(message) {
  state.csrf = null;
  if (state.stream) { state.stream.close(); state.stream = null; }
  $("login").hidden = false;
  $("nav").hidden = true; $("logout").hidden = true; $("live").hidden = true;
  for (const v of document.querySelectorAll(".view")) v.hidden = true;
  $("login-error").textContent = message || "";
}

function showApp(csrf) {
  state.csrf = csrf;
  $("login").hidden = true;
  $("nav").hidden = false; $("logout").hidden = false; $("live").hidden = false;
  show(state.view);
  connect();
}

async function login(event) {
  event.preventDefault();
  const key = $("login-key").value;
  const response = await fetch("/__admin/ui/login", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify({ key }),
  });
  const body = await response.json().catch(() => null);
  $("login-key").value = "";
  if (response.ok && body) { showApp(body.csrf); return; }
  const err = body && body.errors && body.errors[0];
  showLogin(err ? `${err.code}: ${err.message}` : `Refused (${response.status}).`);
}

async function logout() {
  await api("/__admin/ui/logout", { method: "POST" }).catch(() => null);
  showLogin("Logged out.");
}

// --- live ------------------------------------------------------------------------------
function connect() {
  if (state.stream) state.stream.close();
  const stream = new EventSource("/__admin/ui/events");
  state.stream = stream;
  stream.addEventListener("open", () => { $("live").textContent = "live"; $("live").className = "live on"; });
  stream.addEventListener("error", () => { $("live").textContent = "reconnecting"; $("live").className = "live off"; });
  stream.addEventListener("change", (event) => {
    const data = JSON.parse(event.data);
    for (const view of data.views) {
      if (view === "requests" && data.lastRequest === state.lastRequest) continue;
      if (view === state.view || (view === "tasks" && state.view === "tasks")) refresh(view);
      else state.stale = Object.assign(state.stale || {}, { [view]: true });
      if (view === "tasks" && state.task) refresh("task");
    }
  });
  stream.addEventListener("health", () => { if (state.view === "health") refresh("health"); });
}

function show(view) {
  state.view = view;
  for (const b of document.querySelectorAll("#nav button")) b.classList.toggle("active", b.dataset.view === view);
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== `view-${view}`;
  refresh(view);
}

// --- requests --------------------------------------------------------------------------
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  return q.toString();
}

async function fetchRequests() {
  const after = state.lastRequest;
  const limit = after ? LIVE_ROWS : MAX_ROWS;
  const { ok, body } = await api(`${API}/requests?${query(Object.assign({ after, limit }, state.filters))}`);
  if (!ok || !body) return;
  const tbody = $("requests-body");
  const rows = body.requests.slice().reverse();  // oldest first, each put on top
  for (const r of rows) tbody.prepend(requestRow(r));
  while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(tbody.rows.length - 1);
  state.lastRequest = Math.max(after, body.lastId);
  $("requests-count").textContent = `${tbody.rows.length} shown; ${body.total} in the journal`;
}

function requestRow(r) {
  const errors = r.errorCodes.map((code, i) => {
    const message = r.errorMessages[i];
    return el("div", { class: "err" }, el("b", {}, code), message ? ` ${message}` : "");
  });
  const row = el("tr", { class: `request-row ${r.status >= 400 ? "bad" : "good"}`, "data-id": r.id },
    el("td", {}, r.id), el("td", {}, shortTime(r.time)), el("td", {}, r.transport),
    el("td", { class: "status" }, r.status), el("td", {}, r.taskTypes.join(", ")),
    el("td", { class: "uuid" }, r.taskUUIDs.join(" ")), el("td", {}, ...errors),
    el("td", { class: "num" }, r.durationMs.toFixed(1)));
  row.addEventListener("click", () => openRequest(r.id));
  return row;
}

async function openRequest(id) {
  const { ok, body } = await api(`${API}/requests/${id}`);
  $("request-detail").hidden = false;
  if (!ok) { $("request-title").textContent = `Request ${id}: no longer in the journal`; return; }
  $("request-title").textContent = `Request ${id}: ${body.transport} ${body.path} -> ${body.status}`;
  $("request-body").textContent = body.truncated ? `(${body.size} bytes: over the journal's limit, not kept)` : pretty(body.request);
  $("request-reply").textContent = pretty(body.reply);
}

function applyFilters(event) {
  event.preventDefault();
  state.filters = {
    status: $("f-status").value.trim(), errorCode: $("f-code").value.trim(),
    taskType: $("f-type").value.trim(), taskUUID: $("f-uuid").value.trim(),
  };
  state.lastRequest = 0;
  clear($("requests-body"));
  refresh("requests");
}

// --- tasks -----------------------------------------------------------------------------
async function fetchTasks() {
  const { ok, body } = await api(`${API}/tasks`);
  if (!ok || !body) return;
  const tbody = $("tasks-body");
  clear(tbody);
  for (const t of body.tasks) {
    const row = el("tr", { class: `task-row ${t.state}`, "data-uuid": t.taskUUID },
      el("td", { class: "uuid" }, t.taskUUID), el("td", {}, t.taskType),
      el("td", { class: "state" }, t.state, t.error ? ` (${t.error.code})` : ""),
      el("td", {}, el("progress", { max: 100, value: t.progress }), ` ${t.progress}%`),
      el("td", {}, shortTime(t.accepted)), el("td", {}, t.results.length),
      el("td", {}, t.cost === null ? "" : `$${t.cost}`));
    row.addEventListener("click", () => { state.task = t.taskUUID; state.taskState = null; refresh("task"); });
    tbody.append(row);
  }
}

async function fetchTask() {
  if (!state.task) return;
  const { ok, body } = await api(`${API}/tasks/${encodeURIComponent(state.task)}`);
  $("task-detail").hidden = false;
  if (!ok) { $("task-title").textContent = "This task is no longer shown."; return; }
  $("task-title").textContent = `${body.taskType} ${body.taskUUID}: ${body.state}` + (body.state === "processing" ? ` ${body.progress}%` : "");
  const events = $("task-events");
  clear(events);
  for (const e of body.events) events.append(el("li", { class: e.future ? "future" : "" }, `${e.event} ${shortTime(e.time)}`));
  if (body.error) events.append(el("li", { class: "err" }, `${body.error.code}: ${body.error.message}`));
  if (state.taskState !== body.state) {  // media are made once per state, so a video keeps playing
    state.taskState = body.state;
    const media = $("task-media");
    clear(media);
    for (const item of body.results) {
      if (item.kind === "video") {
        media.append(el("video", { class: "result-media", src: item.url, controls: true, muted: true, loop: true, autoplay: true, preload: "auto", playsInline: true }));
      } else if (item.kind === "image") {
        media.append(el("img", { class: "result-media", src: item.url, alt: "result image" }));
      }
      if (item.cost !== undefined) media.append(el("p", {}, `cost $${item.cost}`));
    }
  }
  const deliveries = $("task-deliveries");
  clear(deliveries);
  for (const a of body.attempts) deliveries.append(el("li", {}, `${a.kind} attempt ${a.attempt}/${a.attempts} ${a.url}: ${a.outcome}${a.status ? " " + a.status : ""}${a.reason ? " (" + a.reason + ")" : ""}${a.retryIn ? ", again in " + a.retryIn + " s" : ""}`));
  for (const o of body.outcomes) deliveries.append(el("li", { class: o.ok ? "" : "err" }, `${o.kind} final: ${o.ok ? "delivered" : "failed"} after ${o.attempts} attempt(s)${o.reason ? " (" + o.reason + ")" : ""}`));
  if (!body.attempts.length && !body.outcomes.length) deliveries.append(el("li", { class: "muted" }, body.webhookURL || body.uploadEndpoint ? "pending" : "none asked for"));
  const requests = $("task-requests");
  clear(requests);
  for (const r of body.requests) requests.append(el("li", {}, `#${r.id} ${shortTime(r.time)} ${r.transport} ${r.status} ${r.errorCodes.join(" ")}`));
}

// --- deliveries ------------------------------------------------------------------------
async function fetchDeliveries() {
  const { ok, body } = await api(`${API}/deliveries`);
  if (!ok || !body) return;
  $("deliveries-summary").textContent = `${body.pending} pending; ${body.dropped} dropped (queue full)`;
  const attempts = $("attempts-body");
  clear(attempts);
  for (const a of body.attempts.slice(0, MAX_ROWS)) attempts.append(el("tr", { class: a.outcome === "ok" ? "good" : "bad" },
    el("td", {}, shortTime(a.time)), el("td", {}, a.kind), el("td", { class: "url" }, a.url), el("td", { class: "uuid" }, a.taskUUID),
    el("td", {}, `${a.attempt}/${a.attempts}`), el("td", {}, a.status ?? ""), el("td", {}, a.outcome),
    el("td", {}, a.reason ?? ""), el("td", {}, a.retryIn ?? "")));
  const outcomes = $("outcomes-body");
  clear(outcomes);
  for (const o of body.outcomes.slice(0, MAX_ROWS)) outcomes.append(el("tr", { class: o.ok ? "good" : "bad" },
    el("td", {}, shortTime(o.finished)), el("td", {}, o.kind), el("td", { class: "url" }, o.url), el("td", { class: "uuid" }, o.taskUUID),
    el("td", {}, o.attempts), el("td", {}, o.status ?? ""), el("td", {}, o.ok ? "yes" : "no"), el("td", {}, o.reason ?? "")));
}

// --- scenarios -------------------------------------------------------------------------
async function fetchScenarios() {
  const { ok, body } = await api("/__admin/scenarios");
  if (!ok || !body) return;
  const tbody = $("scenarios-body");
  clear(tbody);
  for (const s of body.scenarios) {
    const action = ["fail", "respond", "latency"].find((a) => a in s);
    const remove = el("button", { type: "button", class: "remove", "data-id": s.id }, "Remove");
    remove.addEventListener("click", () => removeScenario(s.id));
    tbody.append(el("tr", { class: "scenario-row", "data-id": s.id }, el("td", {}, s.id), el("td", {}, JSON.stringify(s.match)),
      el("td", {}, `${action} ${JSON.stringify(s[action])}`), el("td", {}, s.times ?? "every time"), el("td", {}, s.used), el("td", {}, remove)));
  }
}

async function removeScenario(id) {
  await api(`/__admin/scenarios/${encodeURIComponent(id)}`, { method: "DELETE" });
  refresh("scenarios");
}

function scenarioBody(form) {
  const action = form.elements.action.value;
  const body = { [action]: {} };
  const match = {};
  for (const input of form.querySelectorAll("input")) {
    const value = input.value.trim();
    if (value === "") continue;
    const [group, key] = input.name.includes(".") ? input.name.split(".") : [null, input.name];
    const number = input.getAttribute("inputmode") ? Number(value) : NaN;
    const given = Number.isFinite(number) ? number : value;  // not a number: the server says so
    if (group === "match") match[key] = value;
    else if (group === action) body[action][key] = given;
    else if (group === null) body[key] = given;
  }
  if (Object.keys(match).length) body.match = match;
  return body;
}

async function armScenario(event) {
  event.preventDefault();
  const form = event.target;
  for (const span of form.querySelectorAll(".field-error")) span.textContent = "";
  $("scenario-error").textContent = "";
  const { status, body } = await api("/__admin/scenarios", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(scenarioBody(form)),
  });
  if (status === 201) { form.reset(); switchAction(); refresh("scenarios"); return; }
  for (const err of (body && body.errors) || [{ code: String(status), message: "Refused." }]) {
    const span = err.parameter && form.querySelector(`.field-error[data-for="${CSS.escape(err.parameter)}"]`);
    (span || $("scenario-error")).textContent = `${err.code}: ${err.message}`;
  }
}

function switchAction() {
  const action = $("scenario-action").value;
  for (const div of document.querySelectorAll("#scenario-form [data-action]")) div.hidden = div.dataset.action !== action;
}

// --- models ----------------------------------------------------------------------------
function describe(p) {
  const facts = [];
  for (const k of ["types", "required", "default", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "step", "minLength", "maxLength", "minItems", "maxItems", "format", "pattern"]) {
    if (p[k] !== undefined && p[k] !== false) facts.push(`${k}: ${JSON.stringify(p[k])}`);
  }
  return facts.join("; ");
}

async function fetchModels() {
  const { ok, body } = await api(`${API}/models`);
  if (!ok || !body) return;
  const list = $("models-list");
  clear(list);
  for (const m of body.models) {
    const params = el("table", { class: "list" }, el("thead", {}, el("tr", {}, el("th", {}, "Parameter"), el("th", {}, "Types, bounds, defaults"))));
    const pbody = el("tbody", {});
    for (const p of m.parameters) pbody.append(el("tr", {}, el("td", { class: "path" }, p.path), el("td", {}, describe(p))));
    params.append(pbody);
    const rules = el("ul", {}, ...m.rules.map((r) => el("li", {}, el("b", {}, `${r.kind} `), `${r.id}: ${r.message}`)));
    const prices = el("pre", {}, m.pricing ? JSON.stringify(m.pricing, null, 2) : "no pricing");
    const dims = el("pre", {}, m.dimensions ? JSON.stringify(m.dimensions, null, 2) : "none");
    list.append(el("article", { class: "model", "data-model": m.id },
      el("h3", {}, `${m.name} `, el("code", {}, m.id)),
      el("p", {}, `${m.taskType}; source: ${m.source.kind} (${m.source.file}); docs: ${m.docs}`),
      el("details", { open: true }, el("summary", {}, `Parameters (${m.parameters.length})`), params),
      el("details", {}, el("summary", {}, `Rules (${m.rules.length})`), rules),
      el("details", {}, el("summary", {}, "Dimensions"), dims),
      el("details", { open: true }, el("summary", {}, "Prices"), prices)));
  }
}

// --- health ----------------------------------------------------------------------------
async function fetchHealth() {
  const { ok, body } = await api(`${API}/health`);
  if (!ok || !body) return;
  const dl = $("health");
  clear(dl);
  const add = (name, value) => dl.append(el("dt", {}, name), el("dd", { "data-key": name }, typeof value === "object" ? JSON.stringify(value) : value));
  add("Event loop lag (ms, recent)", body.loopLagMs);
  add("Event loop lag (ms, worst)", body.loopLagMaxMs);
  for (const [k, v] of Object.entries(body.store)) add(`Store ${k}`, v);
  for (const [k, v] of Object.entries(body.queues)) add(k, v);
  for (const [k, v] of Object.entries(body.journal)) add(`Journal ${k}`, v);
  add("Scenarios armed", body.scenariosArmed);
  add("Dashboard streams", body.dashboardStreams);
}

const FETCH = {
  requests: fetchRequests, tasks: fetchTasks, task: fetchTask, deliveries: fetchDeliveries,
  scenarios: fetchScenarios, models: fetchModels, health: fetchHealth,
};

async function start() {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("request-filters").addEventListener("submit", applyFilters);
  $("request-filters").addEventListener("reset", () => setTimeout(() => $("request-filters").requestSubmit(), 0));
  $("scenario-form").addEventListener("submit", armScenario);
  $("scenario-action").addEventListener("change", switchAction);
  for (const b of document.querySelectorAll("#nav button")) b.addEventListener("click", () => show(b.dataset.view));
  const response = await fetch(`${API}/session`, { credentials: "same-origin" });
  if (response.ok) showApp((await response.json()).csrf);
  else showLogin("");
}

document.addEventListener("DOMContentLoaded", start);
