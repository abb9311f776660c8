/*
 * The State of the Carbon Removal Market: entry point of the page's dashboard code.
 * Published as viz/v2/chart_templates.js and loaded by dashboard/webflow_embed.html (docs/page.md).
 * (Today's live embed loads viz/chart_templates.js, the OLD code: this one never replaces it.)
 *
 * Every file is read through the presigned-URL API named by the embed's data-api-base attribute.
 * Two calls presign everything: one for the datasets and the manifest, one for Chart.js, the
 * stylesheet and the other modules (GET /presigned-urls?keys=...; an API without that route is
 * asked key by key). Then it hands everything to CDRDashboard.page.start(). Plain JS, no build step.
 */
(function (ns) {
  "use strict";

  const EMBED_ID = "cdr-dashboard-embed";
  const REQUEST_TIMEOUT_MS = 20000;
  const VIZ = "viz/v2/";
  const MODULE_KEYS = ["cdr_format.js", "cdr_csv.js", "cdr_charts.js", "cdr_page.js"].map((f) => VIZ + f);
  const CHART_JS_KEY = `${VIZ}chart.umd.min.js`;
  const CSS_KEY = `${VIZ}chart_templates.css`;
  const MANIFEST_KEY = "processed/manifest.json";
  // Patterns: the presign API answers with the newest published file of each dataset.
  const DATASET_KEYS = {
    orders: "processed/orders_for_viz*",
    purchasers: "processed/purchasers_for_viz*",
    deals: "processed/latest_deals*",
    spent: "processed/dollars_spent*",
    companies: "processed/ccn_data*",
    carbon: "processed/carbon_pricing*",
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

  // GET <api>/presigned-urls?keys=a,b -> {"urls": {...}, "errors": {...}}: one promise per key.
  // Any other outcome is asked key by key on the single route: an API without the batch route
  // (an older Lambda's 404 or 405; a REST API gateway's 403, sent without CORS headers, so the
  // browser only sees a failed fetch), or a batch call that failed as a whole.
  function presignAll(keys) {
    const url = `${apiBase()}/presigned-urls?keys=${keys.map(encodeURIComponent).join(",")}`;
    const batch = fetch(url, { signal: AbortSignal.timeout ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined })
      .then(async (res) => {
        const body = res.ok ? await res.json() : null;
        if (!body || typeof body.urls !== "object") throw new Error(`HTTP ${res.status}`);
        return body;
      })
      .catch((err) => {
        console.warn("[cdr-dashboard] batch presign unavailable, asking key by key:", err.message);
        return null;
      });
    const answers = {};
    for (const key of keys) {
      answers[key] = batch.then((body) => {
        if (body === null) return presign(key);
        const { urls = {}, errors = {} } = body;
        if (typeof urls[key] === "string") return urls[key];
        const error = errors[key] || "no url in the answer";
        throw new Error(`presign ${key}: ${typeof error === "string" ? error : `HTTP ${error.status} ${error.error}`}`);
      });
      quiet(answers[key]);
    }
    return answers;
  }

  async function fetchText(urlPromise, key) {
    return (await fetchChecked(await urlPromise, key)).text();
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

  async function loadChartJs(urlPromise) {
    if (window.Chart && String(window.Chart.version).startsWith("4.")) return window.Chart;
    await loadScript(await urlPromise, CHART_JS_KEY);
    return window.Chart;
  }

  async function loadStylesheet(urlPromise) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = await urlPromise;
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
    if (fr) document.documentElement.setAttribute("lang", "fr");
    document.querySelectorAll(".cdr-chart, .cdr-stat, .cdr-ticker").forEach((el) => {
      el.setAttribute("data-state", "error");
      if (el.classList.contains("cdr-chart")) el.textContent = message;
    });
    document.documentElement.setAttribute("data-cdr-dashboard", "settled");
  }

  function start() {
    document.documentElement.setAttribute("data-cdr-dashboard", "loading");
    const data = presignAll([...Object.values(DATASET_KEYS), MANIFEST_KEY]);
    const code = presignAll([CHART_JS_KEY, CSS_KEY, ...MODULE_KEYS]);
    const texts = {};
    for (const [name, key] of Object.entries(DATASET_KEYS)) texts[name] = quiet(fetchText(data[key], key));
    const manifest = quiet(fetchText(data[MANIFEST_KEY], MANIFEST_KEY));
    const chartJs = quiet(loadChartJs(code[CHART_JS_KEY]));
    loadStylesheet(code[CSS_KEY]).catch((err) => console.warn("[cdr-dashboard] stylesheet:", err.message));
    Promise.all(MODULE_KEYS.map((key) => code[key]))
      .then((urls) => Promise.all(urls.map((url, i) => loadScript(url, MODULE_KEYS[i]))))
      // presign and keys: the download buttons ask for a fresh URL at click time (URLs expire).
      .then(() => ns.page.start({ texts, manifest, chartJs, presign, keys: DATASET_KEYS }), failEverything);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})((window.CDRDashboard = window.CDRDashboard || {}));
