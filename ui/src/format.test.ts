import { describe, expect, it } from "vitest";
import { formatAgo, formatConversions, formatCount, formatMoney, safeLocale } from "./format";

describe("formatMoney", () => {
  it("shows the currency's own fraction digits", () => {
    expect(formatMoney({ currency: "USD", amount: "1234.50", minor: 123450 }, "en-US")).toBe("$1,234.50");
    expect(formatMoney({ currency: "JPY", amount: "1200", minor: 1200 }, "en-US")).toBe("¥1,200");
    expect(formatMoney({ currency: "KWD", amount: "1.500", minor: 1500 }, "en-US")).toBe("KWD\u00a01.500");
  });
  it("follows the locale's separators", () => {
    expect(formatMoney({ currency: "EUR", amount: "1234.50", minor: 123450 }, "de-DE")).toBe("1.234,50\u00a0€");
  });
  it("keeps negative amounts negative", () => {
    expect(formatMoney({ currency: "USD", amount: "-3.10", minor: -310 }, "en-US")).toBe("-$3.10");
  });
});

describe("formatCount", () => {
  it("groups thousands", () => {
    expect(formatCount(12345, "en-US")).toBe("12,345");
  });
});

describe("formatAgo", () => {
  const now = 1_700_000_000_000;
  it("says never for a source that never synced", () => {
    expect(formatAgo(null, now)).toBe("never");
  });
  it("counts minutes, hours and days", () => {
    expect(formatAgo(now - 4 * 60_000, now)).toBe("4 min ago");
    expect(formatAgo(now - 3 * 3_600_000, now)).toBe("3 h ago");
    expect(formatAgo(now - 3 * 86_400_000, now)).toBe("3 days ago");
  });
});

describe("safeLocale", () => {
  it("falls back to en-US for POSIX locales that Intl rejects", () => {
    expect(safeLocale("C")).toBe("en-US");
    expect(safeLocale("")).toBe("en-US");
  });
  it("accepts POSIX-style tags with a region and an encoding", () => {
    expect(safeLocale("de_DE.UTF-8")).toBe("de-DE");
    expect(safeLocale("fr-FR")).toBe("fr-FR");
  });
});

describe("formatConversions", () => {
  it("shows one decimal under 100 and none from 100 on, as the CLI does", () => {
    expect(formatConversions("2555.000000000", "en-US")).toBe("2,555");
    expect(formatConversions("2555.500000000", "en-US")).toBe("2,556");
    expect(formatConversions("749.216700000", "en-US")).toBe("749");
    expect(formatConversions("12.500000000", "en-US")).toBe("12.5");
    expect(formatConversions("12.040000000", "en-US")).toBe("12");
    expect(formatConversions("12.050000000", "en-US")).toBe("12");
    expect(formatConversions("12.150000000", "en-US")).toBe("12.2");
    expect(formatConversions("99.960000000", "en-US")).toBe("100");
    expect(formatConversions("0.040000000", "en-US")).toBe("0");
    expect(formatConversions("12.5", "de-DE")).toBe("12,5");
  });
});
