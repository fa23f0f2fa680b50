// The setup of a new, empty workspace, step by step: (1) the reporting currency and time zone;
// (2) the first data, either a CSV import (with a template per kind) or a connected source;
// (3) the import's summary or the first sync's progress; then the overview. Each step is the
// same piece the Workspace and Sources screens use; "Skip" lands on the overview at any step.

import { api, asAppError, events } from "../api";
import type { SourceKind, WorkspaceInfo } from "../bindings";
import { h, replaceChildren } from "../dom";
import { addSourceForm, describeSync } from "./sources";
import { importPanel, reportingForm } from "./workspace";

export async function renderSetup(root: HTMLElement, info: WorkspaceInfo, done: (info: WorkspaceInfo) => void): Promise<void> {
  let current = info;
  const finish = () => done(current);
  const kinds: SourceKind[] = await api.sourceKinds();
  const body = h("div", { class: "setup-body" });
  const steps = ["Currency and time zone", "First data", "Done"];
  const stepper = (active: number) =>
    h("ol", { class: "setup-steps" }, ...steps.map((label, i) => h("li", { class: i === active ? "active" : i < active ? "done" : "" }, label)));
  const head = h("div", {});
  const skip = h("button", { class: "link", "data-testid": "setup-skip", onclick: finish }, "Skip setup, go to the overview");
  const card = h("section", { class: "welcome-card setup", "data-testid": "setup" }, h("h1", {}, `Set up ${info.name}`), head, body, skip);
  replaceChildren(root, h("main", { class: "welcome" }, card));

  const step1 = () => {
    replaceChildren(head, stepper(0));
    replaceChildren(body, reportingForm(current, (saved) => { current = saved; step2(); }, true, "Continue"));
  };

  const overviewButton = (label = "Open the overview") => h("button", { class: "primary", "data-testid": "setup-finish", onclick: finish }, label);

  const step2 = () => {
    replaceChildren(head, stepper(1));
    const imported = importPanel((r) => {
      if (r.imported + r.updated > 0) {
        replaceChildren(head, stepper(2));
        after.hidden = false;
      }
    });
    const after = h("div", { class: "source-actions", hidden: true }, h("span", { class: "muted" }, "Import another file (orders and touches make attribution; spend makes ROAS), or:"), overviewButton());
    const connect = addSourceForm(kinds, false, (sourceId) => void firstSync(sourceId));
    replaceChildren(
      body,
      h("h2", {}, "Bring in your first data"),
      h("h3", {}, "Import a CSV file"),
      imported,
      after,
      h("h3", {}, "Or connect a platform"),
      h("p", { class: "muted" }, "Stripe, Shopify, Meta, Google Ads, TikTok, Dub, Rewardful or your own API: its secret goes to the OS keyring, then the first sync runs here."),
      connect,
    );
  };

  /** The source just added syncs for the first time, its progress shown line by line. */
  const firstSync = async (sourceId?: string) => {
    replaceChildren(head, stepper(2));
    const source = (await api.sources()).find((s) => s.source_id === sourceId);
    if (!source) return finish();
    const line = h("div", { class: "sync-progress", "data-testid": "setup-sync-progress" }, `${source.name}: starting the first sync…`);
    replaceChildren(body, h("h2", {}, `First sync of ${source.name}`), line, h("div", { class: "source-actions" }, overviewButton("Open the overview (the sync goes on)")));
    const off = await events.onJobProgress((p) => {
      if (p.job === "sync" && p.source_id === source.source_id) replaceChildren(line, describeSync(p.progress));
    });
    try {
      const last = await api.syncSource(source.source_id);
      replaceChildren(line, describeSync(last));
    } catch (e) {
      replaceChildren(line, asAppError(e).message);
    } finally {
      off();
    }
  };

  step1();
}
