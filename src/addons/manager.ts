/**
 * The hook registry: addons in order, with a per-hook list so that a hook nobody implements
 * costs a map lookup and nothing else. An addon that throws is logged with its stack, and any
 * change it made to the flow before throwing is undone: the flow carries on unmodified by it.
 */
import { Flow } from "../flow/flow.ts";
import type { Logger } from "../log.ts";
import { type Addon, type AddonContext, HOOK_NAMES, type HookName } from "./types.ts";

type AnyHook = (...args: unknown[]) => unknown;

export class AddonManager {
  readonly #log: Logger;
  #addons: Addon[] = [];
  #byHook = new Map<HookName, Addon[]>();
  #observedOnly = new Set<HookName>();

  constructor(log: Logger) {
    this.#log = log;
  }

  get addons(): readonly Addon[] {
    return this.#addons;
  }

  /** True when some addon implements `hook`. */
  has(hook: HookName): boolean {
    return this.#byHook.has(hook);
  }

  /** True when every addon implementing `hook` is read-only: `notify` may run it. */
  observedOnly(hook: HookName): boolean {
    return this.#observedOnly.has(hook);
  }

  /**
   * Runs `hook` on read-only addons without waiting: no snapshot, nothing awaited; an error (or
   * a rejected promise) is logged like trigger's. Returns the promise of the hooks that returned
   * one (settled when they are; it never rejects), or undefined when all of them were done at once.
   */
  notify(hook: HookName, ...args: unknown[]): Promise<void> | undefined {
    const list = this.#byHook.get(hook);
    if (list === undefined) return;
    let running: Promise<void>[] | undefined;
    for (const addon of list) {
      const fn = addon[hook] as AnyHook | undefined;
      if (typeof fn !== "function") continue;
      try {
        const r = fn.apply(addon, args) as Promise<void> | undefined;
        if (r instanceof Promise) {
          (running ??= []).push(r.catch((e) => this.#failed(addon, hook, e)));
        }
      } catch (e) {
        this.#failed(addon, hook, e);
      }
    }
    if (running === undefined) return;
    return running.length === 1 ? running[0] : Promise.all(running).then(() => {});
  }

  #failed(addon: Addon, hook: HookName, e: unknown): void {
    this.#log.error(
      `addon ${addon.name ?? "(unnamed)"}, hook ${hook} failed: ${(e as Error)?.stack ?? e}`,
    );
  }

  /** Adds addons at the end and runs their `load` hooks. */
  async add(...addons: Addon[]): Promise<void> {
    this.#addons.push(...addons);
    this.#index();
    for (const a of addons) await this.#call(a, "load", [this.#context()]);
  }

  /** Replaces `old` (same position) after running its `done`, then loads the new ones. */
  async replace(old: readonly Addon[], fresh: readonly Addon[]): Promise<void> {
    for (const a of old) await this.#call(a, "done", []);
    const at = old.length > 0 ? this.#addons.indexOf(old[0]) : -1;
    this.#addons = this.#addons.filter((a) => !old.includes(a));
    if (at < 0) this.#addons.push(...fresh);
    else this.#addons.splice(at, 0, ...fresh);
    this.#index();
    for (const a of fresh) await this.#call(a, "load", [this.#context()]);
  }

  /** Calls `hook` on every addon implementing it, in order. */
  async trigger(hook: HookName, ...args: unknown[]): Promise<void> {
    const list = this.#byHook.get(hook);
    if (list === undefined) return;
    for (const addon of list) await this.#call(addon, hook, args);
  }

  async #call(addon: Addon, hook: HookName, args: unknown[]): Promise<void> {
    const fn = addon[hook] as AnyHook | undefined;
    if (typeof fn !== "function") return;
    const flow = args[0] instanceof Flow && hook !== "flow_done" ? args[0] : null;
    const restore = flow?.snapshot();
    try {
      await fn.apply(addon, args);
    } catch (e) {
      restore?.();
      this.#failed(addon, hook, e);
    }
  }

  #index(): void {
    const byHook = new Map<HookName, Addon[]>();
    for (const addon of this.#addons) {
      for (const hook of HOOK_NAMES) {
        if (typeof addon[hook] === "function") {
          let list = byHook.get(hook);
          if (!list) byHook.set(hook, list = []);
          list.push(addon);
        }
      }
    }
    this.#byHook = byHook;
    this.#observedOnly = new Set(
      [...byHook].filter(([, list]) => list.every((a) => a.readOnly === true)).map(([h]) => h),
    );
  }

  #context(): AddonContext {
    return { log: this.#log };
  }
}
