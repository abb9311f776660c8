/*
 * The dashboard on the page (viz/cdr_page.js): fills the elements of docs/page.md, wires the
 * ALL CDR / DAC ONLY toggle, and shows a short message in place of any part whose data failed.
 * Each component sets data-state="loading|ready|error"; <html data-cdr-dashboard="settled"> and the
 * performance mark "cdr:settled" say that every component has finished, either way.
 */
(function (ns) {
  "use strict";

  const TICKER_SIZE = 10;
  // latest_deals already shows the long DAC method names as "DAC"; they are accepted too.
  const DAC_METHODS = new Set([
    "DAC",
    "Direct Air Carbon Capture and Storage (DACCS)",
    "Direct Air Carbon Capture and Sequestration (DACCS)",
  ]);
  const { STRINGS, pageLanguage, makeFormats, fillTemplate } = ns.format;
  const { CHARTS, STATS, applySeries, applyDefaults } = ns.charts;

  function setState(el, state) {
    el.setAttribute("data-state", state);
  }

  function warn(el, err) {
    console.warn(`[cdr-dashboard] #${el.id}:`, err && err.message ? err.message : err);
  }

  // The canvas's accessible name: the series it shows.
  function describe(chart) {
    chart.canvas.setAttribute("aria-label", chart.data.datasets.map((d) => d.label).join(", "));
  }

  function span(className, text) {
    const el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  }

  function Dashboard(inputs) {
    this.lang = pageLanguage();
    this.t = STRINGS[this.lang];
    this.fmt = makeFormats(this.lang);
    this.scope = "all";
    this.charts = []; // { def, chart, rows } of the charts drawn
    this.stats = []; // { el, values: { all: {text}|{error}, dac: ... } }
    this.inputs = inputs;
    // Parsed datasets (promises): a fetch, parse or missing-column error rejects that one only.
    this.data = {};
    for (const [name, text] of Object.entries(inputs.texts)) {
      this.data[name] = text.then((body) => ns.csv.parseDataset(name, body));
      this.data[name].catch(() => {}); // reported by each component that uses it
    }
  }

  Dashboard.prototype.start = function () {
    this.translateStaticLabels();
    this.bindToggle();
    const work = [
      ...Object.values(CHARTS).map((def) => this.renderChart(def)),
      ...Object.values(STATS).map((def) => this.renderStat(def)),
      this.renderTicker(),
      this.renderLastUpdated(),
    ];
    return Promise.allSettled(work).then(() => {
      document.documentElement.setAttribute("data-cdr-dashboard", "settled");
      performance.mark("cdr:settled");
    });
  };

  // Any element with data-cdr-i18n="<key>" gets that label in the page's language.
  Dashboard.prototype.translateStaticLabels = function () {
    document.querySelectorAll("[data-cdr-i18n]").forEach((el) => {
      const text = this.t[el.getAttribute("data-cdr-i18n")];
      if (typeof text === "string") el.textContent = text;
    });
  };

  Dashboard.prototype.bindToggle = function () {
    const toggle = document.getElementById("cdr-scope-toggle");
    if (!toggle) return;
    toggle.querySelectorAll("button[data-scope]").forEach((button) => {
      const scope = button.getAttribute("data-scope");
      button.textContent = scope === "dac" ? this.t.scopeDac : this.t.scopeAll;
      button.addEventListener("click", () => this.setScope(scope));
    });
    this.markToggle();
  };

  Dashboard.prototype.markToggle = function () {
    const toggle = document.getElementById("cdr-scope-toggle");
    if (!toggle) return;
    toggle.setAttribute("data-scope", this.scope);
    toggle.querySelectorAll("button[data-scope]").forEach((button) => {
      const active = button.getAttribute("data-scope") === this.scope;
      button.classList.toggle("is-active", active);
      button.setAttribute("aria-pressed", String(active));
    });
  };

  Dashboard.prototype.setScope = function (scope) {
    if ((scope !== "all" && scope !== "dac") || scope === this.scope) return;
    this.scope = scope;
    this.markToggle();
    for (const { def, chart, rows } of this.charts) {
      applySeries(chart.data, def.series[scope](rows, this.t));
      describe(chart);
      chart.update();
    }
    this.stats.forEach((entry) => this.showStat(entry));
  };

  /* ---------- charts ---------- */

  Dashboard.prototype.renderChart = async function (def) {
    const el = document.getElementById(def.elementId);
    if (!el) return;
    setState(el, "loading");
    try {
      const [Chart, rows] = await Promise.all([this.inputs.chartJs, this.data[def.dataset]]);
      applyDefaults(Chart);
      const config = def.build(rows, this.t, this.fmt);
      applySeries(config.data, def.series[this.scope](rows, this.t));
      const chart = new Chart(this.canvasIn(el), config);
      describe(chart);
      this.charts.push({ def, chart, rows });
      setState(el, "ready");
    } catch (err) {
      this.showChartError(el, err);
    }
  };

  Dashboard.prototype.canvasIn = function (el) {
    let canvas = el.querySelector("canvas");
    if (!canvas) {
      canvas = document.createElement("canvas");
      el.appendChild(canvas);
    }
    canvas.setAttribute("role", "img");
    return canvas;
  };

  Dashboard.prototype.showChartError = function (el, err) {
    warn(el, err);
    el.querySelectorAll("canvas").forEach((canvas) => (canvas.hidden = true));
    let message = el.querySelector(".cdr-chart-message");
    if (!message) {
      message = document.createElement("p");
      message.className = "cdr-chart-message";
      message.setAttribute("role", "status");
      el.appendChild(message);
    }
    message.textContent = this.t.unavailable;
    setState(el, "error");
  };

  /* ---------- stats ---------- */

  Dashboard.prototype.renderStat = async function (def) {
    const el = document.getElementById(def.elementId);
    if (!el) return;
    setState(el, "loading");
    const entry = { el, values: {} };
    await Promise.all(
      ["all", "dac"].map(async (scope) => {
        try {
          entry.values[scope] = { text: await def[scope](this.data, this.fmt) };
        } catch (error) {
          entry.values[scope] = { error };
        }
      }),
    );
    this.stats.push(entry);
    this.showStat(entry);
  };

  Dashboard.prototype.showStat = function (entry) {
    const { el } = entry;
    let valueEl = el.querySelector(".cdr-stat-value");
    if (!valueEl) {
      valueEl = document.createElement("div");
      valueEl.className = "cdr-stat-value";
      el.prepend(valueEl);
    }
    const value = entry.values[this.scope];
    if (value.error) {
      warn(el, value.error);
      valueEl.textContent = "—";
      el.title = this.t.unavailable;
      setState(el, "error");
    } else {
      valueEl.textContent = value.text;
      el.removeAttribute("title");
      setState(el, "ready");
    }
  };

  /* ---------- ticker ---------- */

  Dashboard.prototype.renderTicker = async function () {
    const el = document.getElementById("cdr-ticker");
    if (!el) return;
    setState(el, "loading");
    try {
      const newestFirst = (await this.data.deals)
        .map((deal, order) => ({ deal, order }))
        .sort((a, b) => b.deal.announcement_date.localeCompare(a.deal.announcement_date) || a.order - b.order)
        .slice(0, TICKER_SIZE)
        .map(({ deal }) => deal);
      const track = document.createElement("div");
      track.className = "cdr-ticker-track";
      // Two copies make the scroll seamless; the second is hidden from assistive technology.
      track.append(this.tickerList(newestFirst, false), this.tickerList(newestFirst, true));
      el.replaceChildren(track);
      setState(el, "ready");
    } catch (err) {
      warn(el, err);
      el.replaceChildren(span("cdr-chart-message", this.t.unavailable));
      setState(el, "error");
    }
  };

  Dashboard.prototype.tickerList = function (deals, duplicate) {
    const list = document.createElement("ul");
    list.className = "cdr-ticker-list";
    if (duplicate) list.setAttribute("aria-hidden", "true");
    for (const deal of deals) list.appendChild(this.tickerItem(deal));
    return list;
  };

  Dashboard.prototype.tickerItem = function (deal) {
    const isDac = DAC_METHODS.has(deal.method);
    const item = document.createElement("li");
    item.className = isDac ? "cdr-ticker-item is-dac" : "cdr-ticker-item";
    const text = span("cdr-ticker-text", "");
    // Names are inserted as text, never as HTML.
    for (const part of this.t.deal.split(/(\{\w+\})/)) {
      if (part === "{purchaser}") text.appendChild(span("cdr-ticker-name", deal.purchaser_name));
      else if (part === "{supplier}") text.appendChild(span("cdr-ticker-name", deal.supplier_name));
      else if (part === "{tons}") text.appendChild(document.createTextNode(this.fmt.tonnes(deal.tons_purchased)));
      else if (part) text.appendChild(document.createTextNode(part));
    }
    item.append(span("cdr-ticker-badge", isDac ? this.t.newDacDeal : this.t.newDeal), text);
    if (!isDac) item.append(span("cdr-ticker-method", deal.method));
    item.append(span("cdr-ticker-date", this.fmt.date(deal.announcement_date)));
    return item;
  };

  /* ---------- last updated ---------- */

  Dashboard.prototype.renderLastUpdated = async function () {
    const el = document.getElementById("cdr-last-updated");
    if (!el) return;
    setState(el, "loading");
    try {
      const manifest = JSON.parse(await this.inputs.manifest);
      const when = new Date(manifest.generated_at);
      if (Number.isNaN(when.getTime())) throw new Error("manifest: no valid generated_at");
      el.textContent = fillTemplate(this.t.lastUpdated, { date: this.fmt.longDate(when) });
      setState(el, "ready");
    } catch (err) {
      warn(el, err);
      el.textContent = "";
      setState(el, "error");
    }
  };

  ns.page = {
    start(inputs) {
      const dashboard = new Dashboard(inputs);
      ns.dashboard = dashboard; // for tests and debugging
      return dashboard.start();
    },
  };
})((window.CDRDashboard = window.CDRDashboard || {}));
