// The nswn policy-simulator page: controls from /api/catalog, runs through /api/simulate,
// the shipped baseline drawn beside the current scenario on every chart, and the scenario
// kept in the URL (package version + changed parameters only).
"use strict";

(function () {
  const I18N = window.NSWN_I18N;
  const UNITS_ZH = window.NSWN_UNITS_ZH;
  const COMPARATOR = "baseline";
  const TECH_COLUMNS = [
    "technology_id", "group", "year", "relative_capability", "parity_reached", "first_parity_year", "parity_at_start", "broken_year",
    "china_domestic_share", "china_exports", "demand", "funding_*",
  ];
  const MACRO_COLUMNS = [
    "year", "gdp", "manufacturing_share", "debt_to_gdp", "tfp_index", "publications", "patents", "hhi_funding",
  ];
  const GROUPS = ["stranglehold", "bottleneck", "competitive_advantage", "future"];
  const GROUP_COLORS = {
    stranglehold: "#c0392b", bottleneck: "#d68910", competitive_advantage: "#2874a6", future: "#7d3c98",
  };
  const SCENARIO_COLOR = "#c0392b";
  const BASELINE_COLOR = "#7f8c8d";
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];
  const DEFAULT_EXPORT = { yard: [], fence: 0.7, year: 2026, keep: true };

  const S = {
    catalog: null,
    scenarios: {},
    params: {},
    base: COMPARATOR,
    seed: 0,
    values: {},
    baseValues: {},
    exportCtl: { ...DEFAULT_EXPORT, yard: [] },
    lang: "en",
    tech: "lithography_machines",
    results: null,
    seq: 0,
    timer: null,
    controller: null,
  };
  const clientCache = new Map();

  const $ = (sel) => document.querySelector(sel);
  const t = (key, ...args) => {
    const value = I18N[S.lang][key] ?? I18N.en[key] ?? key;
    return typeof value === "function" ? value(...args) : value;
  };
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  };
  const idFor = (path) => "c-" + path.replace(/[^a-z0-9_]/gi, "-");
  const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

  // ---------- values and the URL ----------

  function exportPath() {
    return S.catalog.export_controls_path;
  }

  function exportChanged() {
    return S.exportCtl.yard.length > 0 || !S.exportCtl.keep;
  }

  function batches() {
    const kept = S.exportCtl.keep ? S.baseValues[exportPath()] || [] : [];
    const added = S.exportCtl.yard.length
      ? [{ technologies: [...S.exportCtl.yard], year: S.exportCtl.year, fence_height: S.exportCtl.fence }]
      : [];
    return [...kept, ...added];
  }

  function overrides() {
    const out = {};
    for (const p of S.catalog.parameters) {
      if (p.path === exportPath() || p.kind === "other") continue;
      if (!same(S.values[p.path], S.baseValues[p.path])) out[p.path] = S.values[p.path];
    }
    if (exportChanged()) out[exportPath()] = batches();
    return out;
  }

  function yardPresets() {
    const techs = S.catalog.technologies;
    const baseYard = [...new Set((S.baseValues[exportPath()] || []).flatMap((b) => b.technologies))];
    return {
      none: [],
      chips: baseYard,
      stranglehold: techs.filter((x) => x.group === "stranglehold").map((x) => x.id),
      wide: techs.filter((x) => x.group === "stranglehold" || x.group === "bottleneck").map((x) => x.id),
    };
  }

  function yardToken() {
    const yard = [...S.exportCtl.yard].sort();
    for (const [name, ids] of Object.entries(yardPresets())) {
      if (name !== "none" && ids.length && same([...ids].sort(), yard)) return name;
    }
    return yard.join(",");
  }

  function encodeURL() {
    const q = new URLSearchParams();
    q.set("v", S.catalog.version);
    if (S.base !== COMPARATOR) q.set("base", S.base);
    if (S.seed) q.set("seed", String(S.seed));
    for (const [path, value] of Object.entries(overrides())) {
      if (path === exportPath()) continue;
      q.set(path, value === null ? "off" : String(value));
    }
    if (exportChanged()) {
      if (S.exportCtl.yard.length) {
        q.set("export.yard", yardToken());
        q.set("export.fence", String(S.exportCtl.fence));
        q.set("export.year", String(S.exportCtl.year));
      }
      if (!S.exportCtl.keep) q.set("export.keep", "0");
    }
    const url = `${location.pathname}?${q.toString()}`;
    history.replaceState(null, "", url);
    $("#share-link").value = location.href;
  }

  function parseValue(param, text) {
    if (text === "off") return null;
    if (param.kind === "number") return Number(text);
    if (param.kind === "integer") return Number.parseInt(text, 10);
    if (param.kind === "boolean") return text === "true";
    return text;
  }

  function decodeURL() {
    const q = new URLSearchParams(location.search);
    const notes = [];
    const linkVersion = q.get("v");
    if (linkVersion && linkVersion !== S.catalog.version) notes.push(t("version_warning", linkVersion, S.catalog.version));
    const base = q.get("base");
    if (base && S.scenarios[base]) S.base = base;
    setBase(S.base);
    const seed = Number.parseInt(q.get("seed") || "0", 10);
    S.seed = Number.isFinite(seed) && seed >= 0 ? seed : 0;
    const unknown = [];
    for (const [key, text] of q.entries()) {
      if (["v", "base", "seed", "lang"].includes(key)) continue;
      if (key === "export.yard") {
        const presets = yardPresets();
        S.exportCtl.yard = presets[text] ? [...presets[text]] : text.split(",").filter(Boolean);
      } else if (key === "export.fence") S.exportCtl.fence = Number(text);
      else if (key === "export.year") S.exportCtl.year = Number.parseInt(text, 10);
      else if (key === "export.keep") S.exportCtl.keep = text !== "0";
      else if (S.params[key] && S.params[key].kind !== "other") S.values[key] = parseValue(S.params[key], text);
      else unknown.push(key);
    }
    if (unknown.length) notes.push(t("unknown_keys", unknown));
    const box = $("#link-notes");
    box.textContent = notes.join(" ");
    box.hidden = notes.length === 0;
  }

  function setBase(name) {
    S.base = name;
    S.baseValues = { ...S.scenarios[name].values };
    S.values = { ...S.baseValues };
    S.exportCtl = { ...DEFAULT_EXPORT, yard: [] };
  }

  // ---------- controls ----------

  function unitText(unit, percent) {
    let text = unit || "";
    if (percent) text = text.replace(/^share\s*/, "").trim();
    if (S.lang === "zh" && UNITS_ZH[unit] !== undefined) text = percent ? "" : UNITS_ZH[unit];
    return text;
  }

  function decimals(step, percent) {
    const scaled = percent ? step * 100 : step;
    if (scaled >= 1) return 0;
    return Math.min(4, Math.ceil(-Math.log10(scaled) - 1e-9));
  }

  function show(value, control) {
    if (value === null || value === undefined) return "—";
    if (typeof value !== "number") return String(value);
    const step = control.step || 0.01;
    if (control.percent) return `${(value * 100).toFixed(decimals(step, true))} %`;
    return control.kind === "integer" ? String(value) : value.toFixed(decimals(step, false));
  }

  function rangeText(control) {
    if (control.kind === "choice") return "";
    const lo = show(control.lo, control);
    const hi = show(control.hi, control);
    const unit = unitText(control.unit, control.percent);
    return `${lo} – ${hi}${unit ? " " + unit : ""}`;
  }

  function changedMark(node, changed) {
    node.classList.toggle("changed", changed);
  }

  function sliderControl(control) {
    const path = control.path;
    const value = S.values[path];
    const output = el("output", { for: idFor(path), text: show(value, control) });
    const input = el("input", {
      type: "range", id: idFor(path), name: path, min: control.lo, max: control.hi, step: control.step,
      value: value ?? control.lo, "aria-describedby": idFor(path) + "-help",
    });
    const wrap = el(
      "div", { class: "control", "data-path": path },
      el("label", { for: idFor(path) }, el("span", { class: "label", text: control["label_" + S.lang] }), output),
      input,
      el("div", { class: "meta", text: rangeText(control) }),
      el("p", { class: "help", id: idFor(path) + "-help", text: control["help_" + S.lang] }),
    );
    changedMark(wrap, !same(value, S.baseValues[path]));
    input.addEventListener("input", () => {
      const v = control.kind === "integer" ? Number.parseInt(input.value, 10) : Number(input.value);
      S.values[path] = v;
      output.textContent = show(v, control);
      changedMark(wrap, !same(v, S.baseValues[path]));
      schedule();
    });
    return wrap;
  }

  function choiceControl(control) {
    const path = control.path;
    const labels = control.choice_labels || {};
    const select = el("select", { id: idFor(path), name: path, "aria-describedby": idFor(path) + "-help" });
    for (const choice of control.choices) {
      const label = labels[choice] ? labels[choice][S.lang === "zh" ? 1 : 0] : choice.replace(/_/g, " ");
      select.append(el("option", { value: choice, text: label, selected: S.values[path] === choice }));
    }
    const wrap = el(
      "div", { class: "control", "data-path": path },
      el("label", { for: idFor(path) }, el("span", { class: "label", text: control["label_" + S.lang] })),
      select,
      el("p", { class: "help", id: idFor(path) + "-help", text: control["help_" + S.lang] }),
    );
    changedMark(wrap, !same(S.values[path], S.baseValues[path]));
    select.addEventListener("change", () => {
      S.values[path] = select.value;
      changedMark(wrap, !same(select.value, S.baseValues[path]));
      schedule();
    });
    return wrap;
  }

  function rebalance(members, index, value) {
    const others = members.filter((_, j) => j !== index);
    const current = others.map((m) => S.values[m.path] || 0);
    const total = current.reduce((a, b) => a + b, 0);
    const rest = Math.max(0, 1 - value);
    let next = total > 0 ? current.map((c) => (c / total) * rest) : others.map(() => rest / others.length);
    next = next.map((x) => Math.round(x * 10000) / 10000);
    const gap = rest - next.reduce((a, b) => a + b, 0);
    if (next.length) {
      const largest = next.indexOf(Math.max(...next));
      next[largest] = Math.round((next[largest] + gap) * 1e8) / 1e8;
    }
    S.values[members[index].path] = value;
    others.forEach((m, j) => {
      // an instrument that is off in the base and gets nothing stays off
      S.values[m.path] = next[j] === 0 && S.baseValues[m.path] === null ? null : next[j];
    });
  }

  function instrumentsControl(control) {
    const members = control.members;
    const rows = el("div", { class: "members" });
    const outputs = [];
    const inputs = [];
    const wrap = el(
      "div", { class: "control group", "data-control": "instruments" },
      el("div", { class: "label", text: control["label_" + S.lang] }),
      el("p", { class: "help", text: control["help_" + S.lang] + " " + t(members.length > 1 ? "instruments_total" : "only_one_instrument") }),
      rows,
    );
    const refresh = () => {
      members.forEach((m, j) => {
        const v = S.values[m.path] ?? 0;
        inputs[j].value = v;
        outputs[j].textContent = show(v, { ...control, step: m.step });
      });
      changedMark(wrap, members.some((m) => !same(S.values[m.path], S.baseValues[m.path])));
    };
    members.forEach((m, j) => {
      const input = el("input", {
        type: "range", id: idFor(m.path), name: m.path, min: 0, max: 1, step: m.step,
        value: S.values[m.path] ?? 0, disabled: members.length === 1,
      });
      const output = el("output", { for: idFor(m.path) });
      input.addEventListener("input", () => {
        rebalance(members, j, Number(input.value));
        refresh();
        schedule();
      });
      inputs.push(input);
      outputs.push(output);
      rows.append(
        el("div", { class: "member" },
          el("label", { for: idFor(m.path) }, el("span", { text: m["label_" + S.lang] }), output),
          input),
      );
    });
    refresh();
    return wrap;
  }

  function exportControl(control) {
    const presets = yardPresets();
    const token = S.exportCtl.yard.length ? yardToken() : "none";
    const select = el("select", { id: "export-yard", name: "export.yard" });
    for (const name of ["none", "chips", "stranglehold", "wide"]) {
      if (name === "chips" && presets.chips.length === 0) continue;
      const label = t("yard_" + name) + (name === "none" ? "" : ` (${presets[name].length})`);
      select.append(el("option", { value: name, text: label, selected: token === name }));
    }
    const custom = !(token in presets);
    select.append(el("option", { value: "custom", text: `${t("yard_custom")} (${S.exportCtl.yard.length})`, selected: custom }));
    const picks = el("div", { class: "picks" });
    for (const group of GROUPS) {
      const techs = S.catalog.technologies.filter((x) => x.group === group);
      if (!techs.length) continue;
      picks.append(el("div", { class: "pick-group", text: S.catalog.groups[group][S.lang === "zh" ? 1 : 0] }));
      for (const tech of techs) {
        const box = el("input", { type: "checkbox", value: tech.id, checked: S.exportCtl.yard.includes(tech.id) });
        box.addEventListener("change", () => {
          const yard = new Set(S.exportCtl.yard);
          if (box.checked) yard.add(tech.id);
          else yard.delete(tech.id);
          S.exportCtl.yard = [...yard];
          rebuildPanels();
          $("#export-picks").open = true;
          schedule();
        });
        picks.append(el("label", { class: "pick" }, box, el("span", { text: techName(tech.id) })));
      }
    }
    select.addEventListener("change", () => {
      if (select.value !== "custom") S.exportCtl.yard = [...presets[select.value]];
      rebuildPanels();
      if (select.value === "custom") $("#export-picks").open = true;
      schedule();
    });
    const fenceOut = el("output", { for: "export-fence", text: `${Math.round(S.exportCtl.fence * 100)} %` });
    const fence = el("input", { type: "range", id: "export-fence", min: 0, max: 1, step: 0.05, value: S.exportCtl.fence });
    fence.addEventListener("input", () => {
      S.exportCtl.fence = Number(fence.value);
      fenceOut.textContent = `${Math.round(S.exportCtl.fence * 100)} %`;
      if (S.exportCtl.yard.length) schedule();
    });
    const yearOut = el("output", { for: "export-year", text: String(S.exportCtl.year) });
    const year = el("input", { type: "range", id: "export-year", min: 2024, max: 2050, step: 1, value: S.exportCtl.year });
    year.addEventListener("input", () => {
      S.exportCtl.year = Number.parseInt(year.value, 10);
      yearOut.textContent = String(S.exportCtl.year);
      if (S.exportCtl.yard.length) schedule();
    });
    const keep = el("input", { type: "checkbox", id: "export-keep", checked: S.exportCtl.keep });
    keep.addEventListener("change", () => {
      S.exportCtl.keep = keep.checked;
      changedMark(wrap, exportChanged());
      schedule();
    });
    const active = S.exportCtl.yard.length > 0;
    const wrap = el(
      "div", { class: "control group", "data-control": "export_controls" },
      el("div", { class: "label", text: control["label_" + S.lang] }),
      el("p", { class: "help", text: control["help_" + S.lang] }),
      el("label", { for: "export-yard", class: "sub" }, el("span", { text: t("yard") })),
      select,
      el("details", { id: "export-picks", class: "picks-box" }, el("summary", { text: t("yard_pick") }), picks),
      el("label", { for: "export-fence", class: "sub" + (active ? "" : " muted") }, el("span", { text: t("fence") }), fenceOut),
      fence,
      el("p", { class: "help", text: t("fence_help") }),
      el("label", { for: "export-year", class: "sub" + (active ? "" : " muted") }, el("span", { text: t("control_year") }), yearOut),
      year,
      el("label", { class: "check" }, keep, el("span", { text: t("keep_history") })),
    );
    changedMark(wrap, exportChanged());
    return wrap;
  }

  function genericControl(param) {
    const path = param.path;
    const value = S.values[path];
    let input;
    if (param.kind === "choice") {
      input = el("select", { id: idFor(path), name: path });
      for (const choice of param.choices) input.append(el("option", { value: choice, text: choice, selected: value === choice }));
      input.addEventListener("change", () => {
        S.values[path] = input.value;
        schedule();
      });
    } else {
      input = el("input", {
        type: "number", id: idFor(path), name: path, min: param.lo, max: param.hi,
        step: param.kind === "integer" ? 1 : "any", value: value ?? "",
      });
      input.addEventListener("change", () => {
        const text = input.value.trim();
        S.values[path] = text === "" ? S.baseValues[path] : param.kind === "integer" ? Number.parseInt(text, 10) : Number(text);
        input.closest(".param").classList.toggle("changed", !same(S.values[path], S.baseValues[path]));
        schedule();
      });
    }
    const row = el(
      "div", { class: "param", "data-path": path },
      el("label", { for: idFor(path) }, el("code", { text: path.split(".").slice(1).join(".") })),
      input,
      el("span", { class: "meta", text: [param.unit, param.range].filter(Boolean).join(" · ") }),
      el("p", { class: "help", text: param.help }),
    );
    row.classList.toggle("changed", !same(value, S.baseValues[path]));
    return row;
  }

  function buildPanel(section, box) {
    box.replaceChildren();
    for (const control of S.catalog.controls[section]) {
      if (control.kind === "instruments") box.append(instrumentsControl(control));
      else if (control.kind === "export_controls") box.append(exportControl(control));
      else if (control.kind === "choice") box.append(choiceControl(control));
      else box.append(sliderControl(control));
    }
  }

  function buildAll() {
    const curated = new Set();
    for (const section of ["levers", "assumptions"]) {
      for (const c of S.catalog.controls[section]) {
        if (c.path) curated.add(c.path);
        for (const m of c.members || []) curated.add(m.path);
      }
    }
    for (const section of ["levers", "assumptions"]) {
      const box = $(`#all-${section}`);
      box.replaceChildren(el("h3", { text: t(section) }));
      for (const p of S.catalog.parameters) {
        if (p.section !== section || p.kind === "other" || curated.has(p.path)) continue;
        box.append(genericControl(p));
      }
    }
  }

  function rebuildPanels() {
    buildPanel("levers", $("#levers"));
    buildPanel("assumptions", $("#assumptions"));
    buildAll();
  }

  function applyLanguage() {
    document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    $("#notice").textContent = t("notice", S.catalog.interactive);
    const select = $("#tech");
    select.replaceChildren();
    for (const tech of S.catalog.technologies) {
      select.append(el("option", { value: tech.id, text: techName(tech.id), selected: tech.id === S.tech }));
    }
    rebuildPanels();
  }

  function techName(id) {
    const tech = S.catalog.technologies.find((x) => x.id === id);
    if (!tech) return id;
    return S.lang === "zh" ? tech.name_zh : tech.name_en;
  }

  // ---------- running ----------

  function schedule() {
    clearTimeout(S.timer);
    S.timer = setTimeout(run, 120);
  }

  async function simulate(body, signal) {
    const key = JSON.stringify(body);
    if (clientCache.has(key)) return clientCache.get(key);
    const response = await fetch("/api/simulate", {
      method: "POST", headers: { "content-type": "application/json" }, body: key, signal,
    });
    const data = await response.json();
    if (!response.ok) throw Object.assign(new Error("simulate"), { status: response.status, detail: data.detail });
    if (clientCache.size > 40) clientCache.delete(clientCache.keys().next().value);
    clientCache.set(key, data);
    return data;
  }

  async function run() {
    encodeURL();
    const seq = ++S.seq;
    if (S.controller) S.controller.abort();
    S.controller = new AbortController();
    const started = performance.now();
    const results = $("#results");
    results.dataset.state = "loading";
    $("#status").textContent = t("running");
    const common = { seed: S.seed, technology_columns: TECH_COLUMNS, macro_columns: MACRO_COLUMNS };
    const changes = overrides();
    try {
      const [scenario, baseline] = await Promise.all([
        simulate({ base: S.base, overrides: changes, ...common }, S.controller.signal),
        simulate({ base: COMPARATOR, overrides: {}, ...common }, S.controller.signal),
      ]);
      if (seq !== S.seq) return;
      S.results = { scenario, baseline, ms: Math.round(performance.now() - started), changes: Object.keys(changes).length };
      $("#errors").hidden = true;
      render();
      results.dataset.scenarioHash = scenario.manifest.scenario_hash;
      results.dataset.state = "ready";
    } catch (error) {
      if (error.name === "AbortError" || seq !== S.seq) return;
      results.dataset.state = "error";
      showError(error);
    }
  }

  function showError(error) {
    const box = $("#errors");
    box.replaceChildren(el("strong", { text: t("error") }));
    const list = el("ul");
    const detail = error.detail;
    if (Array.isArray(detail)) {
      for (const item of detail) {
        const where = (item.loc || []).filter((p) => p !== "body").join(" › ");
        const value = item.input !== undefined ? ` (${JSON.stringify(item.input)})` : "";
        list.append(el("li", {}, el("code", { text: where }), document.createTextNode(`: ${item.msg}${value}`)));
      }
    } else {
      list.append(el("li", { text: detail ? String(detail) : String(error.message || error) }));
    }
    box.append(list);
    box.hidden = false;
    $("#status").textContent = "";
  }

  // ---------- charts ----------

  function rowsOf(table) {
    const n = table.year.length;
    const out = [];
    for (let i = 0; i < n; i++) {
      const row = {};
      for (const key of Object.keys(table)) row[key] = table[key][i];
      out.push(row);
    }
    return out;
  }

  function years(table) {
    return [...new Set(table.year)].sort((a, b) => a - b);
  }

  function byGroupYear(rows, value, weight) {
    const sums = {};
    for (const r of rows) {
      const key = `${r.group}|${r.year}`;
      const w = weight ? r[weight] ?? 0 : 1;
      const v = value(r);
      if (v === null || v === undefined || Number.isNaN(v)) continue;
      sums[key] = sums[key] || [0, 0];
      sums[key][0] += v * w;
      sums[key][1] += w;
    }
    return sums;
  }

  function baseLayout(extra) {
    return Object.assign(
      {
        margin: { l: 56, r: 12, t: 8, b: 36 },
        height: 280,
        font: { family: "system-ui, 'Noto Sans CJK SC', sans-serif", size: 12 },
        legend: { orientation: "h", y: -0.18, font: { size: 11 } },
        paper_bgcolor: "#fff",
        plot_bgcolor: "#fff",
        xaxis: { gridcolor: "#eee", zeroline: false },
        yaxis: { gridcolor: "#eee", zeroline: false },
        hovermode: "x unified",
      },
      extra,
    );
  }

  const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  function draw(id, traces, layout) {
    Plotly.react(id, traces, baseLayout(layout), PLOT_CONFIG);
  }

  // A series as two traces: the baseline (dashed, thin, no legend entry of its own) and this scenario.
  function pair(name, x, ys, yb, color, extra = {}) {
    return [
      {
        x, y: yb, name: `${name} (${t("baseline")})`, mode: "lines", showlegend: false, legendgroup: name,
        line: { color, dash: "dash", width: 1.5 }, opacity: 0.75, ...extra,
      },
      { x, y: ys, name, mode: "lines", line: { color, width: 2.5 }, legendgroup: name, ...extra },
    ];
  }

  // The legend entry that explains the dashed lines.
  function baselineKey() {
    return { x: [null], y: [null], name: `- - ${t("baseline")}`, mode: "lines", line: { color: BASELINE_COLOR, dash: "dash", width: 1.5 }, hoverinfo: "skip" };
  }

  function fundingLabel(line) {
    const labels = S.catalog.funding_lines[line];
    return labels ? labels[S.lang === "zh" ? 1 : 0] : line.replace(/_/g, " ");
  }

  function groupLabel(group) {
    return S.catalog.groups[group] ? S.catalog.groups[group][S.lang === "zh" ? 1 : 0] : group;
  }

  function render() {
    const { scenario, baseline } = S.results;
    const ts = scenario.technology_year;
    const tb = baseline.technology_year;
    const rs = rowsOf(ts);
    const rb = rowsOf(tb);
    const ms = scenario.macro_year;
    const mb = baseline.macro_year;
    const ys = years(ts);
    const yb = years(tb);
    const last = ys[ys.length - 1];
    const parity = S.values["assumptions.indicators.parity"] ?? 0.9;

    $("#status").textContent = t("status", scenario.manifest, S.results.ms, scenario.cached) + " · " + t("changed", S.results.changes);
    renderKpis(rs, rb, ms, mb, last);

    // technologies at parity by group
    const countS = byGroupYear(rs, (r) => (r.parity_reached ? 1 : 0));
    const countB = byGroupYear(rb, (r) => (r.parity_reached ? 1 : 0));
    const parityTraces = [];
    for (const g of GROUPS) {
      if (!rs.some((r) => r.group === g)) continue;
      parityTraces.push(
        ...pair(groupLabel(g), ys, ys.map((y) => (countS[`${g}|${y}`] || [0])[0]), yb.map((y) => (countB[`${g}|${y}`] || [0])[0]), GROUP_COLORS[g]),
      );
    }
    parityTraces.push(baselineKey());
    draw("chart-parity", parityTraces, { yaxis: { title: { text: t("chart_parity_y") }, gridcolor: "#eee", rangemode: "tozero" } });

    // one technology's relative capability
    const pick = (rows) => rows.filter((r) => r.technology_id === S.tech);
    const cs = pick(rs);
    const cb = pick(rb);
    draw(
      "chart-capability",
      [
        ...pair(techName(S.tech), cs.map((r) => r.year), cs.map((r) => r.relative_capability), cb.map((r) => r.relative_capability), SCENARIO_COLOR),
        { x: [ys[0], last], y: [parity, parity], name: t("parity_line"), mode: "lines", line: { color: "#2e7d32", width: 1, dash: "dot" }, hoverinfo: "skip" },
        baselineKey(),
      ],
      { yaxis: { title: { text: t("chart_capability_y") }, gridcolor: "#eee", rangemode: "tozero" } },
    );

    // parity year per stranglehold technology
    const firstYear = (rows) => {
      const out = {};
      for (const r of rows) if (r.group === "stranglehold") out[r.technology_id] = r.first_parity_year;
      return out;
    };
    const fs = firstYear(rs);
    const fb = firstYear(rb);
    const never = last + 4;
    const ids = Object.keys(fs).sort((a, b) => (fb[a] ?? never) - (fb[b] ?? never) || (fs[a] ?? never) - (fs[b] ?? never));
    const names = ids.map(techName);
    const value = (v) => (v === null || v === undefined ? never : v);
    draw(
      "chart-parity-years",
      [
        { x: ids.map((id) => value(fb[id])), y: names, name: t("baseline"), mode: "markers", marker: { color: BASELINE_COLOR, symbol: "circle-open", size: 9, line: { width: 2 } } },
        { x: ids.map((id) => value(fs[id])), y: names, name: t("scenario"), mode: "markers", marker: { color: SCENARIO_COLOR, size: 7 } },
      ],
      {
        height: Math.max(320, 16 * ids.length + 80),
        margin: { l: 200, r: 70, t: 8, b: 40 },
        hovermode: "closest",
        xaxis: {
          title: { text: t("chart_parity_years_x") },
          range: [ys[0] - 1, never + 2],
          tickvals: [...ys.filter((y) => y % 5 === 0), never],
          ticktext: [...ys.filter((y) => y % 5 === 0).map(String), `${t("never")} ${last}`],
          gridcolor: "#eee",
        },
        yaxis: { autorange: "reversed", automargin: true, tickfont: { size: 10 } },
      },
    );

    // domestic share and exports by group
    const shareS = byGroupYear(rs, (r) => r.china_domestic_share, "demand");
    const shareB = byGroupYear(rb, (r) => r.china_domestic_share, "demand");
    const exS = byGroupYear(rs, (r) => r.china_exports);
    const exB = byGroupYear(rb, (r) => r.china_exports);
    const ratio = (sums, g, y) => (sums[`${g}|${y}`] && sums[`${g}|${y}`][1] ? sums[`${g}|${y}`][0] / sums[`${g}|${y}`][1] : null);
    const total = (sums, g, y) => (sums[`${g}|${y}`] ? sums[`${g}|${y}`][0] : null);
    const shareTraces = [];
    const exportTraces = [];
    for (const g of GROUPS) {
      if (!rs.some((r) => r.group === g)) continue;
      shareTraces.push(...pair(groupLabel(g), ys, ys.map((y) => ratio(shareS, g, y)), yb.map((y) => ratio(shareB, g, y)), GROUP_COLORS[g]));
      exportTraces.push(...pair(groupLabel(g), ys, ys.map((y) => total(exS, g, y)), yb.map((y) => total(exB, g, y)), GROUP_COLORS[g]));
    }
    shareTraces.push(baselineKey());
    exportTraces.push(baselineKey());
    draw("chart-share", shareTraces, { yaxis: { title: { text: t("chart_share_y") }, tickformat: ".0%", range: [0, 1], gridcolor: "#eee" } });
    draw("chart-exports", exportTraces, { yaxis: { title: { text: t("chart_exports_y") }, gridcolor: "#eee", rangemode: "tozero" } });

    // macro
    const macro = (id, column, scale, titleKey, format) =>
      draw(id, pair(t(titleKey), ms.year, ms[column].map((v) => v * scale), mb[column].map((v) => v * scale), SCENARIO_COLOR), {
        height: 220,
        showlegend: false,
        yaxis: { title: { text: titleKey === "chart_gdp" ? t("chart_gdp_y") : "" }, tickformat: format, gridcolor: "#eee" },
      });
    macro("chart-gdp", "gdp", 1 / 1000, "chart_gdp", ",.0f");
    macro("chart-mfg", "manufacturing_share", 1, "chart_mfg", ".0%");
    macro("chart-debt", "debt_to_gdp", 1, "chart_debt", ".0%");

    // the two layers: papers and patents against TFP
    const index = (series) => series.map((v) => (series[0] ? v / series[0] : null));
    draw(
      "chart-layers",
      [
        ...pair(t("publications"), ms.year, index(ms.publications), index(mb.publications), "#2874a6"),
        ...pair(t("patents"), ms.year, index(ms.patents), index(mb.patents), "#d68910"),
        ...pair(t("tfp"), ms.year, ms.tfp_index, mb.tfp_index, "#2e7d32"),
        baselineKey(),
      ],
      { yaxis: { title: { text: t("chart_layers_y") }, gridcolor: "#eee" } },
    );

    // funding by instrument (total over the run), and concentration
    const lines = Object.keys(ts).filter((c) => c.startsWith("funding_") && c !== "funding_total");
    const sum = (table, c) => (table[c] || []).reduce((a, v) => a + (v || 0), 0);
    const fundingTraces = lines
      .map((c, i) => ({
        type: "bar",
        name: fundingLabel(c.slice("funding_".length)),
        x: [t("baseline"), t("scenario")],
        y: [sum(tb, c), sum(ts, c)],
        marker: { color: PALETTE[i % PALETTE.length] },
      }))
      .filter((trace) => trace.y[0] > 0 || trace.y[1] > 0);
    draw("chart-funding", fundingTraces, {
      barmode: "stack",
      hovermode: "closest",
      yaxis: { title: { text: t("chart_funding_y") }, gridcolor: "#eee" },
      legend: { orientation: "v", x: 1.02, y: 1, font: { size: 11 } },
      margin: { l: 56, r: 170, t: 8, b: 36 },
    });
    draw("chart-hhi", pair(t("chart_hhi_y"), ms.year, ms.hhi_funding, mb.hhi_funding, SCENARIO_COLOR), {
      height: 220,
      showlegend: false,
      yaxis: { title: { text: t("chart_hhi_y") }, gridcolor: "#eee", rangemode: "tozero" },
    });
  }

  function renderKpis(rs, rb, ms, mb, last) {
    // broken = below parity at the start, at parity from broken_year through the end (indicators.lasting_parity)
    const broken = (rows, year) =>
      new Set(rows.filter((r) => r.group === "stranglehold" && r.broken_year !== null && r.broken_year <= year).map((r) => r.technology_id)).size;
    const atStart = (rows) => new Set(rows.filter((r) => r.group === "stranglehold" && r.parity_at_start).map((r) => r.technology_id)).size;
    const atParity = (rows) => rows.filter((r) => r.group === "stranglehold" && r.year === last && r.parity_reached).length;
    const lastOf = (m, c) => m[c][m[c].length - 1];
    const items = [
      [t("kpi_broken_2035"), broken(rs, 2035), broken(rb, 2035), (v) => String(v)],
      [t("kpi_parity_start"), atStart(rs), atStart(rb), (v) => String(v)],
      [t("kpi_broken_end", last), atParity(rs), atParity(rb), (v) => String(v)],
      [t("kpi_gdp", last), lastOf(ms, "gdp") / 1000, lastOf(mb, "gdp") / 1000, (v) => v.toFixed(0)],
      [t("kpi_mfg", last), lastOf(ms, "manufacturing_share"), lastOf(mb, "manufacturing_share"), (v) => `${(v * 100).toFixed(1)} %`],
      [t("kpi_debt", last), lastOf(ms, "debt_to_gdp"), lastOf(mb, "debt_to_gdp"), (v) => `${(v * 100).toFixed(0)} %`],
      [t("kpi_tfp", last), lastOf(ms, "tfp_index"), lastOf(mb, "tfp_index"), (v) => v.toFixed(2)],
    ];
    const box = $("#kpis");
    box.replaceChildren();
    for (const [label, value, base, fmt] of items) {
      const diff = value - base;
      const cls = Math.abs(diff) < 1e-9 ? "same" : diff > 0 ? "up" : "down";
      box.append(
        el("div", { class: "kpi" },
          el("div", { class: "kpi-label", text: label }),
          el("div", { class: "kpi-value", text: fmt(value) }),
          el("div", { class: `kpi-base ${cls}`, text: `${t("vs_baseline")}: ${fmt(base)}` })),
      );
    }
  }

  // ---------- start ----------

  async function downloadYaml() {
    const name = `${S.base}-custom`;
    const response = await fetch("/api/scenario.yaml", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ base: S.base, overrides: overrides(), seed: S.seed, name }),
    });
    if (!response.ok) {
      const data = await response.json();
      showError({ detail: data.detail });
      return;
    }
    const blob = await response.blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: `${name}.yaml` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  async function copyLink() {
    const input = $("#share-link");
    input.value = location.href;
    try {
      await navigator.clipboard.writeText(location.href);
    } catch {
      input.select();
    }
    $("#share").textContent = t("copied");
    setTimeout(() => ($("#share").textContent = t("share")), 1500);
  }

  async function start() {
    const stored = localStorage.getItem("nswn-lang");
    const browserZh = (navigator.language || "en").toLowerCase().startsWith("zh");
    S.lang = stored === "zh" || stored === "en" ? stored : browserZh ? "zh" : "en";
    const q = new URLSearchParams(location.search);
    if (q.get("lang") === "zh" || q.get("lang") === "en") S.lang = q.get("lang");
    const [catalog, scenarios] = await Promise.all([
      fetch("/api/catalog").then((r) => r.json()),
      fetch("/api/scenarios").then((r) => r.json()),
    ]);
    S.catalog = catalog;
    for (const p of catalog.parameters) S.params[p.path] = p;
    for (const s of scenarios) if (!s.error) S.scenarios[s.name] = s;
    if (!S.scenarios[COMPARATOR]) S.base = Object.keys(S.scenarios)[0];
    decodeURL();
    const baseSelect = $("#base");
    for (const name of Object.keys(S.scenarios)) baseSelect.append(el("option", { value: name, text: name, selected: name === S.base }));
    baseSelect.addEventListener("change", () => {
      setBase(baseSelect.value);
      rebuildPanels();
      schedule();
    });
    const seed = $("#seed");
    seed.value = S.seed;
    seed.addEventListener("change", () => {
      const v = Number.parseInt(seed.value, 10);
      S.seed = Number.isFinite(v) && v >= 0 ? v : 0;
      seed.value = S.seed;
      schedule();
    });
    $("#tech").addEventListener("change", (e) => {
      S.tech = e.target.value;
      if (S.results) render();
    });
    $("#lang").addEventListener("click", () => {
      S.lang = S.lang === "en" ? "zh" : "en";
      localStorage.setItem("nswn-lang", S.lang);
      applyLanguage();
      if (S.results) render();
    });
    $("#reset").addEventListener("click", () => {
      setBase(S.base);
      rebuildPanels();
      schedule();
    });
    $("#share").addEventListener("click", copyLink);
    $("#download").addEventListener("click", downloadYaml);
    applyLanguage();
    run();
  }

  document.addEventListener("DOMContentLoaded", () => {
    start().catch((error) => showError(error));
  });
})();
