// Light or dark: the user's choice (System, Light or Dark), remembered for every workspace in
// localStorage. "System" follows the desktop's preference as it changes. The chosen theme is
// set on <html data-theme="light|dark">, which styles.css and the inline charts' CSS variables
// key on; nothing else decides the theme.

import { h } from "./dom";

export type ThemeChoice = "system" | "light" | "dark";
export const THEME_CHOICES: [ThemeChoice, string][] = [
  ["system", "System"],
  ["light", "Light"],
  ["dark", "Dark"],
];

const STORAGE_KEY = "lookback.theme";
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

export function themeChoice(): ThemeChoice {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage unavailable: the system's theme.
  }
  return THEME_CHOICES.find(([choice]) => choice === saved)?.[0] ?? "system";
}

function applyTheme(): void {
  const choice = themeChoice();
  const dark = choice === "dark" || (choice === "system" && systemDark.matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

export function setThemeChoice(choice: ThemeChoice): void {
  try {
    localStorage.setItem(STORAGE_KEY, choice);
  } catch {
    // Private mode or a full disk: the theme still applies for this session.
  }
  applyTheme();
}

/** Applies the remembered theme now and follows the system's while the choice is "system". */
export function startTheme(): void {
  applyTheme();
  systemDark.addEventListener("change", applyTheme);
}

/** The Theme picker (sidebar and welcome screen). */
export function themePicker(): HTMLElement {
  const current = themeChoice();
  const select = h(
    "select",
    { "data-testid": "theme", onchange: (ev: Event) => setThemeChoice((ev.target as HTMLSelectElement).value as ThemeChoice) },
    ...THEME_CHOICES.map(([choice, label]) => h("option", { value: choice, selected: choice === current }, label)),
  );
  return h("label", { class: "field theme-field" }, "Theme", select);
}
