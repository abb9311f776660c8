/*
 * Language, labels and number/date formats of the dashboard (viz/v2/cdr_format.js).
 * French on fr.* hosts (fr.deepskyclimate.com), English elsewhere; ?lang=fr|en overrides the host
 * for local preview. Every string a reader sees comes from STRINGS (names of companies excepted,
 * but the source's placeholders for unknown names and the removal methods are translated).
 * A key with a "Dac" twin (titleOrders / titleOrdersDac) is shown in its DAC form in DAC ONLY mode.
 */
(function (ns) {
  "use strict";

  const STRINGS = {
    en: {
      locale: "en-US",
      scopeAll: "ALL CDR",
      scopeDac: "DAC ONLY",
      scopeLabel: "Show the figures for",
      reportLabel: "Market report",
      pageTitle: "The State of the Carbon Removal Market",
      titleOrders: "Cumulative tons purchased vs delivered",
      titleOrdersDac: "Cumulative DAC tons purchased vs delivered",
      titlePurchasers: "Unique purchasers over time",
      titlePurchasersDac: "Unique DAC purchasers over time",
      titleCompanies: "CDR companies founded per year",
      titleCompaniesDac: "DAC companies founded per year",
      titleCarbonPricing: "Governments are pricing carbon",
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
      statSpentDac: "Total spent on DAC",
      statDelivered: "Of purchased tons delivered",
      statDeliveredDac: "Of purchased DAC tons delivered",
      statPurchasers: "Unique purchasers",
      statPurchasersDac: "Unique DAC purchasers",
      statCompanies: "CDR companies founded",
      statCompaniesDac: "DAC companies founded",
      carbonCountries: "Countries with a carbon price",
      carbonShare: "Share of global emissions covered",
      axisCountries: "Countries",
      axisShare: "% of global emissions",
      statCarbonCountries: "countries",
      statCarbonShare: "emissions covered",
      sourceWorldBank: "Source: World Bank, State and Trends of Carbon Pricing",
      columnDate: "Date",
      columnYear: "Year",
      // Text alternative of a chart: its title, its span and its latest figures.
      chartSummary: "{title}, {from} to {to}. Latest figures ({to}): {values}.",
      tableShow: "Show the figures",
      // A control's name out of context: "Download the data (CSV): <chart title>".
      namedFor: "{action}: {title}",
      tableCaption: "{title}: the latest {count} rows (the CSV has them all)",
      download: "Download the data (CSV)",
      downloadFailed: "Download unavailable right now.",
      tickerLabel: "Latest deals",
      tickerPause: "Pause the deals",
      newDeal: "NEW DEAL",
      newDacDeal: "NEW DAC DEAL",
      deal: "{purchaser} bought {tons} from {supplier}",
      tonnes: "t",
      lastUpdated: "Last updated: {date}",
      unavailable: "Data unavailable right now.",
      // The source's own words are English: nothing to translate.
      names: { purchaser: {}, supplier: {} },
      methods: {},
    },
    fr: {
      locale: "fr-CA",
      scopeAll: "TOUTE L'EDC",
      scopeDac: "CDA SEULEMENT",
      scopeLabel: "Afficher les données pour",
      reportLabel: "Rapport de marché",
      pageTitle: "L'état du marché de l'élimination du carbone",
      titleOrders: "Tonnes achetées et livrées (cumul)",
      titleOrdersDac: "Tonnes de CDA achetées et livrées (cumul)",
      titlePurchasers: "Acheteurs uniques au fil du temps",
      titlePurchasersDac: "Acheteurs uniques de CDA au fil du temps",
      titleCompanies: "Entreprises d'EDC fondées par année",
      titleCompaniesDac: "Entreprises de CDA fondées par année",
      titleCarbonPricing: "Les gouvernements tarifent le carbone",
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
      statSpentDac: "Total dépensé en CDA",
      statDelivered: "Des tonnes achetées ont été livrées",
      statDeliveredDac: "Des tonnes de CDA achetées ont été livrées",
      statPurchasers: "Acheteurs uniques",
      statPurchasersDac: "Acheteurs uniques de CDA",
      statCompanies: "Entreprises d'EDC fondées",
      statCompaniesDac: "Entreprises de CDA fondées",
      carbonCountries: "Pays dotés d'un prix du carbone",
      carbonShare: "Part des émissions mondiales couvertes",
      axisCountries: "Pays",
      axisShare: "% des émissions mondiales",
      statCarbonCountries: "pays",
      statCarbonShare: "des émissions couvertes",
      sourceWorldBank: "Source\u00a0: Banque mondiale, State and Trends of Carbon Pricing",
      columnDate: "Date",
      columnYear: "Année",
      chartSummary: "{title}, {from} à {to}. Dernières valeurs ({to})\u00a0: {values}.",
      tableShow: "Afficher les données",
      namedFor: "{action}\u00a0: {title}",
      tableCaption: "{title}\u00a0: les {count} dernières lignes (le CSV les contient toutes)",
      download: "Télécharger les données (CSV)",
      downloadFailed: "Téléchargement indisponible pour le moment.",
      tickerLabel: "Dernières transactions",
      tickerPause: "Mettre en pause les transactions",
      newDeal: "NOUVELLE TRANSACTION",
      newDacDeal: "NOUVELLE TRANSACTION CDA",
      // {de}: "de " or "d'" by the supplier's first sound (elision, see de()).
      deal: "{purchaser} a acheté {tons} auprès {de}{supplier}",
      tonnes: "t",
      lastUpdated: "Dernière mise à jour\u00a0: {date}",
      unavailable: "Données indisponibles pour le moment.",
      // The source's placeholders for names it does not know, as the sentence needs them.
      names: {
        purchaser: {
          "Not Disclosed": "Un acheteur non divulgué",
          "Unknown Purchaser": "Un acheteur inconnu",
        },
        supplier: {
          "Not Disclosed": "un fournisseur non divulgué",
          "Unknown Supplier": "un fournisseur inconnu",
        },
      },
      // cdr.fyi's removal methods (a method not listed is shown as the source spells it).
      methods: {
        "Unknown Method": "Méthode inconnue",
        Biochar: "Biochar",
        "Biochar Carbon Removal (BCR)": "Élimination du carbone par biochar (BCR)",
        "Bio-oil Sequestration": "Séquestration de bio-huile",
        "Bioenergy with Carbon Capture and Storage (BECCS)": "Bioénergie avec captage et stockage du carbone (BECSC)",
        "Biomass Burial": "Enfouissement de biomasse",
        "Biomass Geological Sequestration": "Séquestration géologique de biomasse",
        "Biomass Carbon Removal and Storage (BiCRS)": "Élimination et stockage du carbone de la biomasse (BiCRS)",
        "Direct Ocean Removal": "Élimination directe dans l'océan",
        "Enhanced Weathering": "Altération forcée des roches",
        "Marine Biomass Sinking": "Immersion de biomasse marine",
        Microalgae: "Microalgues",
        Mineralization: "Minéralisation",
        "Ocean Alkalinity Enhancement": "Augmentation de l'alcalinité de l'océan",
        "Soil Carbon": "Carbone des sols",
        "Afforestation/Reforestation": "Boisement et reboisement",
      },
    },
  };

  // French elision: "de" becomes "d'" before a vowel sound: a vowel (accented or not), a y before a
  // consonant (Ynsect), or a mute h. Whether an h is mute is a property of the word, not of its
  // spelling: French words such as hydro, hôtel, habitat have a mute h (d'Hydro-Québec); names from
  // other languages are read with an aspirated h (de Heirloom, de Holocene, de Hekla Cycle).
  const VOWELS = "aeiouàâäéèêëîïôöùûüœæ";
  const MUTE_H_STEMS = [
    "habit", "hectare", "hélic", "hélio", "herb", "héritage", "heur", "hiver", "histoir", "homm",
    "horizon", "horlog", "hôpita", "hôte", "huil", "humain", "humid", "hydr", "hygi",
  ];

  function elides(name) {
    const word = String(name).trim().toLowerCase();
    const [first, second] = word;
    if (!first) return false;
    if (VOWELS.includes(first)) return true;
    if (first === "y") return Boolean(second) && !VOWELS.includes(second);
    if (first === "h") return MUTE_H_STEMS.some((stem) => word.startsWith(stem));
    return false;
  }

  // "de " or "d'" before a name (French only; English templates have no {de}).
  function de(name) {
    return elides(name) ? "d'" : "de ";
  }

  function pageLanguage() {
    const forced = new URLSearchParams(window.location.search).get("lang");
    if (forced === "fr" || forced === "en") return forced;
    return window.location.hostname.toLowerCase().startsWith("fr.") ? "fr" : "en";
  }

  // The text of a label key for a scope: its "Dac" twin in DAC ONLY mode, when it has one.
  function label(t, key, scope) {
    if (scope === "dac" && typeof t[`${key}Dac`] === "string") return t[`${key}Dac`];
    return t[key];
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
      // A share given in percent points (28.3 -> "28.3%").
      percentPoints: (v) => percent.format(v / 100),
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
      // A name from the data as the page's language says it (placeholders for unknown names).
      name: (role, value) => t.names[role][value] || value,
      method: (value) => t.methods[value] || value,
    };
  }

  function fillTemplate(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, name) => values[name]);
  }

  ns.format = { STRINGS, pageLanguage, makeFormats, fillTemplate, label, de, elides };
})((window.CDRDashboard = window.CDRDashboard || {}));
