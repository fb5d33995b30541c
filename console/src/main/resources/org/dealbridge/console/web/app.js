"use strict";
// The console's pages: plain JS over the JSON API (/api/, see openapi.json). Every write sends the session's CSRF token.
(() => {
  let csrfToken = null;
  let siteId = "s1";
  let choices = null;       // live lists from the CRM and the store
  let inForce = null;       // the mapping in force (GET /api/mapping/{site})

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    Object.entries(attrs).forEach(([k, v]) => {
      if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else if (k === "text") e.textContent = v; else if (v !== undefined && v !== null) e.setAttribute(k, v);
    });
    children.flat().forEach((c) => e.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return e;
  };

  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
    const response = await fetch(path, {method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body)});
    if (response.status === 401) {
      location.href = "/console/sign-in.html";
      throw new Error("signed out");
    }
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    return {status: response.status, ok: response.ok, data};
  }

  function flash(text, kind = "ok") {
    const f = $("flash");
    f.textContent = text;
    f.className = "flash " + kind;
    f.hidden = !text;
  }

  // ---- navigation --------------------------------------------------------------------------------------------
  const pages = {"overview": loadOverview, "mapping": loadMapping, "order": showOrderFromHash, "dead-letters": loadDeadLetters};

  function route() {
    const [page] = (location.hash.replace(/^#/, "") || "overview").split("/");
    const name = pages[page] ? page : "overview";
    document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== "page-" + name; });
    document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === name));
    flash("");
    pages[name]().catch((e) => flash(e.message, "error"));
  }

  // ---- overview ----------------------------------------------------------------------------------------------
  const OUTCOME_COLORS = {CREATED: "#2e7d32", UPDATED: "#66bb6a", ECHO_SUPPRESSED: "#90a4ae", SKIPPED_UNMAPPED_STATUS: "#f9a825",
    SKIPPED_UNMAPPED_STAGE: "#fbc02d", SKIPPED_NO_MAPPING: "#ef6c00", DEAD_LETTERED: "#c62828", CONFLICT_RESOLVED: "#6a1b9a",
    MANAGER_VALUE_KEPT: "#1565c0", DEAL_DELETED: "#5d4037", ORDER_DELETED: "#795548"};
  const color = (kind) => OUTCOME_COLORS[kind] || "#455a64";

  async function loadOverview() {
    const {ok, data} = await api("GET", "/api/overview");
    if (!ok) throw new Error(data.error);
    const health = $("health");
    health.replaceChildren(el("tr", {}, el("th", {text: "Role"}), el("th", {text: "Status"}), el("th", {text: "Detail"})),
      ...Object.entries(data.health).map(([role, h]) => el("tr", {},
        el("td", {text: role}), el("td", {}, el("span", {class: "status " + h.status, text: h.status})), el("td", {text: h.detail || ""}))));
    $("dead-letter-count").textContent = data.deadLetters + (data.deadLetters === 1 ? " dead letter" : " dead letters");
    $("rate-budget").replaceChildren(...(data.rateBudget.length ? data.rateBudget.map((b) => el("div", {class: "meter"},
      el("span", {text: b.portal + ": " + Math.round(b.inUse * 100) + "% (" + b.requestsInBucket + " of " + b.burst + " requests, draining " + b.requestsPerSecond + "/s)"}),
      el("div", {class: "bar"}, el("div", {class: "fill", style: "width:" + Math.round(b.inUse * 100) + "%"}))))
      : [el("p", {class: "muted", text: "no portal is configured"})]));
    const kinds = Object.keys(data.outcomes.byKind);
    $("outcomes").replaceChildren(el("tr", {}, el("th", {text: "Outcome"}), el("th", {text: "Last hour"})),
      ...(kinds.length ? kinds.map((k) => el("tr", {}, el("td", {}, el("span", {class: "swatch", style: "background:" + color(k)}), k), el("td", {text: data.outcomes.byKind[k]})))
        : [el("tr", {}, el("td", {colspan: 2, class: "muted", text: "no sync outcome in the last hour"}))]));
    $("outcomes-chart").replaceChildren(chart(data.outcomes));
    $("lag").replaceChildren(el("tr", {}, el("th", {text: "Consumer group"}), el("th", {text: "Topic"}), el("th", {text: "Lag"})),
      ...(data.lag.length ? data.lag.map((l) => el("tr", {}, el("td", {text: l.group}), el("td", {text: l.topic}), el("td", {class: l.lag > 0 ? "warn" : "", text: l.lag})))
        : [el("tr", {}, el("td", {colspan: 3, class: "muted", text: "no consumer group has committed offsets yet"}))]));
  }

  /** Stacked bars, one per five minutes, drawn as SVG (no chart library). */
  function chart(outcomes) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const n = outcomes.buckets.length, w = 600, h = 160, gap = 4, bw = w / n - gap;
    svg.setAttribute("viewBox", "0 0 " + w + " " + (h + 20));
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "sync outcomes per five minutes, last hour");
    const max = Math.max(1, ...outcomes.buckets.map((b) => Object.values(b.byKind || {}).reduce((a, c) => a + c, 0)));
    outcomes.buckets.forEach((b, i) => {
      let y = h;
      Object.entries(b.byKind || {}).forEach(([kind, count]) => {
        const bh = count / max * h;
        y -= bh;
        const r = document.createElementNS(ns, "rect");
        Object.entries({x: i * (bw + gap), y, width: bw, height: bh, fill: color(kind)}).forEach(([k, v]) => r.setAttribute(k, v));
        const t = document.createElementNS(ns, "title");
        t.textContent = kind + ": " + count;
        r.append(t);
        svg.append(r);
      });
    });
    [["−60 min", 0, "start"], ["now", w, "end"]].forEach(([label, x, anchor]) => {
      const t = document.createElementNS(ns, "text");
      Object.entries({x, y: h + 16, "text-anchor": anchor, "font-size": 12, fill: "#555"}).forEach(([k, v]) => t.setAttribute(k, v));
      t.textContent = label;
      svg.append(t);
    });
    return svg;
  }

  // ---- mapping -----------------------------------------------------------------------------------------------
  function options(list, selected, label, placeholder) {
    const opts = [el("option", {value: "", text: placeholder || "— choose —"})];
    let found = false;
    (list || []).forEach((item) => {
      const o = el("option", {value: String(item.id), text: label(item)});
      if (selected !== undefined && selected !== null && String(item.id) === String(selected)) { o.selected = true; found = true; }
      opts.push(o);
    });
    if (!found && selected !== undefined && selected !== null && selected !== "") {
      // keep a value the portal no longer has, so the live validation can name it
      const o = el("option", {value: String(selected), text: selected + " (not in the portal)"});
      o.selected = true;
      opts.push(o);
    }
    return opts;
  }
  const pipelineLabel = (p) => p.name + " (" + p.id + ")";
  const userLabel = (u) => (u.name || "user") + " (" + u.id + ")";
  const stagesOf = (pipelineId) => ((choices.pipelines.find((p) => String(p.id) === String(pipelineId)) || {}).stages || []);
  const select = (cls, list, selected, label, placeholder) => el("select", {class: cls, "aria-label": cls}, ...options(list, selected, label, placeholder));

  function row(tbody, ...cells) {
    const remove = el("button", {type: "button", class: "small link remove", text: "Remove"});
    const tr = el("tr", {}, ...cells.map((c) => el("td", {}, c)), el("td", {}, remove));
    remove.addEventListener("click", () => { tr.remove(); formChanged(); });
    tbody.append(tr);
    return tr;
  }

  function addSectionRow(section, pipeline) {
    row($("by-section").tBodies[0],
      select("section", choices.sections, section, (s) => s.path + " (" + s.id + ")"),
      select("pipeline", choices.pipelines, pipeline, pipelineLabel));
  }

  function addStageTable(pipelineId, pairs) {
    const pipeline = choices.pipelines.find((p) => String(p.id) === String(pipelineId));
    const table = el("table", {class: "table rows stage-table", "data-pipeline": String(pipelineId)},
      el("thead", {}, el("tr", {}, el("th", {text: "Deal stage"}), el("th", {text: "Order status"}), el("th"))), el("tbody"));
    const add = el("button", {type: "button", class: "small add-pair", text: "Add a pair"});
    const removeTable = el("button", {type: "button", class: "small link", text: "Remove this table"});
    const box = el("div", {class: "stage-box", "data-pipeline": String(pipelineId)},
      el("h3", {text: "Pipeline " + (pipeline ? pipelineLabel(pipeline) : pipelineId + " (not in the CRM)")}), table, add, removeTable);
    const addPair = (stage, status) => row(table.tBodies[0],
      select("stage", stagesOf(pipelineId), stage, (s) => s.name + " (" + s.id + ")"),
      select("status", choices.statuses, status, (s) => (s.name ? s.name + " " : "") + "(" + s.id + ")"));
    (pairs || []).forEach((p) => addPair(p.stage, p.status));
    add.addEventListener("click", () => { addPair(); formChanged(); });
    removeTable.addEventListener("click", () => { box.remove(); formChanged(); });
    $("stage-tables").append(box);
  }

  function addResponsibleRow(pipeline, user) {
    row($("responsible-by-pipeline").tBodies[0], select("pipeline", choices.pipelines, pipeline, pipelineLabel), select("user", choices.users, user, userLabel));
  }

  function addDealFieldRow(orderField, dealField) {
    row($("deal-fields").tBodies[0],
      select("order-field", choices.orderFields.map((f) => ({id: f})), orderField, (f) => f.id),
      select("deal-field", choices.dealFields, dealField, (f) => f.id));
  }

  function addCancelledRow(pipeline, stage) {
    const p = select("pipeline", choices.pipelines, pipeline, pipelineLabel);
    const s = select("stage", stagesOf(pipeline), stage, (x) => x.name + " (" + x.id + ")");
    p.addEventListener("change", () => s.replaceChildren(...options(stagesOf(p.value), null, (x) => x.name + " (" + x.id + ")")));
    row($("cancelled").tBodies[0], p, s);
  }

  /** Fills the form from a parsed document (the `form` of GET /api/mapping/{site}), or an empty one. */
  function fillForm(doc) {
    doc = doc || {};
    const pipelines = doc.pipelines || {};
    const fill = (id, list, value, label) => $(id).replaceChildren(...options(list, value, label));
    fill("default-pipeline", choices.pipelines, pipelines.default, pipelineLabel);
    fill("new-stage-pipeline", choices.pipelines, null, pipelineLabel);
    $("by-section").tBodies[0].replaceChildren();
    (pipelines.bySection || []).forEach((r) => addSectionRow(r.section, r.pipeline));
    $("stage-tables").replaceChildren();
    Object.entries(doc.stages || {}).forEach(([p, pairs]) => addStageTable(p, pairs));
    const responsible = doc.responsible || {};
    fill("responsible-default", choices.users, responsible.default, userLabel);
    $("responsible-by-pipeline").tBodies[0].replaceChildren();
    Object.entries(responsible.byPipeline || {}).forEach(([p, u]) => addResponsibleRow(p, u));
    $("contact-owner").checked = responsible.contactOwner === true;
    $("deal-fields").tBodies[0].replaceChildren();
    Object.entries(doc.dealFields || {}).forEach(([k, v]) => addDealFieldRow(k, v));
    fill("payment-default", choices.paySystems, (doc.payment || {}).default, (p) => p.name + " (" + p.id + ")");
    $("deal-title").value = (doc.deal || {}).title || "";
    const d2o = ((doc.dealToOrder || {}).pipelines || []).map(String);
    $("deal-to-order").replaceChildren(...choices.pipelines.map((p) => el("label", {class: "check"},
      Object.assign(el("input", {type: "checkbox", value: String(p.id)}), {checked: d2o.includes(String(p.id))}), pipelineLabel(p))));
    $("cancelled").tBodies[0].replaceChildren();
    Object.entries(doc.cancelled || {}).forEach(([p, s]) => addCancelledRow(p, s));
    $("on-deleted").value = (doc.deals || {}).onDeleted || "";
    formChanged();
  }

  /** The form's model, the shape yaml.js writes. */
  function readForm() {
    const rows = (tableId, a, b) => [...$(tableId).tBodies[0].rows].map((tr) => [tr.querySelector("select." + a).value, tr.querySelector("select." + b).value]);
    const stages = {};
    document.querySelectorAll("#stage-tables .stage-box").forEach((box) => {
      stages[box.dataset.pipeline] = [...box.querySelector("tbody").rows].map((tr) => ({
        stage: tr.querySelector("select.stage").value, status: tr.querySelector("select.status").value}));
    });
    return {
      header: inForce ? inForce.document.split("\n").filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith("#"))) : [],
      site: siteId,
      pipelines: {default: $("default-pipeline").value, bySection: rows("by-section", "section", "pipeline").map(([section, pipeline]) => ({section, pipeline}))},
      stages,
      responsible: {default: $("responsible-default").value, byPipeline: rows("responsible-by-pipeline", "pipeline", "user"), contactOwner: $("contact-owner").checked},
      dealFields: rows("deal-fields", "order-field", "deal-field"),
      payment: {default: $("payment-default").value},
      deal: {title: $("deal-title").value.trim()},
      dealToOrder: {pipelines: [...document.querySelectorAll("#deal-to-order input:checked")].map((i) => i.value)},
      cancelled: rows("cancelled", "pipeline", "stage"),
      deals: {onDeleted: $("on-deleted").value}
    };
  }

  const documentText = () => window.MappingYaml.toYaml(readForm());

  function formChanged() {
    $("yaml-preview").textContent = documentText();
  }

  async function loadMapping() {
    $("mapping-site").textContent = siteId;
    $("mapping-result").replaceChildren();
    const [c, m] = await Promise.all([api("GET", "/api/portals/choices"), api("GET", "/api/mapping/" + encodeURIComponent(siteId))]);
    if (!c.ok) throw new Error(c.data.error);
    choices = c.data;
    inForce = m.ok ? m.data : null;
    $("mapping-in-force").textContent = inForce
      ? "Version " + inForce.version + " in force, published " + inForce.publishedAt + " by " + inForce.author + "."
      : "Site " + siteId + " has no mapping yet: fill the form and publish.";
    fillForm(inForce ? inForce.form : {pipelines: {default: (choices.pipelines[0] || {}).id}});
    await loadHistory();
  }

  async function loadHistory() {
    const {ok, data} = await api("GET", "/api/mapping/" + encodeURIComponent(siteId) + "/history");
    const table = $("history");
    if (!ok || !data.versions.length) { table.replaceChildren(el("tr", {}, el("td", {class: "muted", text: "no version published yet"}))); return; }
    table.replaceChildren(el("tr", {}, el("th", {text: "Version"}), el("th", {text: "Published"}), el("th", {text: "Author"}), el("th")),
      ...data.versions.slice().reverse().map((v) => {
        const action = v.inForce ? el("span", {class: "status UP", text: "in force"}) : el("button", {type: "button", class: "small rollback", "data-version": v.version, text: "Roll back to this"});
        if (!v.inForce) action.addEventListener("click", () => rollback(v.version));
        return el("tr", {}, el("td", {text: v.version}), el("td", {text: v.publishedAt}), el("td", {text: v.author}), el("td", {}, action));
      }));
  }

  function showResult(kind, title, lines, diff) {
    const box = $("mapping-result");
    box.className = "result " + kind;
    const parts = [el("p", {class: "title", text: title})];
    if (lines && lines.length) parts.push(el("ul", {class: "errors"}, ...lines.map((l) => el("li", {text: l}))));
    if (diff && diff.length) {
      parts.push(el("p", {text: "Changes against the version in force:"}));
      parts.push(el("pre", {class: "diff"}, ...diff.map((l) => el("span", {class: l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : "", text: l + "\n"}))));
    }
    box.replaceChildren(...parts);
    box.scrollIntoView({block: "nearest"});
  }

  async function submitMapping(action) {
    const {status, data} = await api("POST", "/api/mapping/" + encodeURIComponent(siteId) + "/" + action, {document: documentText()});
    if (status === 422) {
      showResult("error", "Refused: " + data.error, data.errors.map((e) => e.text));
    } else if (status !== 200) {
      showResult("error", data.error || ("HTTP " + status));
    } else if (data.unchanged) {
      showResult("ok", "Valid" + (data.checkedLive ? " (checked against the live CRM and store)" : "") + ", and the same as version " + data.previousVersion + " in force: nothing to publish.");
    } else if (action === "validate") {
      showResult("ok", "Valid" + (data.checkedLive ? " (checked against the live CRM and store)" : " (offline: the portals are not both configured)") + ". Publishing makes it version " + data.version + ".", [], data.diff);
    } else {
      await loadMapping();
      showResult("ok", "Published version " + data.version + ". New orders are decided with it from now on.", [], data.diff);
    }
  }

  async function rollback(version) {
    const {status, data} = await api("POST", "/api/mapping/" + encodeURIComponent(siteId) + "/rollback", {to: version});
    if (status === 200) {
      await loadMapping();
      showResult("ok", data.unchanged ? "Version " + version + " is what is in force already." : "Rolled back: version " + version + "'s document is now version " + data.version + ".", [], data.diff);
    } else {
      showResult("error", "Refused: " + data.error, (data.errors || []).map((e) => e.text));
    }
  }

  function exportYaml() {
    const url = URL.createObjectURL(new Blob([documentText()], {type: "application/yaml"}));
    const a = el("a", {href: url, download: siteId + ".yaml"});
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // ---- order -------------------------------------------------------------------------------------------------
  async function showOrderFromHash() {
    const key = decodeURIComponent(location.hash.split("/").slice(1).join("/"));
    if (key) {
      $("order-key").value = key;
      await findOrder(key);
    }
  }

  const TOPIC_LABELS = {"order-changes": "store", "deal-commands": "decision", "sync-outcomes": "result", "deal-links": "link",
    "dead-letters": "dead letter", "deal-changes": "CRM", "order-commands": "store command"};

  async function findOrder(input) {
    const text = input.trim();
    const deal = /^deal\s*#?\s*([0-9]+)$/i.exec(text);
    const {ok, data} = await api("GET", deal ? "/api/deals/" + deal[1] : "/api/orders/" + encodeURIComponent(text));
    const story = $("order-story");
    if (!ok) { story.replaceChildren(el("p", {class: "result error", text: data.error})); return; }
    const head = el("div", {class: "card story-head"},
      el("h2", {text: "Order " + data.order}),
      el("p", {class: data.linkedDeal ? "status UP" : "status DEGRADED", id: "order-summary", text: data.summary}));
    if (data.dealUrl) head.append(el("p", {}, el("a", {href: data.dealUrl, target: "_blank", rel: "noopener", text: "Open deal " + data.linkedDeal + " on the portal"})));
    if (data.why) head.append(el("p", {class: "why", id: "order-why"}, el("strong", {text: "Latest word: "}), data.why));
    if (!data.linkedDeal && /SKIPPED_UNMAPPED_STATUS|SKIPPED_NO_MAPPING/.test(data.why || "")) {
      head.append(el("p", {class: "muted"}, "To give such orders a deal, map the status (or the site) on the ",
        el("a", {href: "#mapping", text: "Mapping"}), " page and publish, then read the order again below (or wait for its next change)."));
    }
    if (data.entries.length) {
      const again = el("button", {type: "button", id: "order-resync", class: "small", text: "Read this order from the store again"});
      again.addEventListener("click", async () => {
        const r = await api("POST", "/api/orders/" + encodeURIComponent(data.order) + "/resync");
        flash(r.data.message || r.data.error, r.ok ? "ok" : "error");
        if (r.ok) setTimeout(() => findOrder(data.order).catch((e) => flash(e.message, "error")), 3000);
      });
      head.append(el("p", {}, again, " ", el("span", {class: "muted small", text: "it is then decided again with the mapping in force"})));
    }
    const rows = data.entries.map((e) => el("tr", {class: "topic-" + e.topic + (/SKIPPED|DEAD_LETTER|dead letter/.test(e.text) ? " attention" : "")},
      el("td", {class: "nowrap", text: e.at.replace("T", " ").replace(/\.\d+Z$/, "Z")}),
      el("td", {}, el("span", {class: "tag", text: TOPIC_LABELS[e.topic] || e.topic})),
      el("td", {text: e.text})));
    story.replaceChildren(head, el("div", {class: "card"}, el("h2", {text: "What happened, in time order"}),
      el("table", {class: "table story", id: "order-entries"}, el("tr", {}, el("th", {text: "When"}), el("th", {text: "What"}), el("th", {text: "Detail"})), ...rows)));
  }

  // ---- dead letters ------------------------------------------------------------------------------------------
  const age = (s) => s < 120 ? s + " s" : s < 7200 ? Math.round(s / 60) + " min" : s < 172800 ? Math.round(s / 3600) + " h" : Math.round(s / 86400) + " days";

  async function loadDeadLetters() {
    const {ok, data} = await api("GET", "/api/dead-letters");
    if (!ok) throw new Error(data.error);
    const box = $("dead-letters");
    $("replay-all").disabled = data.deadLetters.length === 0;
    if (!data.deadLetters.length) { box.replaceChildren(el("p", {class: "card", id: "no-dead-letters", text: "No dead letter is waiting."})); return; }
    box.replaceChildren(...data.deadLetters.map((d) => {
      const note = el("input", {type: "text", class: "note", placeholder: "why retire it without a replay", "aria-label": "note"});
      const replay = el("button", {type: "button", class: "small replay", text: "Replay"});
      const retire = el("button", {type: "button", class: "small retire", text: "Retire with note"});
      replay.disabled = !d.replayable;
      replay.addEventListener("click", async () => {
        const r = await api("POST", "/api/dead-letters/" + encodeURIComponent(d.id) + "/replay");
        flash(r.ok ? "Replayed " + d.id : (r.data.error || r.data.refused.join("; ")), r.ok ? "ok" : "error");
        await loadDeadLetters();
      });
      retire.addEventListener("click", async () => {
        const r = await api("POST", "/api/dead-letters/" + encodeURIComponent(d.id) + "/retire", {note: note.value});
        flash(r.ok ? "Retired " + d.id : r.data.error, r.ok ? "ok" : "error");
        if (r.ok) await loadDeadLetters();
      });
      const order = d.key && d.key.includes(":") ? el("a", {href: "#order/" + encodeURIComponent(d.key), text: d.key}) : (d.key || "—");
      return el("div", {class: "card dead-letter", "data-id": d.id},
        el("p", {}, el("strong", {text: d.component}), " · ", order, " · ", el("span", {class: "muted", text: age(d.ageSeconds) + " ago, " + d.attempts + " attempt(s)"})),
        el("p", {class: "reason", text: d.reason + (d.errorCode ? " [" + d.errorCode + "]" : "")}),
        el("p", {class: "muted small", text: d.id}),
        el("div", {class: "actions"}, replay, note, retire));
    }));
  }

  // ---- start -------------------------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", async () => {
    const {data} = await api("GET", "/api/session");
    csrfToken = data.csrfToken;
    siteId = data.siteId || siteId;
    $("sign-out").addEventListener("click", async () => { await api("DELETE", "/api/session"); location.href = "/console/sign-in.html"; });
    $("overview-refresh").addEventListener("click", () => loadOverview().catch((e) => flash(e.message, "error")));
    $("add-section").addEventListener("click", () => { addSectionRow(); formChanged(); });
    $("add-stage-table").addEventListener("click", () => {
      const p = $("new-stage-pipeline").value;
      if (p && !document.querySelector("#stage-tables .stage-box[data-pipeline='" + p + "']")) { addStageTable(p, [{}]); formChanged(); }
    });
    $("add-responsible").addEventListener("click", () => { addResponsibleRow(); formChanged(); });
    $("add-deal-field").addEventListener("click", () => { addDealFieldRow(); formChanged(); });
    $("add-cancelled").addEventListener("click", () => { addCancelledRow(); formChanged(); });
    $("mapping-form").addEventListener("change", formChanged);
    $("mapping-form").addEventListener("input", formChanged);
    $("validate").addEventListener("click", () => submitMapping("validate").catch((e) => flash(e.message, "error")));
    $("publish").addEventListener("click", () => submitMapping("publish").catch((e) => flash(e.message, "error")));
    $("export-yaml").addEventListener("click", exportYaml);
    $("reload-mapping").addEventListener("click", () => loadMapping().catch((e) => flash(e.message, "error")));
    $("order-search").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("order-key").value;
      if (location.hash === "#order/" + encodeURIComponent(key.trim())) findOrder(key).catch((e) => flash(e.message, "error"));
      else location.hash = "#order/" + encodeURIComponent(key.trim());
    });
    $("replay-all").addEventListener("click", async () => {
      const r = await api("POST", "/api/dead-letters/replay-all");
      flash(r.data.replayed.length + " replayed" + (r.data.refused.length ? ", not replayed: " + r.data.refused.join("; ") : ""), r.ok ? "ok" : "error");
      await loadDeadLetters();
    });
    window.addEventListener("hashchange", route);
    route();
  });
})();
