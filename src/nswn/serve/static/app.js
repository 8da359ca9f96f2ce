// The nswn policy-simulator page: controls from /api/catalog; every update runs the scenario
// and its comparison (the base scenario under the same assumptions, or as shipped) on the same
// seeds through /api/ensemble and draws medians with 90 % bands; headline cards show the paired
// difference with its 90 % interval. The scenario is kept in the URL (version + changes only).
"use strict";

(function () {
  const I18N = window.NSWN_I18N;
  const UNITS_ZH = window.NSWN_UNITS_ZH;
  const COMPARATOR = "baseline";
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
    compare: "modified",
    updates: 0,
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
    if (S.compare !== "modified") q.set("cmp", S.compare);
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
    S.compare = q.get("cmp") === "default" ? "default" : "modified";
    const unknown = [];
    for (const [key, text] of q.entries()) {
      if (["v", "base", "seed", "lang", "cmp"].includes(key)) continue;
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
    for (const select of [$("#tech"), $("#why-tech")]) {
      select.replaceChildren();
      for (const tech of S.catalog.technologies) {
        select.append(el("option", { value: tech.id, text: techName(tech.id), selected: tech.id === S.tech }));
      }
    }
    const compare = $("#compare");
    compare.replaceChildren(
      el("option", { value: "modified", text: t("compare_modified"), selected: S.compare === "modified" }),
      el("option", { value: "default", text: t("compare_default"), selected: S.compare === "default" }),
    );
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

  async function ensemble(body, signal) {
    const key = JSON.stringify(body);
    if (clientCache.has(key)) return clientCache.get(key);
    const response = await fetch("/api/ensemble", {
      method: "POST", headers: { "content-type": "application/json" }, body: key, signal,
    });
    const data = await response.json();
    if (!response.ok) throw Object.assign(new Error("ensemble"), { status: response.status, detail: data.detail });
    if (clientCache.size > 20) clientCache.delete(clientCache.keys().next().value);
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
    $("#status").textContent = t("running", S.catalog.interactive.seeds);
    const changes = overrides();
    try {
      const data = await ensemble(
        { base: S.base, overrides: changes, first_seed: S.seed, seeds: S.catalog.interactive.seeds, comparison: S.compare },
        S.controller.signal,
      );
      if (seq !== S.seq) return;
      S.results = { data, ms: Math.round(performance.now() - started), changes: Object.keys(changes).length };
      $("#errors").hidden = true;
      render();
      results.dataset.scenarioHash = data.scenario_hash;
      results.dataset.updates = String(++S.updates);
      results.dataset.comparison = data.comparison_kind;
      results.dataset.updateMs = String(S.results.ms);
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

  function rgba(hex, alpha) {
    const n = Number.parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
  }

  const scaled = (b, k) => ({
    lo: b.lo.map((v) => (v === null ? null : v * k)),
    median: b.median.map((v) => (v === null ? null : v * k)),
    hi: b.hi.map((v) => (v === null ? null : v * k)),
  });

  // A series over seeds: its 90 % band (filled, no legend entry) and its median.
  // The comparison is dashed with a fainter band; the scenario solid.
  function fan(name, x, b, color, comparison) {
    const label = comparison ? `${name} (${t("comparison")})` : name;
    return [
      { x, y: b.lo, mode: "lines", line: { width: 0, color }, hoverinfo: "skip", showlegend: false, legendgroup: name, meta: "band" },
      {
        x, y: b.hi, mode: "lines", line: { width: 0, color }, fill: "tonexty", fillcolor: rgba(color, comparison ? 0.07 : 0.2),
        hoverinfo: "skip", showlegend: false, legendgroup: name, name: `${label} 90 %`, meta: "band",
      },
      {
        x, y: b.median, name: label, mode: "lines", legendgroup: name, showlegend: !comparison, meta: comparison ? "comparison" : "scenario",
        line: { color, width: comparison ? 1.5 : 2.5, dash: comparison ? "dash" : "solid" }, opacity: comparison ? 0.8 : 1,
      },
    ];
  }

  function pairFan(name, x, bs, xc, bc, color) {
    return [...fan(name, xc, bc, color, true), ...fan(name, x, bs, color, false)];
  }

  // The legend entries that explain dashes and bands.
  function legendKey() {
    return [
      { x: [null], y: [null], name: `- - ${t("comparison")}`, mode: "lines", line: { color: BASELINE_COLOR, dash: "dash", width: 1.5 }, hoverinfo: "skip" },
      { x: [null], y: [null], name: t("band_key"), mode: "lines", line: { color: rgba(BASELINE_COLOR, 0.35), width: 8 }, hoverinfo: "skip" },
    ];
  }

  function fundingLabel(line) {
    const labels = S.catalog.funding_lines[line];
    return labels ? labels[S.lang === "zh" ? 1 : 0] : line.replace(/_/g, " ");
  }

  function groupLabel(group) {
    return S.catalog.groups[group] ? S.catalog.groups[group][S.lang === "zh" ? 1 : 0] : group;
  }

  function channelLabel(channel) {
    if (channel.startsWith("subsidy_")) return `${t("channel_subsidy")}: ${fundingLabel(channel.slice("subsidy_".length))}`;
    return t(`channel_${channel}`);
  }

  function render() {
    const d = S.results.data;
    const sc = d.scenario;
    const cp = d.comparison;
    const ys = d.years;
    const yc = d.comparison_years;
    const last = ys[ys.length - 1];
    const parity = S.values["assumptions.indicators.parity"] ?? 0.9;
    const res = d.resolution;
    $("#status").textContent =
      t("status", { seeds: d.seeds, resolution: res, years: [ys[0], last], compare: d.comparison_kind, timing: d.timing, ms: S.results.ms }) +
      " · " + t("changed", S.results.changes);
    renderKpis(d.kpis, last);

    const parityTraces = [];
    const shareTraces = [];
    const exportTraces = [];
    for (const g of GROUPS) {
      if (!sc.parity[g]) continue;
      parityTraces.push(...pairFan(groupLabel(g), ys, sc.parity[g], yc, cp.parity[g], GROUP_COLORS[g]));
      shareTraces.push(...pairFan(groupLabel(g), ys, sc.share[g], yc, cp.share[g], GROUP_COLORS[g]));
      exportTraces.push(...pairFan(groupLabel(g), ys, sc.exports[g], yc, cp.exports[g], GROUP_COLORS[g]));
    }
    draw("chart-parity", [...parityTraces, ...legendKey()], { yaxis: { title: { text: t("chart_parity_y") }, gridcolor: "#eee", rangemode: "tozero" } });
    draw("chart-share", [...shareTraces, ...legendKey()], { yaxis: { title: { text: t("chart_share_y") }, tickformat: ".0%", range: [0, 1], gridcolor: "#eee" } });
    draw("chart-exports", [...exportTraces, ...legendKey()], { yaxis: { title: { text: t("chart_exports_y") }, gridcolor: "#eee", rangemode: "tozero" } });

    // one technology's relative capability
    const rc = sc.relative_capability[S.tech];
    const rcc = cp.relative_capability[S.tech];
    if (rc && rcc) {
      draw(
        "chart-capability",
        [
          ...pairFan(techName(S.tech), ys, rc, yc, rcc, SCENARIO_COLOR),
          { x: [ys[0], last], y: [parity, parity], name: t("parity_line"), mode: "lines", line: { color: "#2e7d32", width: 1, dash: "dot" }, hoverinfo: "skip" },
          ...legendKey(),
        ],
        { yaxis: { title: { text: t("chart_capability_y") }, gridcolor: "#eee", rangemode: "tozero" } },
      );
    }

    // parity year per stranglehold technology: median over the seeds that reach it, 90 % band
    const ids = d.technologies.filter((x) => x.group === "stranglehold").map((x) => x.id);
    const never = last + 4;
    const at = (arm, id) => (arm.parity_seeds[id] >= 0.5 && arm.first_parity_year[id].median !== null ? arm.first_parity_year[id] : null);
    const pos = (arm, id) => (at(arm, id) ? at(arm, id).median : never);
    ids.sort((a, b) => pos(cp, a) - pos(cp, b) || pos(sc, a) - pos(sc, b));
    const names = ids.map(techName);
    const yearTrace = (arm, name, marker) => ({
      x: ids.map((id) => pos(arm, id)),
      y: names,
      name,
      mode: "markers",
      marker,
      text: ids.map((id) => t("parity_seeds", Math.round(arm.parity_seeds[id] * d.seeds.length), d.seeds.length)),
      error_x: {
        type: "data", symmetric: false, thickness: 1, width: 3, color: marker.color,
        array: ids.map((id) => (at(arm, id) && at(arm, id).hi !== null ? at(arm, id).hi - at(arm, id).median : 0)),
        arrayminus: ids.map((id) => (at(arm, id) && at(arm, id).lo !== null ? at(arm, id).median - at(arm, id).lo : 0)),
      },
    });
    draw(
      "chart-parity-years",
      [
        yearTrace(cp, t("comparison"), { color: BASELINE_COLOR, symbol: "circle-open", size: 9, line: { width: 2 } }),
        yearTrace(sc, t("scenario"), { color: SCENARIO_COLOR, size: 7 }),
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

    // macro
    const macro = (id, column, scale, titleKey, format) =>
      draw(id, pairFan(t(titleKey), ys, scaled(sc.macro[column], scale), yc, scaled(cp.macro[column], scale), SCENARIO_COLOR), {
        height: 220,
        showlegend: false,
        yaxis: { title: { text: titleKey === "chart_gdp" ? t("chart_gdp_y") : "" }, tickformat: format, gridcolor: "#eee" },
      });
    macro("chart-gdp", "gdp", 1 / 1000, "chart_gdp", ",.0f");
    macro("chart-mfg", "manufacturing_share", 1, "chart_mfg", ".0%");
    macro("chart-debt", "debt_to_gdp", 1, "chart_debt", ".0%");
    draw("chart-hhi", pairFan(t("chart_hhi_y"), ys, sc.macro.hhi_funding, yc, cp.macro.hhi_funding, SCENARIO_COLOR), {
      height: 220,
      showlegend: false,
      yaxis: { title: { text: t("chart_hhi_y") }, gridcolor: "#eee", rangemode: "tozero" },
    });

    // the two layers: papers and patents against TFP (index: the median start value = 1)
    const index = (b) => scaled(b, b.median[0] ? 1 / b.median[0] : 0);
    draw(
      "chart-layers",
      [
        ...pairFan(t("publications"), ys, index(sc.macro.publications), yc, index(cp.macro.publications), "#2874a6"),
        ...pairFan(t("patents"), ys, index(sc.macro.patents), yc, index(cp.macro.patents), "#d68910"),
        ...pairFan(t("tfp"), ys, sc.macro.tfp_index, yc, cp.macro.tfp_index, "#2e7d32"),
        ...legendKey(),
      ],
      { yaxis: { title: { text: t("chart_layers_y") }, gridcolor: "#eee" } },
    );

    // funding by instrument (total over the run): medians with 90 % bands
    const lines = [...new Set([...Object.keys(sc.funding), ...Object.keys(cp.funding)])].filter(
      (line) => (sc.funding[line]?.hi ?? 0) > 0 || (cp.funding[line]?.hi ?? 0) > 0,
    );
    const fundingTrace = (arm, name, color) => ({
      type: "bar",
      name,
      x: lines.map(fundingLabel),
      y: lines.map((line) => arm.funding[line]?.median ?? 0),
      marker: { color },
      error_y: {
        type: "data", symmetric: false, thickness: 1,
        array: lines.map((line) => (arm.funding[line] ? arm.funding[line].hi - arm.funding[line].median : 0)),
        arrayminus: lines.map((line) => (arm.funding[line] ? arm.funding[line].median - arm.funding[line].lo : 0)),
      },
    });
    draw("chart-funding", [fundingTrace(cp, t("comparison"), rgba(BASELINE_COLOR, 0.6)), fundingTrace(sc, t("scenario"), SCENARIO_COLOR)], {
      barmode: "group",
      hovermode: "closest",
      yaxis: { title: { text: t("chart_funding_y") }, gridcolor: "#eee" },
      margin: { l: 56, r: 12, t: 8, b: 90 },
      xaxis: { tickangle: -30, automargin: true },
    });

    renderWhy();
    renderSelection();
  }

  // Why: each channel's contribution to the change of log relative capability over the run.
  function renderWhy() {
    const d = S.results.data;
    const why = d.attribution.by_technology[S.tech];
    const box = $("#why-note");
    if (!why) {
      box.textContent = t("why_none");
      return;
    }
    const channels = d.attribution.channels.filter(
      (c) => ["scenario", "comparison"].some((arm) => Math.abs(why[arm].channels[c].median ?? 0) > 1e-12 || Math.abs(why[arm].channels[c].hi ?? 0) > 1e-12 || Math.abs(why[arm].channels[c].lo ?? 0) > 1e-12),
    );
    const labels = [...channels.map(channelLabel), t("channel_total")];
    const trace = (arm, name, style) => {
      const bands = [...channels.map((c) => why[arm].channels[c]), why[arm].total];
      return {
        ...style,
        name,
        y: labels,
        x: bands.map((b) => b.median),
        orientation: "h",
        error_x: {
          type: "data", symmetric: false, thickness: 1, width: 3, color: style.marker.color,
          array: bands.map((b) => (b.hi !== null && b.median !== null ? b.hi - b.median : 0)),
          arrayminus: bands.map((b) => (b.lo !== null && b.median !== null ? b.median - b.lo : 0)),
        },
        meta: `why-${arm}`,
      };
    };
    draw(
      "chart-why",
      [
        trace("comparison", t("comparison"), { type: "scatter", mode: "markers", marker: { color: BASELINE_COLOR, symbol: "diamond-open", size: 10, line: { width: 2 } } }),
        trace("scenario", t("scenario"), { type: "bar", marker: { color: labels.map((_, i) => (i === labels.length - 1 ? "#34495e" : SCENARIO_COLOR)) } }),
      ],
      {
        height: Math.max(300, 24 * labels.length + 90),
        margin: { l: 250, r: 20, t: 8, b: 40 },
        hovermode: "closest",
        xaxis: { title: { text: t("why_x") }, gridcolor: "#eee", zeroline: true, zerolinecolor: "#999" },
        yaxis: { autorange: "reversed", automargin: true },
      },
    );
    $("#chart-why").dataset.technology = S.tech;
    const err = Math.max(why.scenario.max_sum_error ?? 0, why.comparison.max_sum_error ?? 0);
    box.textContent = t("why_note", techName(S.tech), d.seeds.length, err);
  }

  function renderSelection() {
    const d = S.results.data;
    const box = $("#selection");
    const sel = d.selection.scenario;
    const fmt = (v, n) => (v === null || v === undefined ? "—" : v.toFixed(n));
    const table = el("table", { class: "selection" });
    table.append(el("thead", {}, el("tr", {}, ...["technology", "group", "priority_weight", "strategic_weight", "gap", "score", "owner", "seeds_selected"].map((k) => el("th", { text: t(`sel_${k}`) })))));
    const body = el("tbody");
    for (const r of sel.technologies) {
      body.append(
        el("tr", { "data-technology": r.id },
          el("td", { text: techName(r.id) }),
          el("td", { text: groupLabel(r.group) }),
          el("td", { text: fmt(r.priority_weight, 3) }),
          el("td", { text: fmt(r.strategic_weight, 2) }),
          el("td", { text: fmt(r.gap, 2) }),
          el("td", { text: fmt(r.score, 2) }),
          el("td", { text: (r.owner || "").replace(/_/g, " ") }),
          el("td", { text: `${r.seeds} / ${sel.seeds}` })),
      );
    }
    table.append(body);
    box.replaceChildren(el("p", { class: "note", text: t("selection_note", sel.mode, sel.technologies.length) }), el("div", { class: "selection-box" }, table));
  }

  function renderKpis(kpis, last) {
    // broken = below parity at the start, at parity from broken_year through the end (indicators.lasting_parity)
    const count = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
    const items = [
      ["broken_2035", t("kpi_broken_2035"), count, (v) => v.toFixed(2)],
      ["parity_start", t("kpi_parity_start"), count, (v) => v.toFixed(2)],
      ["parity_end", t("kpi_broken_end", last), count, (v) => v.toFixed(2)],
      ["gdp_end", t("kpi_gdp", last), (v) => v.toFixed(0), (v) => v.toFixed(2)],
      ["manufacturing_share_end", t("kpi_mfg", last), (v) => `${(v * 100).toFixed(1)} %`, (v) => `${(v * 100).toFixed(2)} pp`],
      ["debt_to_gdp_end", t("kpi_debt", last), (v) => `${(v * 100).toFixed(0)} %`, (v) => `${(v * 100).toFixed(2)} pp`],
      ["tfp_end", t("kpi_tfp", last), (v) => v.toFixed(2), (v) => v.toFixed(4)],
    ];
    const signed = (f, v) => (v > 0 ? `+${f(v)}` : f(v));
    const box = $("#kpis");
    box.replaceChildren();
    for (const [name, label, fmt, fmtDiff] of items) {
      const k = kpis[name];
      const show = (v) => (v === null || v === undefined ? "—" : fmt(v));
      const interval = k.low === null ? t("no_interval") : `${signed(fmtDiff, k.difference)} [${signed(fmtDiff, k.low)}, ${signed(fmtDiff, k.high)}]`;
      const diffText = k.effect === "none" ? `${t("no_clear_effect")} · Δ ${interval}` : `Δ ${interval}`;
      box.append(
        el("div", { class: "kpi", "data-kpi": name, "data-effect": k.effect, "data-low": String(k.low), "data-high": String(k.high) },
          el("div", { class: "kpi-label", text: label }),
          el("div", { class: "kpi-value", text: show(k.scenario) }),
          el("div", { class: "kpi-base", text: `${t("vs_comparison")}: ${show(k.comparison)}` }),
          el("div", { class: `kpi-diff ${k.effect}`, title: t("kpi_diff_help"), text: diffText })),
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
    for (const id of ["#tech", "#why-tech"]) {
      $(id).addEventListener("change", (e) => {
        S.tech = e.target.value;
        for (const other of ["#tech", "#why-tech"]) $(other).value = S.tech;
        if (S.results) render();
      });
    }
    $("#compare").addEventListener("change", (e) => {
      S.compare = e.target.value === "default" ? "default" : "modified";
      schedule();
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
