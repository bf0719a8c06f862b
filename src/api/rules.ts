/**
 * Rules at run time (mitmproxy#7878): the rewrites that are CLI options (block_list, map_remote,
 * map_local, modify_body, modify_headers) and intercept breakpoints, as a list that can be changed
 * while the proxy runs. Specs are the CLI's syntax, checked by the CLI's own parsers. A change
 * rebuilds the rewrite addons (in mitmproxy's order, where the old ones were) or the intercept
 * filter, so it applies from the next request on; a kind with no rules has no addon, so bodies
 * are not held for nothing. Rules given on the command line are in the list from the start.
 */
import type { AddonManager } from "../addons/manager.ts";
import type { Addon } from "../addons/types.ts";
import { blockList } from "../addons/builtin/block_list.ts";
import { mapLocal } from "../addons/builtin/map_local.ts";
import { mapRemote } from "../addons/builtin/map_remote.ts";
import { modifyBody } from "../addons/builtin/modify_body.ts";
import { modifyHeaders } from "../addons/builtin/modify_headers.ts";
import { REWRITE_OPTION_SPECS } from "../addons/builtin/rewrite_option_specs.ts";
import {
  parseBlockList,
  parseMapLocal,
  parseMapRemote,
  parseModifyBody,
  parseModifyHeaders,
} from "../addons/builtin/rewrite_spec.ts";
import { FilterError, parseFilter } from "../filter/mod.ts";
import type { Options } from "../options.ts";
import type { Interceptor } from "./intercept.ts";

/** The rewrite kinds in the order their addons run (mitmproxy's). */
export const REWRITE_KINDS = [
  "block_list",
  "map_remote",
  "map_local",
  "modify_body",
  "modify_headers",
] as const;
export type RewriteKind = (typeof REWRITE_KINDS)[number];
export const RULE_KINDS = [...REWRITE_KINDS, "intercept"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export interface Rule {
  id: string;
  kind: RuleKind;
  /** The CLI syntax (`|~d example.com|404`), or a filter expression for `intercept`. */
  spec: string;
}

export class RuleError extends Error {}

/** One line of help per kind: the syntax, as `--help` gives it. */
export function ruleKindHelp(): Record<RuleKind, string> {
  const out = {} as Record<RuleKind, string>;
  for (const kind of REWRITE_KINDS) out[kind] = REWRITE_OPTION_SPECS[kind].help;
  out.intercept = "Pause flows matching a filter expression at request and response.";
  return out;
}

function isRuleKind(kind: unknown): kind is RuleKind {
  return (RULE_KINDS as readonly unknown[]).includes(kind);
}

/** The reason `spec` is not a valid rule of `kind`, or null. */
export function ruleProblem(kind: unknown, spec: unknown): string | null {
  if (!isRuleKind(kind)) {
    return `unknown kind ${JSON.stringify(kind)}: use one of ${RULE_KINDS.join(", ")}`;
  }
  if (typeof spec !== "string" || spec.trim() === "") return "spec must be a non-empty string";
  if (kind === "intercept") {
    try {
      parseFilter(spec);
      return null;
    } catch (e) {
      if (e instanceof FilterError) return `bad filter: ${e.message}`;
      throw e;
    }
  }
  const problem = REWRITE_OPTION_SPECS[kind].check?.(spec) ?? null;
  return problem === null ? null : `${kind} "${spec}" ${problem}`;
}

function addonFor(kind: RewriteKind, specs: string[]): Addon {
  switch (kind) {
    case "block_list":
      return blockList(specs.map(parseBlockList));
    case "map_remote":
      return mapRemote(specs.map(parseMapRemote));
    case "map_local":
      return mapLocal(specs.map(parseMapLocal));
    case "modify_body":
      return modifyBody(specs.map(parseModifyBody));
    case "modify_headers":
      return modifyHeaders(specs.map(parseModifyHeaders));
  }
}

export class RuleSet {
  readonly #addons: AddonManager;
  readonly #options: Options;
  readonly #interceptor: Interceptor;
  #rules: Rule[] = [];
  #next = 1;
  /** The rewrite addons in the chain now (the startup ones until the first change). */
  #installed: Addon[];
  /** The intercept filter as this set last made it; another value means PUT /api/intercept. */
  #interceptText = "";
  #update: Promise<void> = Promise.resolve();

  constructor(addons: AddonManager, options: Options, interceptor: Interceptor) {
    this.#addons = addons;
    this.#options = options;
    this.#interceptor = interceptor;
    for (const kind of REWRITE_KINDS) {
      for (const spec of options[kind]) this.#rules.push(this.#rule(kind, spec));
    }
    this.#installed = addons.addons.filter((a) =>
      (REWRITE_KINDS as readonly string[]).includes(a.name ?? "")
    );
  }

  list(): Rule[] {
    this.#syncIntercept();
    return this.#rules.map((r) => ({ ...r }));
  }

  get(id: string): Rule | undefined {
    return this.list().find((r) => r.id === id);
  }

  /** Adds a rule; throws RuleError (one line) when it is not valid. */
  add(kind: unknown, spec: unknown): Promise<Rule> {
    const problem = ruleProblem(kind, spec);
    if (problem !== null) throw new RuleError(problem);
    this.#syncIntercept();
    const rule = this.#rule(kind as RuleKind, spec as string);
    this.#rules.push(rule);
    return this.#apply().then(() => ({ ...rule }));
  }

  /** Changes a rule's spec (and kind); undefined when there is no such rule. */
  async change(id: string, kind: unknown, spec: unknown): Promise<Rule | undefined> {
    this.#syncIntercept();
    const rule = this.#rules.find((r) => r.id === id);
    if (rule === undefined) return undefined;
    const problem = ruleProblem(kind ?? rule.kind, spec);
    if (problem !== null) throw new RuleError(problem);
    rule.kind = (kind ?? rule.kind) as RuleKind;
    rule.spec = spec as string;
    await this.#apply();
    return { ...rule };
  }

  async remove(id: string): Promise<boolean> {
    this.#syncIntercept();
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    if (this.#rules.length === before) return false;
    await this.#apply();
    return true;
  }

  #rule(kind: RuleKind, spec: string): Rule {
    return { id: `r${this.#next++}`, kind, spec };
  }

  /** The intercept filter set elsewhere (PUT /api/intercept, options) becomes the breakpoints. */
  #syncIntercept(): void {
    const now = this.#interceptor.filter;
    if (now === this.#interceptText) return;
    this.#rules = this.#rules.filter((r) => r.kind !== "intercept");
    if (now !== "") this.#rules.push(this.#rule("intercept", now));
    this.#interceptText = now;
  }

  /** Rebuilds the rewrite addons and the intercept filter from the list, one change at a time. */
  #apply(): Promise<void> {
    const specs = (kind: RuleKind) => this.#rules.filter((r) => r.kind === kind).map((r) => r.spec);
    const breakpoints = specs("intercept");
    const filter = breakpoints.length === 1
      ? breakpoints[0]
      : breakpoints.map((s) => `(${s})`).join(" | ");
    this.#interceptText = filter;
    const fresh: Addon[] = [];
    for (const kind of REWRITE_KINDS) {
      const list = specs(kind);
      (this.#options as Record<RewriteKind, string[]>)[kind] = list;
      if (list.length > 0) fresh.push(addonFor(kind, list));
    }
    // setFilter takes the filter at once (and serialises its own addon change).
    const intercepted = filter === this.#interceptor.filter
      ? Promise.resolve()
      : this.#interceptor.setFilter(filter);
    this.#update = this.#update.then(async () => {
      await intercepted;
      await this.#addons.replace(this.#installed, fresh);
      this.#installed = fresh;
    });
    return this.#update;
  }
}
