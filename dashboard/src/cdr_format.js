/*
 * Language, labels and number/date formats of the dashboard (viz/cdr_format.js).
 * French on fr.* hosts (fr.deepskyclimate.com), English elsewhere; ?lang=fr|en overrides the host
 * for local preview.
 */
(function (ns) {
  "use strict";

  const STRINGS = {
    en: {
      locale: "en-US",
      scopeAll: "ALL CDR",
      scopeDac: "DAC ONLY",
      reportLabel: "Market report",
      pageTitle: "The State of the Carbon Removal Market",
      titleOrders: "Cumulative tons purchased vs delivered",
      titlePurchasers: "Unique purchasers over time",
      titleCompanies: "CDR companies founded per year",
      overviewTitle: "The market at a glance",
      purchased: "Tons purchased",
      delivered: "Tons delivered",
      dacPurchased: "DAC tons purchased",
      dacDelivered: "DAC tons delivered",
      purchasers: "Unique purchasers",
      dacPurchasers: "Unique DAC purchasers",
      companies: "Companies founded",
      dacCompanies: "DAC companies founded",
      axisTonnes: "Tonnes of CO₂",
      axisPurchasers: "Purchasers",
      axisCompanies: "Companies",
      statSpent: "Total spent",
      statDelivered: "Of purchased tons delivered",
      statPurchasers: "Unique purchasers",
      statCompanies: "CDR companies founded",
      titleCarbonPricing: "Governments are pricing carbon",
      carbonCountries: "Countries with a carbon price",
      carbonShare: "Share of global emissions covered",
      axisCountries: "Countries",
      axisShare: "% of global emissions",
      statCarbonCountries: "countries",
      statCarbonShare: "emissions covered",
      sourceWorldBank: "Source: World Bank, State and Trends of Carbon Pricing",
      newDeal: "NEW DEAL",
      newDacDeal: "NEW DAC DEAL",
      deal: "{purchaser} bought {tons} from {supplier}",
      tonnes: "t",
      lastUpdated: "Last updated: {date}",
      unavailable: "Data unavailable right now.",
    },
    fr: {
      locale: "fr-CA",
      scopeAll: "TOUTE L'EDC",
      scopeDac: "CDA SEULEMENT",
      reportLabel: "Rapport de marché",
      pageTitle: "L'état du marché de l'élimination du carbone",
      titleOrders: "Tonnes achetées et livrées (cumul)",
      titlePurchasers: "Acheteurs uniques au fil du temps",
      titleCompanies: "Entreprises d'EDC fondées par année",
      overviewTitle: "Le marché en un coup d'œil",
      purchased: "Tonnes achetées",
      delivered: "Tonnes livrées",
      dacPurchased: "Tonnes de CDA achetées",
      dacDelivered: "Tonnes de CDA livrées",
      purchasers: "Acheteurs uniques",
      dacPurchasers: "Acheteurs uniques de CDA",
      companies: "Entreprises fondées",
      dacCompanies: "Entreprises de CDA fondées",
      axisTonnes: "Tonnes de CO₂",
      axisPurchasers: "Acheteurs",
      axisCompanies: "Entreprises",
      statSpent: "Total dépensé",
      statDelivered: "Des tonnes achetées ont été livrées",
      statPurchasers: "Acheteurs uniques",
      statCompanies: "Entreprises d'EDC fondées",
      titleCarbonPricing: "Les gouvernements tarifent le carbone",
      carbonCountries: "Pays dotés d'un prix du carbone",
      carbonShare: "Part des émissions mondiales couvertes",
      axisCountries: "Pays",
      axisShare: "% des émissions mondiales",
      statCarbonCountries: "pays",
      statCarbonShare: "des émissions couvertes",
      sourceWorldBank: "Source : Banque mondiale, State and Trends of Carbon Pricing",
      newDeal: "NOUVELLE TRANSACTION",
      newDacDeal: "NOUVELLE TRANSACTION CDA",
      deal: "{purchaser} a acheté {tons} auprès de {supplier}",
      tonnes: "t",
      lastUpdated: "Dernière mise à jour\u00a0: {date}",
      unavailable: "Données indisponibles pour le moment.",
    },
  };

  function pageLanguage() {
    const forced = new URLSearchParams(window.location.search).get("lang");
    if (forced === "fr" || forced === "en") return forced;
    return window.location.hostname.toLowerCase().startsWith("fr.") ? "fr" : "en";
  }

  const DAY_MS = 864e5;
  const utc = (isoDate) => new Date(isoDate + "T00:00:00Z");

  function makeFormats(lang) {
    const t = STRINGS[lang];
    const number = (options) => new Intl.NumberFormat(t.locale, options);
    const date = (options) => new Intl.DateTimeFormat(t.locale, { timeZone: "UTC", ...options });
    const integer = number({ maximumFractionDigits: 0 });
    const compact1 = number({ notation: "compact", maximumFractionDigits: 1 });
    const compact2 = number({ notation: "compact", maximumFractionDigits: 2 });
    const percent = number({ style: "percent", maximumFractionDigits: 1 });
    const longDate = date({ dateStyle: "long" });
    const mediumDate = date({ dateStyle: "medium" });
    const monthYear = date({ month: "short", year: "numeric" });
    const dayMonth = date({ month: "short", day: "numeric" });
    return {
      integer: (v) => integer.format(v),
      // Axis ticks: 500K, 1.5M, 2B (fr-CA: 500 k, 1,5 M, 2 G).
      compact: (v) => compact1.format(v),
      percent: (v) => percent.format(v),
      // $1.23B, $13.46M in English; 1,23 G$, 13,46 M$ in Canadian French.
      money(v) {
        const n = compact2.format(v);
        if (lang === "en") return "$" + n;
        return /\d$/.test(n) ? n + "\u00a0$" : n + "$";
      },
      tonnes: (v) => integer.format(v) + "\u00a0" + t.tonnes,
      longDate: (d) => longDate.format(d),
      date: (isoDate) => mediumDate.format(utc(isoDate)),
      // Tick labels of a daily axis: day and month over a short span, month and year otherwise.
      dateTick(labels) {
        const span = labels.length ? (utc(labels[labels.length - 1]) - utc(labels[0])) / DAY_MS : 0;
        const format = span <= 92 ? dayMonth : monthYear;
        return (isoDate) => format.format(utc(isoDate));
      },
    };
  }

  function fillTemplate(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, name) => values[name]);
  }

  ns.format = { STRINGS, pageLanguage, makeFormats, fillTemplate };
})((window.CDRDashboard = window.CDRDashboard || {}));
