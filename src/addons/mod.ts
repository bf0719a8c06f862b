/** Addons: hook types, the hook registry, script loading with hot reload. */
export { AddonManager } from "./manager.ts";
export { ScriptError, ScriptLoader } from "./scripts.ts";
export * from "./types.ts";
