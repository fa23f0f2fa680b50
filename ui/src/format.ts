// Presentation only: turns the exact values Rust computed into text for this locale.
// Nothing here computes a number that matters; amounts arrive as exact decimal strings.

import type { MoneyAmount } from "./bindings";

/**
 * The locale numbers are shown in: the system's, as WebKit reports it. Under a POSIX locale
 * WebKit reports "C", which is not a BCP 47 tag, so anything Intl rejects falls back to en-US.
 */
export function userLocale(): string {
  const reported = typeof navigator !== "undefined" ? navigator.language : "";
  if (reported !== lastReported) {
    lastReported = reported;
    lastLocale = safeLocale(reported);
  }
  return lastLocale;
}
let lastReported: string | undefined;
let lastLocale = "en-US";

/** `tag` if Intl accepts it as a locale, else "en-US". */
export function safeLocale(tag: string | undefined | null): string {
  if (!tag) return "en-US";
  try {
    const [canonical] = Intl.getCanonicalLocales(tag.replace("_", "-").split(".")[0]);
    return canonical ?? "en-US";
  } catch {
    return "en-US";
  }
}

/**
 * Number formats by locale and options, made once: building an Intl.NumberFormat costs far more
 * than formatting with one, and a table formats hundreds of cells.
 */
const numberFormats = new Map<string, Intl.NumberFormat>();

function numberFormat(locale: string, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    numberFormats.set(key, format);
  }
  return format;
}

/** A count, grouped per locale: 12345 → "12,345". */
export function formatCount(n: number, locale = userLocale()): string {
  return numberFormat(locale).format(n);
}

/**
 * Money per locale with its currency symbol. The decimal string is exact; the fraction digits
 * shown are the currency's own, so JPY shows none and KWD shows three.
 */
export function formatMoney(m: MoneyAmount, locale = userLocale()): string {
  const digits = fractionDigits(m.amount);
  return numberFormat(locale, {
    style: "currency",
    currency: m.currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(Number(m.amount));
}

/**
 * Conversions (fractional orders or customers, an exact decimal from Rust) as people read them:
 * from 100 on a whole number ("2,555"), under 100 one decimal ("12.5"), the decimal dropped when
 * it is zero ("12"); rounded once, half to even, from the exact digits. The CLI's tables apply
 * the same rule (lookback-report's `readable_conversions`).
 */
export function formatConversions(exact: string, locale = userLocale()): string {
  const negative = exact.trim().startsWith("-");
  const [whole, fraction = ""] = exact.trim().replace(/^[-+]/, "").split(".");
  const billionths = BigInt(whole || "0") * 1_000_000_000n + BigInt((fraction + "000000000").slice(0, 9));
  const places = billionths >= 100_000_000_000n ? 0 : 1;
  const step = places === 0 ? 1_000_000_000n : 100_000_000n;
  let units = billionths / step;
  const remainder = billionths % step;
  if (remainder * 2n > step || (remainder * 2n === step && units % 2n === 1n)) units += 1n;
  const digits = places === 1 && units % 10n !== 0n ? 1 : 0;
  const value = places === 1 ? Number(units) / 10 : Number(units);
  const shown = numberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
  return negative && units > 0n ? `-${shown}` : shown;
}

/** A ROAS or payback ratio, given as its exact decimal text: "2.35" → "2.35×". */
export function formatRoas(decimal: string): string {
  return `${decimal}×`;
}

function fractionDigits(decimal: string): number {
  const dot = decimal.indexOf(".");
  return dot < 0 ? 0 : decimal.length - dot - 1;
}

/** A UTC instant as a calendar date in the user's zone: "Mar 14, 2026". */
export function formatDate(ms: number | null, locale = userLocale()): string {
  if (ms === null) return "—";
  return new Intl.DateTimeFormat(locale, { year: "numeric", month: "short", day: "numeric" }).format(new Date(ms));
}

/** How long ago an instant was, in words: "4 min ago", "3 h ago", "2 days ago". */
export function formatAgo(ms: number | null, nowMs: number): string {
  if (ms === null) return "never";
  const seconds = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}
