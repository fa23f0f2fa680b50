// A data table as every screen shows one: sortable by any column (click or Enter on a header),
// filterable by text, with a totals row and an Export CSV button. Sorting and filtering only
// rearrange what Rust computed; the totals row is Rust's, never summed here.

import { h, replaceChildren } from "../dom";

export interface Column<R> {
  label: string;
  /** Text shown in the cell. */
  text: (row: R) => string;
  /** What the column sorts by; defaults to the text. */
  sort?: (row: R) => number | string;
  numeric?: boolean;
  /** Optional attributes on the cell (test ids, data-minor…). */
  attrs?: (row: R) => Record<string, string>;
  /** Optional extra class on the cell. */
  cellClass?: (row: R) => string | undefined;
}

export interface TableOptions<R> {
  testid: string;
  columns: Column<R>[];
  rows: R[];
  totals?: R;
  rowKey: (row: R) => string;
  filterText?: (row: R) => string;
  onRowClick?: (row: R) => void;
  onExport?: () => void;
  emptyText?: string;
}

export function dataTable<R>(opts: TableOptions<R>): HTMLElement {
  let sortCol = -1;
  let sortDesc = true;
  let filter = "";
  const body = h("tbody");
  const foot = h("tfoot");

  const header = h(
    "tr",
    {},
    ...opts.columns.map((c, i) =>
      h(
        "th",
        { class: c.numeric ? "num" : "", scope: "col" },
        h(
          "button",
          {
            class: "sort",
            "aria-label": `Sort by ${c.label}`,
            onclick: () => {
              sortDesc = sortCol === i ? !sortDesc : !!c.numeric;
              sortCol = i;
              render();
            },
          },
          c.label,
        ),
      ),
    ),
  );

  function cells(row: R, total: boolean): HTMLElement[] {
    return opts.columns.map((c) => h("td", { class: [c.numeric ? "num" : "", c.cellClass?.(row) ?? "", total ? "total" : ""].join(" ").trim(), ...(c.attrs?.(row) ?? {}) }, c.text(row)));
  }

  function render(): void {
    let rows = opts.rows;
    if (filter && opts.filterText) {
      const needle = filter.toLowerCase();
      rows = rows.filter((r) => opts.filterText!(r).toLowerCase().includes(needle));
    }
    if (sortCol >= 0) {
      const col = opts.columns[sortCol];
      const key = col.sort ?? col.text;
      rows = [...rows].sort((a, b) => {
        const x = key(a);
        const y = key(b);
        const cmp = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return sortDesc ? -cmp : cmp;
      });
    }
    header.querySelectorAll("th").forEach((th, i) => th.setAttribute("aria-sort", i === sortCol ? (sortDesc ? "descending" : "ascending") : "none"));
    replaceChildren(
      body,
      ...(rows.length
        ? rows.map((r) =>
            h(
              "tr",
              { "data-key": opts.rowKey(r), class: opts.onRowClick ? "clickable" : "", tabindex: opts.onRowClick ? "0" : undefined, onclick: opts.onRowClick ? () => opts.onRowClick!(r) : undefined, onkeydown: opts.onRowClick ? (e: Event) => (e as KeyboardEvent).key === "Enter" && opts.onRowClick!(r) : undefined },
              ...cells(r, false),
            ),
          )
        : [h("tr", {}, h("td", { colspan: String(opts.columns.length), class: "muted" }, opts.emptyText ?? "Nothing to show for these filters."))]),
    );
    replaceChildren(foot, opts.totals ? h("tr", { "data-key": "__totals" }, ...cells(opts.totals, true)) : null);
  }
  render();

  const tools = h(
    "div",
    { class: "table-tools" },
    opts.filterText &&
      h("input", {
        type: "search",
        placeholder: "Filter…",
        "aria-label": "Filter rows",
        oninput: (e: Event) => {
          filter = (e.target as HTMLInputElement).value;
          render();
        },
      }),
    opts.onExport && h("button", { class: "secondary", "data-testid": `${opts.testid}-export`, onclick: opts.onExport }, "Export CSV"),
  );
  return h("div", { class: "table-wrap" }, tools, h("table", { class: "data", "data-testid": opts.testid }, h("thead", {}, header), body, foot));
}
