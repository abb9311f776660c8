/*
 * The State of the Carbon Removal Market: entry point of the page's dashboard code.
 * Published as viz/chart_templates.js and loaded by dashboard/webflow_embed.html (docs/page.md).
 *
 * Every file is read through the presigned-URL API named by the embed's data-api-base attribute:
 * this script starts downloading the datasets at once and, in parallel, loads Chart.js, the
 * stylesheet and the other viz/ modules, then hands everything to CDRDashboard.page.start().
 * Plain JS, no build step.
 */
(function (ns) {
  "use strict";

  const EMBED_ID = "cdr-dashboard-embed";
  const REQUEST_TIMEOUT_MS = 20000;
  const MODULE_KEYS = ["viz/cdr_format.js", "viz/cdr_csv.js", "viz/cdr_charts.js", "viz/cdr_page.js"];
  const CHART_JS_KEY = "viz/chart.umd.min.js";
  const CSS_KEY = "viz/chart_templates.css";
  const MANIFEST_KEY = "processed/manifest.json";
  // Patterns: the presign API answers with the newest published file of each dataset.
  const DATASET_KEYS = {
    orders: "processed/orders_for_viz*",
    purchasers: "processed/purchasers_for_viz*",
    deals: "processed/latest_deals*",
    spent: "processed/dollars_spent*",
    companies: "processed/ccn_data*",
  };

  function apiBase() {
    const embed = document.getElementById(EMBED_ID);
    const base = embed && embed.getAttribute("data-api-base");
    if (!base) throw new Error(`#${EMBED_ID} has no data-api-base attribute`);
    return base.replace(/\/+$/, "");
  }

  async function fetchChecked(url, what) {
    const signal = AbortSignal.timeout ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined;
    const res = await fetch(url, { signal });
    if (!res.ok) throw new Error(`${what}: HTTP ${res.status}`);
    return res;
  }

  // GET <api>/presigned-url?key=<key> -> {"url": "<presigned S3 GET URL>"}
  async function presign(key) {
    const url = `${apiBase()}/presigned-url?key=${encodeURIComponent(key)}`;
    const body = await (await fetchChecked(url, `presign ${key}`)).json();
    if (!body || typeof body.url !== "string") throw new Error(`presign ${key}: no url in the answer`);
    return body.url;
  }

  async function fetchText(key) {
    return (await fetchChecked(await presign(key), key)).text();
  }

  function loadScript(url, what) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = false; // run in insertion order
      script.onload = resolve;
      script.onerror = () => reject(new Error(`could not load ${what}`));
      document.head.appendChild(script);
    });
  }

  async function loadChartJs() {
    if (window.Chart && String(window.Chart.version).startsWith("4.")) return window.Chart;
    await loadScript(await presign(CHART_JS_KEY), CHART_JS_KEY);
    return window.Chart;
  }

  async function loadStylesheet() {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = await presign(CSS_KEY);
    document.head.appendChild(link);
  }

  // A promise whose failure is reported by whoever awaits it, not as an unhandled rejection.
  function quiet(promise) {
    promise.catch(() => {});
    return promise;
  }

  // Only when the modules themselves cannot load: every component shows the error state.
  function failEverything(err) {
    console.warn("[cdr-dashboard]", err.message);
    const fr = window.location.hostname.toLowerCase().startsWith("fr.");
    const message = fr ? "Données indisponibles pour le moment." : "Data unavailable right now.";
    document.querySelectorAll(".cdr-chart, .cdr-stat, .cdr-ticker").forEach((el) => {
      el.setAttribute("data-state", "error");
      if (el.classList.contains("cdr-chart")) el.textContent = message;
    });
    document.documentElement.setAttribute("data-cdr-dashboard", "settled");
  }

  function start() {
    document.documentElement.setAttribute("data-cdr-dashboard", "loading");
    const texts = {};
    for (const [name, key] of Object.entries(DATASET_KEYS)) texts[name] = quiet(fetchText(key));
    const manifest = quiet(fetchText(MANIFEST_KEY));
    const chartJs = quiet(loadChartJs());
    loadStylesheet().catch((err) => console.warn("[cdr-dashboard] stylesheet:", err.message));
    Promise.all(MODULE_KEYS.map(async (key) => presign(key)))
      .then((urls) => Promise.all(urls.map((url, i) => loadScript(url, MODULE_KEYS[i]))))
      .then(() => ns.page.start({ texts, manifest, chartJs }), failEverything);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})((window.CDRDashboard = window.CDRDashboard || {}));
