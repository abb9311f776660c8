/*
 * What each chart and stat card shows, for the ALL CDR and the DAC ONLY scopes (viz/v2/cdr_charts.js).
 * A chart definition builds a Chart.js config from the dataset's records; its series() give the
 * label and values of each Chart.js dataset for one scope; title, x and formats say how its text
 * alternative and its table of figures read. A stat gives one formatted string per scope, and the
 * label key of its caption.
 */
(function (ns) {
  "use strict";

  const COLORS = {
    primary: "#1d4ed8",
    primaryFill: "rgba(29, 78, 216, 0.10)",
    secondary: "#0d9488",
    secondaryFill: "rgba(13, 148, 136, 0.22)",
    grid: "rgba(15, 23, 42, 0.08)",
    text: "#475569",
  };

  function baseOptions(yTitle, yTick) {
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: {
          position: "bottom",
          labels: { usePointStyle: true, pointStyle: "circle", boxWidth: 8, boxHeight: 8, padding: 18 },
        },
        tooltip: { padding: 10, callbacks: {} },
      },
      scales: {
        x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 24 } },
        y: {
          beginAtZero: true,
          grid: { color: COLORS.grid },
          border: { display: false },
          title: { display: true, text: yTitle },
          ticks: { callback: yTick },
        },
      },
    };
  }

  function lineDataset(color, fill) {
    return {
      label: "",
      data: [],
      borderColor: color,
      backgroundColor: fill,
      pointBackgroundColor: color, // also the legend's dot
      fill: "origin",
      borderWidth: 2,
      pointRadius: 0,
      pointHoverRadius: 4,
      tension: 0,
    };
  }

  // Indices of the first date of each calendar year after the first one.
  function yearStarts(labels) {
    const starts = [];
    for (let i = 1; i < labels.length; i += 1) {
      if (labels[i].slice(0, 4) !== labels[i - 1].slice(0, 4)) starts.push(i);
    }
    return starts;
  }

  // A daily line chart: dates on x (category axis), values on y. Over several years the x ticks
  // are the years, at their first day; over a shorter span, dates formatted in the page's language.
  function dailyLine(rows, yTitle, fmt, datasets, formatValue) {
    const labels = rows.map((r) => r.date);
    const options = baseOptions(yTitle, (v) => fmt.compact(v));
    const starts = yearStarts(labels);
    if (starts.length >= 2) {
      options.scales.x.afterBuildTicks = (scale) => {
        scale.ticks = starts.map((value) => ({ value }));
      };
      options.scales.x.ticks.callback = function (value) {
        return this.getLabelForValue(value).slice(0, 4);
      };
    } else {
      const tick = fmt.dateTick(labels);
      options.scales.x.ticks.callback = function (value) {
        return tick(this.getLabelForValue(value));
      };
    }
    options.plugins.tooltip.callbacks = {
      title: (items) => fmt.date(items[0].label),
      label: (ctx) => `${ctx.dataset.label}: ${formatValue(ctx.parsed.y)}`,
    };
    return { type: "line", data: { labels, datasets }, options };
  }

  const CHARTS = {
    orders: {
      elementId: "cdr-chart-orders",
      dataset: "orders",
      title: "titleOrders",
      x: "date",
      formats: ["tonnes", "tonnes"],
      build: (rows, t, fmt) =>
        dailyLine(
          rows,
          t.axisTonnes,
          fmt,
          [lineDataset(COLORS.primary, COLORS.primaryFill), lineDataset(COLORS.secondary, COLORS.secondaryFill)],
          fmt.tonnes,
        ),
      series: {
        all: (rows, t) => [
          [t.purchased, rows.map((r) => r.tons_purchased_cum)],
          [t.delivered, rows.map((r) => r.tons_delivered_cum)],
        ],
        dac: (rows, t) => [
          [t.dacPurchased, rows.map((r) => r.dac_tons_purchased_cum)],
          [t.dacDelivered, rows.map((r) => r.dac_tons_delivered_cum)],
        ],
      },
    },
    purchasers: {
      elementId: "cdr-chart-purchasers",
      dataset: "purchasers",
      title: "titlePurchasers",
      x: "date",
      formats: ["integer"],
      build(rows, t, fmt) {
        const config = dailyLine(rows, t.axisPurchasers, fmt, [lineDataset(COLORS.primary, COLORS.primaryFill)], fmt.integer);
        config.options.scales.y.ticks.precision = 0;
        config.options.plugins.legend.display = false;
        return config;
      },
      series: {
        all: (rows, t) => [[t.purchasers, rows.map((r) => r.purchasers_count_cum)]],
        dac: (rows, t) => [[t.dacPurchasers, rows.map((r) => r.dac_purchasers_count_cum)]],
      },
    },
    companies: {
      elementId: "cdr-chart-companies",
      dataset: "companies",
      title: "titleCompanies",
      x: "year",
      formats: ["integer"],
      build(rows, t, fmt) {
        const options = baseOptions(t.axisCompanies, (v) => fmt.compact(v));
        options.scales.y.ticks.precision = 0;
        options.plugins.legend.display = false;
        options.plugins.tooltip.callbacks.label = (ctx) => `${ctx.dataset.label}: ${fmt.integer(ctx.parsed.y)}`;
        const bars = { label: "", data: [], backgroundColor: COLORS.primary, borderRadius: 4, maxBarThickness: 36 };
        return { type: "bar", data: { labels: rows.map((r) => String(r.year)), datasets: [bars] }, options };
      },
      series: {
        all: (rows, t) => [[t.companies, rows.map((r) => r.companies_founded)]],
        dac: (rows, t) => [[t.dacCompanies, rows.map((r) => r.dac_companies_founded)]],
      },
    },
    // No ALL/DAC toggle: carbon pricing is about governments, the same in both scopes.
    carbon: {
      elementId: "carbon-pricing-chart", // the id the contract names for this chart
      dataset: "carbon",
      title: "titleCarbonPricing",
      x: "year",
      formats: ["integer", "percentPoints"],
      build(rows, t, fmt) {
        const options = baseOptions(t.axisCountries, (v) => fmt.integer(v));
        options.scales.y.ticks.precision = 0;
        options.scales.share = {
          position: "right",
          beginAtZero: true,
          max: 100,
          grid: { display: false },
          border: { display: false },
          title: { display: true, text: t.axisShare },
          ticks: { callback: (v) => fmt.percentPoints(v) },
        };
        options.plugins.tooltip.callbacks.label = (ctx) =>
          ctx.dataset.yAxisID === "share"
            ? `${ctx.dataset.label}: ${fmt.percentPoints(ctx.parsed.y)}`
            : `${ctx.dataset.label}: ${fmt.integer(ctx.parsed.y)}`;
        const bars = { type: "bar", label: "", data: [], backgroundColor: COLORS.primary, borderRadius: 4, maxBarThickness: 28, order: 2 };
        const line = { ...lineDataset(COLORS.secondary, COLORS.secondaryFill), type: "line", fill: false, yAxisID: "share", pointRadius: 2, order: 1 };
        return { type: "bar", data: { labels: rows.map((r) => String(r.year)), datasets: [bars, line] }, options };
      },
      series: {
        all: carbonSeries,
        dac: carbonSeries,
      },
    },
  };

  function carbonSeries(rows, t) {
    return [
      [t.carbonCountries, rows.map((r) => r.countries_count)],
      [t.carbonShare, rows.map((r) => r.global_emissions_pct)],
    ];
  }

  // Put one scope's series (label and values of each Chart.js dataset) into a chart's data.
  function applySeries(chartData, series) {
    series.forEach(([label, values], i) => {
      chartData.datasets[i].label = label;
      chartData.datasets[i].data = values;
    });
  }

  const last = (rows) => rows[rows.length - 1];

  function share(row, part, whole, fmt) {
    return row[whole] > 0 ? fmt.percent(row[part] / row[whole]) : "—";
  }

  // Each stat: the elements it fills (a selector: an id, or a class for the carbon-pricing stats),
  // the label key of its caption, and per scope an async function of the dataset promises.
  const STATS = {
    spent: {
      selector: "#cdr-stat-spent",
      label: "statSpent",
      async all(data, fmt) {
        const row = (await data.spent).find((r) => r.metric === "dollars_spent");
        if (!row) throw new Error('dollars_spent: no "dollars_spent" row');
        return fmt.money(row.value);
      },
      dac: async (data, fmt) => fmt.money(last(await data.orders).dac_price_usd_cum),
    },
    delivered: {
      selector: "#cdr-stat-delivered",
      label: "statDelivered",
      all: async (data, fmt) => share(last(await data.orders), "tons_delivered_cum", "tons_purchased_cum", fmt),
      dac: async (data, fmt) => share(last(await data.orders), "dac_tons_delivered_cum", "dac_tons_purchased_cum", fmt),
    },
    purchasers: {
      selector: "#cdr-stat-purchasers",
      label: "statPurchasers",
      all: async (data, fmt) => fmt.integer(last(await data.purchasers).purchasers_count_cum),
      dac: async (data, fmt) => fmt.integer(last(await data.purchasers).dac_purchasers_count_cum),
    },
    companies: {
      selector: "#cdr-stat-companies",
      label: "statCompanies",
      all: async (data, fmt) => fmt.integer(last(await data.companies).companies_founded_cum),
      dac: async (data, fmt) => fmt.integer(last(await data.companies).dac_companies_founded_cum),
    },
    // No DAC twin: the same figures in both scopes.
    carbonCountries: {
      selector: ".carbon-pricing-countries",
      label: "statCarbonCountries",
      all: async (data, fmt) => fmt.integer(last(await data.carbon).countries_count),
      dac: async (data, fmt) => fmt.integer(last(await data.carbon).countries_count),
    },
    carbonShare: {
      selector: ".carbon-pricing-emissions-covered",
      label: "statCarbonShare",
      all: async (data, fmt) => fmt.percentPoints(last(await data.carbon).global_emissions_pct),
      dac: async (data, fmt) => fmt.percentPoints(last(await data.carbon).global_emissions_pct),
    },
  };

  function applyDefaults(Chart) {
    const font = window.getComputedStyle(document.body).fontFamily;
    if (font) Chart.defaults.font.family = font;
    Chart.defaults.font.size = 12;
    Chart.defaults.color = COLORS.text;
  }

  ns.charts = { CHARTS, STATS, applySeries, applyDefaults };
})((window.CDRDashboard = window.CDRDashboard || {}));
