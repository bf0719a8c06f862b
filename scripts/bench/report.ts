/** Turns a bench run into Markdown tables (with ratios and the targets) and SVG charts. */
import fs from "node:fs";
import path from "node:path";
import type { Metrics } from "./scenarios.ts";

export interface ProxyInfo {
  label: string;
  ours: boolean;
  version?: string;
  missing?: string;
}

export type Outcome = Metrics | { error: string };

export interface ScenarioResult {
  title: string;
  /** The metric ratios and charts use, and whether more is better. */
  primary: string;
  higherIsBetter: boolean;
  results: Record<string, Outcome>;
}

export interface BenchRun {
  date: string;
  command: string;
  machine: Record<string, string>;
  settings: Record<string, number | string>;
  proxies: Record<string, ProxyInfo>;
  scenarios: Record<string, ScenarioResult>;
}

/** Numbers as tables show them: integers as they are, 3 decimals under 1, 2 under 10, else 1. */
const fmt = (v: unknown) =>
  typeof v === "number"
    ? Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 1 ? 3 : Math.abs(v) < 10 ? 2 : 1)
    : String(v ?? "–");

function value(o: Outcome | undefined, metric: string): number | null {
  if (!o || "error" in o) return null;
  const v = o[metric];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** How many times better `ours` is than `peer` on the primary metric (>1: ours is better). */
export function ratio(sc: ScenarioResult, ours: string, peer: string): number | null {
  const a = value(sc.results[ours], sc.primary), b = value(sc.results[peer], sc.primary);
  if (a === null || b === null || a === 0 || b === 0) return null;
  return sc.higherIsBetter ? a / b : b / a;
}

/**
 * One proxy's result from several rounds of a scenario: the median run by `primary` (the lower
 * middle one for an even count), with the range it came from and how many rounds failed. A
 * single outcome is returned as it is.
 */
export function medianRun(outcomes: readonly Outcome[], primary: string): Outcome {
  if (outcomes.length === 1) return outcomes[0];
  const ok = outcomes.filter((o) => value(o, primary) !== null)
    .sort((a, b) => value(a, primary)! - value(b, primary)!);
  if (ok.length === 0) return outcomes.find((o) => "error" in o) ?? outcomes[0];
  const failed = outcomes.length - ok.length;
  return {
    ...ok[Math.floor((ok.length - 1) / 2)],
    [`${primary}_range`]: `${fmt(value(ok[0], primary))}–${fmt(value(ok.at(-1), primary))}`,
    rounds: ok.length,
    ...(failed ? { failed_rounds: failed } : {}),
  };
}

export function markdown(run: BenchRun): string {
  const ours = Object.keys(run.proxies).filter((k) =>
    run.proxies[k].ours && !run.proxies[k].missing
  );
  const out: string[] = [];
  for (const [key, sc] of Object.entries(run.scenarios)) {
    const metrics = [
      ...new Set(Object.values(sc.results).flatMap((o) => ("error" in o ? [] : Object.keys(o)))),
    ];
    const head = ["proxy", ...metrics, ...ours.map((o) => `${run.proxies[o].label} ×`)];
    out.push(
      `### ${sc.title}`,
      "",
      `\`${key}\` — ratios: ${sc.primary}, ${
        sc.higherIsBetter ? "higher" : "lower"
      } is better; "×" = how many times better mitm.ts is than the row.`,
      "",
    );
    out.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
    for (const [proxy, o] of Object.entries(sc.results)) {
      const cells = "error" in o
        ? [
          `failed: ${String(o.error).replace(/\|/g, "/").slice(0, 120)}`,
          ...metrics.slice(1).map(() => ""),
        ]
        : metrics.map((m) => fmt(o[m]));
      const ratios = ours.map((ou) => {
        const r = ratio(sc, ou, proxy);
        return r === null || ou === proxy ? "" : `${r.toFixed(2)}×`;
      });
      out.push(`| ${[run.proxies[proxy].label, ...cells, ...ratios].join(" | ")} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

interface Target {
  what: string;
  check(run: BenchRun, ours: string): { measured: string; ok: boolean } | null;
}

function ratioTarget(what: string, scenarios: string[], peer: string, min: number): Target {
  return {
    what,
    check(run, ours) {
      const rs = scenarios.map((s) => run.scenarios[s] && ratio(run.scenarios[s], ours, peer));
      if (rs.some((r) => r === null || r === undefined)) return null;
      const worst = Math.min(...(rs as number[]));
      return { measured: rs.map((r) => `${r!.toFixed(2)}×`).join(", "), ok: worst >= min };
    },
  };
}

const TARGETS: Target[] = [
  ratioTarget(
    "HTTPS keep-alive req/s ≥ 3× http-mitm-proxy",
    ["b_https_keepalive"],
    "http-mitm-proxy",
    3,
  ),
  ratioTarget("HTTPS keep-alive req/s ≥ 15× mitmproxy", ["b_https_keepalive"], "mitmproxy", 15),
  ratioTarget(
    "new HTTPS connections/s ≥ 2× http-mitm-proxy",
    ["c_https_newconn"],
    "http-mitm-proxy",
    2,
  ),
  ratioTarget(
    "downloads (HTTP, HTTPS) ≥ 1.5× mitmproxy's MB/s",
    ["e_download_http", "e_download_https"],
    "mitmproxy",
    1.5,
  ),
  {
    what: "peak RSS < 150 MB in every 1 GiB transfer",
    check(run, ours) {
      const peaks = ["e_download_http", "e_download_https", "e_upload_http", "e_upload_https"]
        .map((s) => value(run.scenarios[s]?.results[ours], "peak_rss_mb"));
      if (peaks.some((p) => p === null)) return null;
      const max = Math.max(...(peaks as number[]));
      return { measured: `max ${max.toFixed(1)} MB`, ok: max < 150 };
    },
  },
  {
    what: "HTTP keep-alive p99 < 10 ms at 16 connections",
    check(run, ours) {
      const p99 = value(run.scenarios.a_http_keepalive?.results[ours], "p99_ms");
      return p99 === null ? null : { measured: `${p99} ms`, ok: p99 < 10 };
    },
  },
  {
    what: "hooks on request and response cost ≤ 15% of req/s",
    check(run, ours) {
      const pct = value(run.scenarios.hooks?.results[ours], "slowdown_pct");
      return pct === null ? null : { measured: `${pct}% slower`, ok: pct <= 15 };
    },
  },
];

export function targetsTable(run: BenchRun): string {
  const ours = Object.keys(run.proxies).filter((k) =>
    run.proxies[k].ours && !run.proxies[k].missing
  );
  const out = [
    `| target | ${ours.map((o) => run.proxies[o].label).join(" | ")} |`,
    `|---|${ours.map(() => "---").join("|")}|`,
  ];
  for (const t of TARGETS) {
    const cells = ours.map((o) => {
      const r = t.check(run, o);
      return r === null ? "not measured" : `${r.ok ? "✅" : "❌"} ${r.measured}`;
    });
    out.push(`| ${t.what} | ${cells.join(" | ")} |`);
  }
  return out.join("\n");
}

const COLORS: Record<string, string> = {
  "mitmts-deno": "#2b7a78",
  "mitmts-bun": "#3aafa9",
  "mitmts-binary": "#7fd1cc",
  "mitmts-bun-compare": "#95a5a6",
  mitmproxy: "#c0392b",
  "http-mitm-proxy": "#e67e22",
  mockttp: "#8e44ad",
};

/** A grouped horizontal bar chart: one group per scenario (own scale), one bar per proxy. */
export function barChart(run: BenchRun, title: string, unit: string, scenarios: string[]): string {
  const proxies = Object.keys(run.proxies).filter((p) => !run.proxies[p].missing);
  const groups = scenarios.filter((s) => run.scenarios[s]).map((s) => ({
    label: run.scenarios[s].title,
    bars: proxies.map((p) => ({
      p,
      v: value(run.scenarios[s].results[p], run.scenarios[s].primary),
    })),
  }));
  const barH = 16, gap = 4, left = 150, width = 760, chartW = width - left - 90;
  let y = 40;
  const parts: string[] = [];
  for (const g of groups) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(g.label)}</text>`);
    y += 20;
    // Each group has its own scale: conn/s and req/s differ by an order of magnitude.
    const max = Math.max(1e-9, ...g.bars.map((b) => b.v ?? 0));
    for (const b of g.bars) {
      const w = b.v === null ? 0 : Math.max(1, (b.v / max) * chartW);
      parts.push(
        `<text x="${left - 6}" y="${y + 12}" text-anchor="end">${
          esc(run.proxies[b.p].label)
        }</text>`,
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${
          COLORS[b.p] ?? "#888"
        }"/>`,
        `<text x="${left + w + 6}" y="${y + 12}">${b.v === null ? "failed" : fmt(b.v)}</text>`,
      );
      y += barH + gap;
    }
    y += 12;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${
    y + 10
  }" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)} (${
    esc(unit)
  }, higher is better)</text>
${parts.join("\n")}
</svg>
`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Writes latest.json, latest.md, rps.svg and mbps.svg for `run` into `dir`; returns the Markdown. */
export function writeReport(run: BenchRun, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "latest.json"), JSON.stringify(run, null, 2) + "\n");
  const md = `${markdown(run)}\n### Targets\n\n${targetsTable(run)}\n`;
  fs.writeFileSync(path.join(dir, "latest.md"), md);
  const rps = ["a_http_keepalive", "b_https_keepalive", "c_https_newconn"];
  const mbps = ["e_download_http", "e_download_https", "e_upload_http", "e_upload_https"];
  fs.writeFileSync(path.join(dir, "rps.svg"), barChart(run, "Requests per second", "req/s", rps));
  fs.writeFileSync(path.join(dir, "mbps.svg"), barChart(run, "1 GiB transfers", "MB/s", mbps));
  return md;
}
