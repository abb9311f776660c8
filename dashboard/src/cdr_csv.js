/*
 * CSV parsing and the columns the page needs from each dataset (viz/v2/cdr_csv.js).
 * Column names and meanings: docs/dashboard-contract.md, summarised in docs/page.md.
 */
(function (ns) {
  "use strict";

  // The columns each dataset must have (more are allowed and ignored), with their types.
  const SCHEMAS = {
    orders: {
      date: "date",
      tons_purchased_cum: "number",
      tons_delivered_cum: "number",
      dac_tons_purchased_cum: "number",
      dac_tons_delivered_cum: "number",
      dac_price_usd_cum: "number",
    },
    purchasers: { date: "date", purchasers_count_cum: "number", dac_purchasers_count_cum: "number" },
    deals: {
      announcement_date: "date",
      supplier_name: "text",
      purchaser_name: "text",
      tons_purchased: "number",
      method: "text",
    },
    spent: { metric: "text", value: "number" },
    carbon: {
      year: "integer",
      countries_count: "number",
      global_emissions_pct: "number",
    },
    companies: {
      year: "integer",
      companies_founded: "number",
      dac_companies_founded: "number",
      companies_founded_cum: "number",
      dac_companies_founded_cum: "number",
    },
  };

  // RFC 4180: comma separated, CRLF or LF line ends; a quoted field may hold commas, line breaks
  // and doubled quotes. Returns rows (arrays of strings); blank lines and a leading BOM are dropped.
  function parseCSV(text) {
    const rows = [];
    const n = text.length;
    let row = [];
    let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    const isBreak = (c) => c === "," || c === "\n" || c === "\r";
    while (i <= n) {
      let field;
      if (text[i] === '"') {
        field = "";
        i += 1;
        for (;;) {
          const close = text.indexOf('"', i);
          if (close < 0) throw new Error("unterminated quoted field");
          field += text.slice(i, close);
          i = close + 1;
          if (text[i] !== '"') break;
          field += '"'; // a doubled quote inside quotes
          i += 1;
        }
        if (i < n && !isBreak(text[i])) throw new Error("unexpected character after a quoted field");
      } else {
        let end = i;
        while (end < n && !isBreak(text[end])) end += 1;
        field = text.slice(i, end);
        i = end;
      }
      row.push(field);
      if (text[i] === ",") {
        i += 1;
        continue;
      }
      // End of a record: a line break, or the end of the text (then i moves past n and we stop).
      if (!(row.length === 1 && row[0] === "")) rows.push(row);
      row = [];
      i += text[i] === "\r" && text[i + 1] === "\n" ? 2 : 1;
    }
    return rows;
  }

  const CELL_PARSERS = {
    text: (s) => s,
    number(s) {
      const v = Number(s);
      if (s.trim() === "" || !Number.isFinite(v)) throw new Error(`not a number: "${s}"`);
      return v;
    },
    integer(s) {
      if (!/^\s*-?\d+\s*$/.test(s)) throw new Error(`not an integer: "${s}"`);
      return Number(s);
    },
    date(s) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) throw new Error(`not a YYYY-MM-DD date: "${s}"`);
      return s;
    },
  };

  // Rows (header first) to records with typed values; throws on a missing column or a bad cell.
  function toRecords(rows, columns, name) {
    if (rows.length < 2) throw new Error(`${name}: no data rows`);
    const header = rows[0].map((h) => h.trim());
    const index = {};
    for (const column of Object.keys(columns)) {
      index[column] = header.indexOf(column);
      if (index[column] < 0) throw new Error(`${name}: missing column "${column}"`);
    }
    return rows.slice(1).map((cells, k) => {
      const record = {};
      for (const [column, type] of Object.entries(columns)) {
        const cell = cells[index[column]];
        if (cell === undefined) throw new Error(`${name} line ${k + 2}: too few fields`);
        try {
          record[column] = CELL_PARSERS[type](cell);
        } catch (err) {
          throw new Error(`${name} line ${k + 2}, column ${column}: ${err.message}`);
        }
      }
      return record;
    });
  }

  function parseDataset(name, text) {
    return toRecords(parseCSV(text), SCHEMAS[name], name);
  }

  ns.csv = { SCHEMAS, parseCSV, parseDataset };
})((window.CDRDashboard = window.CDRDashboard || {}));
