/*
 * The dashboard on the page (viz/v2/cdr_page.js): fills the elements of docs/page.md, wires the
 * ALL CDR / DAC ONLY toggle, and shows a short message in place of any part whose data failed.
 * Each component sets data-state="loading|ready|error"; <html data-cdr-dashboard="settled"> and the
 * performance mark "cdr:settled" say that every component has finished, either way.
 *
 * For readers who cannot see the canvas, every chart carries a text alternative (its title, span
 * and latest figures), a table of its latest rows behind a "Show the figures" toggle, and a
 * "Download the data (CSV)" button that asks the presign API for a fresh URL at click time.
 */
(function (ns) {
  "use strict";

  const TICKER_SIZE = 10;
  const TABLE_ROWS = 10;
  // latest_deals already shows the long DAC method names as "DAC"; they are accepted too.
  const DAC_METHODS = new Set([
    "DAC",
    "Direct Air Carbon Capture and Storage (DACCS)",
    "Direct Air Carbon Capture and Sequestration (DACCS)",
  ]);
  const { STRINGS, pageLanguage, makeFormats, fillTemplate, label, de } = ns.format;
  const { CHARTS, STATS, applySeries, applyDefaults } = ns.charts;

  function setState(el, state) {
    el.setAttribute("data-state", state);
  }

  function warn(el, err) {
    const name = el.id ? `#${el.id}` : `.${el.className.split(/\s+/).join(".")}`;
    console.warn(`[cdr-dashboard] ${name}:`, err && err.message ? err.message : err);
  }

  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // A box that scrolls sideways is a focusable, named region (so a keyboard can scroll it); one
  // that does not is neither.
  function markScrollable(box) {
    const caption = box.querySelector("caption");
    if (box.scrollWidth > box.clientWidth + 1) {
      box.setAttribute("role", "region");
      box.setAttribute("tabindex", "0");
      box.setAttribute("aria-label", caption ? caption.textContent : "");
    } else {
      for (const name of ["role", "tabindex", "aria-label"]) box.removeAttribute(name);
    }
  }

  // The child of `parent` with this class, created (and appended) if missing.
  function part(parent, tag, className) {
    return parent.querySelector(`:scope > .${className}`) || parent.appendChild(make(tag, className));
  }

  function Dashboard(inputs) {
    this.lang = pageLanguage();
    this.t = STRINGS[this.lang];
    this.fmt = makeFormats(this.lang);
    this.scope = "all";
    this.charts = []; // { def, chart, rows, parts } of the charts drawn
    this.stats = []; // { el, def, values: { all: {text}|{error}, dac: ... } }
    this.inputs = inputs; // { texts, manifest, chartJs, presign, keys }
    // Parsed datasets (promises): a fetch, parse or missing-column error rejects that one only.
    this.data = {};
    for (const [name, text] of Object.entries(inputs.texts)) {
      this.data[name] = text.then((body) => ns.csv.parseDataset(name, body));
      this.data[name].catch(() => {}); // reported by each component that uses it
    }
  }

  Dashboard.prototype.start = function () {
    this.markLanguage();
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

  // Screen readers pick their voice from <html lang>; Webflow writes the site's language there, so
  // the French host would be read with an English voice unless the page says otherwise.
  Dashboard.prototype.markLanguage = function () {
    const html = document.documentElement;
    if (!(html.getAttribute("lang") || "").toLowerCase().startsWith(this.lang)) html.setAttribute("lang", this.lang);
  };

  // Any element with data-cdr-i18n="<key>" gets that label in the page's language and scope.
  Dashboard.prototype.translateStaticLabels = function () {
    document.querySelectorAll("[data-cdr-i18n]").forEach((el) => {
      const text = label(this.t, el.getAttribute("data-cdr-i18n"), this.scope);
      if (typeof text === "string") el.textContent = text;
    });
  };

  /* ---------- the ALL CDR / DAC ONLY toggle ---------- */

  Dashboard.prototype.bindToggle = function () {
    const toggle = document.getElementById("cdr-scope-toggle");
    if (!toggle) return;
    if (!toggle.getAttribute("role")) toggle.setAttribute("role", "group");
    toggle.setAttribute("aria-label", this.t.scopeLabel);
    toggle.querySelectorAll("[data-scope]").forEach((control) => {
      const scope = control.getAttribute("data-scope");
      control.textContent = scope === "dac" ? this.t.scopeDac : this.t.scopeAll;
      if (control.tagName !== "BUTTON") {
        // A Webflow div or link: give it what a button has (role, focus, Enter and Space).
        control.setAttribute("role", "button");
        control.setAttribute("tabindex", "0");
        control.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            this.setScope(scope);
          }
        });
      }
      control.addEventListener("click", (event) => {
        event.preventDefault();
        this.setScope(scope);
      });
    });
    this.markToggle();
  };

  Dashboard.prototype.markToggle = function () {
    const toggle = document.getElementById("cdr-scope-toggle");
    if (!toggle) return;
    toggle.setAttribute("data-scope", this.scope);
    toggle.querySelectorAll("[data-scope]").forEach((control) => {
      const active = control.getAttribute("data-scope") === this.scope;
      control.classList.toggle("is-active", active);
      control.setAttribute("aria-pressed", String(active));
    });
  };

  Dashboard.prototype.setScope = function (scope) {
    if ((scope !== "all" && scope !== "dac") || scope === this.scope) return;
    this.scope = scope;
    this.markToggle();
    this.translateStaticLabels();
    for (const entry of this.charts) {
      applySeries(entry.chart.data, entry.def.series[scope](entry.rows, this.t));
      entry.chart.update();
      this.describeChart(entry);
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
      const parts = this.chartParts(el, def);
      const entry = { def, chart: new Chart(parts.canvas, config), rows, parts };
      this.describeChart(entry);
      this.charts.push(entry);
      setState(el, "ready");
    } catch (err) {
      this.showChartError(el, err);
    }
  };

  // Inside the chart's element: the canvas in a box of its own (the box sets the height, and the
  // canvas never widens the page), the table of figures behind a disclosure, and the download link.
  Dashboard.prototype.chartParts = function (el, def) {
    const box = part(el, "div", "cdr-chart-canvas");
    const canvas = box.querySelector("canvas") || box.appendChild(document.createElement("canvas"));
    canvas.setAttribute("role", "img");

    const details = part(el, "details", "cdr-chart-data");
    const summary = part(details, "summary", "cdr-chart-data-toggle");
    summary.textContent = this.t.tableShow;
    // A narrow screen scrolls the table inside its own box: only then is that box a named region
    // the keyboard can reach (and scroll); otherwise it would be a dead tab stop.
    const scroller = part(details, "div", "cdr-chart-table");
    const table = part(scroller, "table", "cdr-chart-table-rows");
    const reachable = () => markScrollable(scroller);
    details.addEventListener("toggle", reachable);
    if (window.ResizeObserver) new ResizeObserver(reachable).observe(scroller);

    const actions = part(el, "p", "cdr-chart-actions");
    const link = part(actions, "a", "cdr-chart-download");
    link.href = "#";
    link.setAttribute("data-dataset", def.dataset);
    link.textContent = this.t.download;
    const status = part(actions, "span", "cdr-chart-download-status");
    status.setAttribute("role", "status");
    link.addEventListener("click", (event) => {
      event.preventDefault();
      this.download(def, link, status);
    });
    return { canvas, table, scroller, summary, link };
  };

  // The chart's text alternative and its table of the latest rows, in the current scope.
  Dashboard.prototype.describeChart = function ({ def, chart, parts }) {
    const { t, fmt } = this;
    const title = label(t, def.title, this.scope);
    const xs = chart.data.labels;
    const x = (value) => (def.x === "date" ? fmt.date(value) : String(value));
    const format = (i, value) => fmt[def.formats[i]](value);
    const latest = chart.data.datasets.map((d, i) => `${d.label} ${format(i, d.data[d.data.length - 1])}`);
    parts.canvas.setAttribute(
      "aria-label",
      fillTemplate(t.chartSummary, {
        title,
        from: x(xs[0]),
        to: x(xs[xs.length - 1]),
        values: latest.join(this.lang === "fr" ? "\u00a0; " : "; "),
      }),
    );

    const first = Math.max(0, xs.length - TABLE_ROWS);
    const caption = make("caption", "", fillTemplate(t.tableCaption, { title, count: xs.length - first }));
    const headRow = make("tr");
    for (const text of [def.x === "date" ? t.columnDate : t.columnYear, ...chart.data.datasets.map((d) => d.label)]) {
      const th = make("th", "", text);
      th.scope = "col";
      headRow.appendChild(th);
    }
    const body = make("tbody");
    for (let k = first; k < xs.length; k += 1) {
      const row = make("tr");
      const th = make("th", "", x(xs[k]));
      th.scope = "row";
      row.appendChild(th);
      chart.data.datasets.forEach((d, i) => row.appendChild(make("td", "", format(i, d.data[k]))));
      body.appendChild(row);
    }
    const head = make("thead");
    head.appendChild(headRow);
    parts.table.replaceChildren(caption, head, body);
    markScrollable(parts.scroller);
    // Out of context ("Show the figures", "Download the data (CSV)" four times) each names its chart.
    parts.summary.setAttribute("aria-label", fillTemplate(t.namedFor, { action: t.tableShow, title }));
    parts.link.setAttribute("aria-label", fillTemplate(t.namedFor, { action: t.download, title }));
  };

  // Ask the API for a fresh URL at click time (presigned URLs expire), fetch the file and save it
  // under its published name (orders_for_viz_20261127.csv). A cross-origin URL cannot be saved
  // under a name by a plain <a download>, hence the Blob.
  Dashboard.prototype.download = async function (def, link, status) {
    if (link.getAttribute("aria-busy") === "true") return;
    status.textContent = "";
    link.setAttribute("aria-busy", "true");
    try {
      const url = await this.inputs.presign(this.inputs.keys[def.dataset]);
      const res = await fetch(url);
      if (!res.ok) throw new Error(`download: HTTP ${res.status}`);
      const blob = await res.blob();
      const save = document.createElement("a");
      save.href = URL.createObjectURL(new Blob([blob], { type: "text/csv" }));
      save.download = decodeURIComponent(new URL(url).pathname.split("/").pop() || `${def.dataset}.csv`);
      save.hidden = true;
      document.body.appendChild(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(save.href), 60000);
    } catch (err) {
      console.warn("[cdr-dashboard] download:", err && err.message ? err.message : err);
      status.textContent = this.t.downloadFailed;
    } finally {
      link.removeAttribute("aria-busy");
    }
  };

  Dashboard.prototype.showChartError = function (el, err) {
    warn(el, err);
    el.querySelectorAll("canvas, .cdr-chart-canvas, .cdr-chart-data, .cdr-chart-actions").forEach((node) => (node.hidden = true));
    let message = el.querySelector(".cdr-chart-message");
    if (!message) {
      message = make("p", "cdr-chart-message");
      message.setAttribute("role", "status");
      el.appendChild(message);
    }
    message.textContent = this.t.unavailable;
    setState(el, "error");
  };

  /* ---------- stats ---------- */

  Dashboard.prototype.renderStat = async function (def) {
    const elements = [...document.querySelectorAll(def.selector)];
    if (!elements.length) return;
    elements.forEach((el) => setState(el, "loading"));
    const values = {};
    await Promise.all(
      ["all", "dac"].map(async (scope) => {
        try {
          values[scope] = { text: await def[scope](this.data, this.fmt) };
        } catch (error) {
          values[scope] = { error };
        }
      }),
    );
    for (const el of elements) {
      const entry = { el, def, values };
      this.stats.push(entry);
      this.showStat(entry);
    }
  };

  Dashboard.prototype.showStat = function ({ el, def, values }) {
    let valueEl = el.querySelector(".cdr-stat-value");
    if (!valueEl) {
      valueEl = make("div", "cdr-stat-value");
      el.prepend(valueEl);
    }
    const caption = el.querySelector(".cdr-stat-label");
    if (caption) caption.textContent = label(this.t, def.label, this.scope);
    const value = values[this.scope];
    if (value.error) {
      warn(el, value.error);
      valueEl.replaceChildren(make("span", "cdr-stat-number", "—"));
      el.title = this.t.unavailable;
      setState(el, "error");
    } else {
      valueEl.replaceChildren(make("span", "cdr-stat-number", value.text));
      el.removeAttribute("title");
      setState(el, "ready");
    }
  };

  /* ---------- ticker ---------- */

  Dashboard.prototype.renderTicker = async function () {
    const el = document.getElementById("cdr-ticker");
    if (!el) return;
    setState(el, "loading");
    el.setAttribute("role", "region");
    el.setAttribute("aria-label", this.t.tickerLabel);
    try {
      const newestFirst = (await this.data.deals)
        .map((deal, order) => ({ deal, order }))
        .sort((a, b) => b.deal.announcement_date.localeCompare(a.deal.announcement_date) || a.order - b.order)
        .slice(0, TICKER_SIZE)
        .map(({ deal }) => deal);
      const track = make("div", "cdr-ticker-track");
      // Two copies make the scroll seamless; the second is hidden from assistive technology.
      track.append(this.tickerList(newestFirst, false), this.tickerList(newestFirst, true));
      // The deals move for longer than five seconds: a button stops them (WCAG 2.2.2), and so does
      // hovering or focusing them. With reduced motion they stand still and scroll by hand.
      const viewport = make("div", "cdr-ticker-viewport");
      viewport.setAttribute("tabindex", "0");
      viewport.appendChild(track);
      el.replaceChildren(this.tickerPauseButton(el), viewport);
      setState(el, "ready");
    } catch (err) {
      warn(el, err);
      el.replaceChildren(make("span", "cdr-chart-message", this.t.unavailable));
      setState(el, "error");
    }
  };

  Dashboard.prototype.tickerPauseButton = function (ticker) {
    const button = make("button", "cdr-ticker-pause");
    button.type = "button";
    button.setAttribute("aria-label", this.t.tickerPause);
    const show = (paused) => {
      ticker.classList.toggle("is-paused", paused);
      button.setAttribute("aria-pressed", String(paused));
      button.textContent = paused ? "\u25B6" : "\u275A\u275A"; // play / pause glyphs
    };
    button.addEventListener("click", () => show(button.getAttribute("aria-pressed") !== "true"));
    show(false);
    return button;
  };

  Dashboard.prototype.tickerList = function (deals, duplicate) {
    const list = make("ul", "cdr-ticker-list");
    if (duplicate) list.setAttribute("aria-hidden", "true");
    for (const deal of deals) list.appendChild(this.tickerItem(deal));
    return list;
  };

  Dashboard.prototype.tickerItem = function (deal) {
    const isDac = DAC_METHODS.has(deal.method);
    const item = make("li", isDac ? "cdr-ticker-item is-dac" : "cdr-ticker-item");
    const purchaser = this.fmt.name("purchaser", deal.purchaser_name);
    const supplier = this.fmt.name("supplier", deal.supplier_name);
    const text = make("span", "cdr-ticker-text");
    // Names are inserted as text, never as HTML.
    for (const piece of this.t.deal.split(/(\{\w+\})/)) {
      if (piece === "{purchaser}") text.appendChild(make("span", "cdr-ticker-name", purchaser));
      else if (piece === "{supplier}") text.appendChild(make("span", "cdr-ticker-name", supplier));
      else if (piece === "{tons}") text.appendChild(document.createTextNode(this.fmt.tonnes(deal.tons_purchased)));
      else if (piece === "{de}") text.appendChild(document.createTextNode(de(supplier)));
      else if (piece) text.appendChild(document.createTextNode(piece));
    }
    item.append(make("span", "cdr-ticker-badge", isDac ? this.t.newDacDeal : this.t.newDeal), text);
    if (!isDac) item.append(make("span", "cdr-ticker-method", this.fmt.method(deal.method)));
    item.append(make("span", "cdr-ticker-date", this.fmt.date(deal.announcement_date)));
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
