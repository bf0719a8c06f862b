/** @jsxImportSource preact */
/**
 * Timing as a waterfall: DNS (when the origin's name was looked up), connect, TLS, request, wait and receive as bars on one time axis, from
 * the flow's own timestamps. A reused origin connection has no connect/TLS phase of its own.
 */
import type { FlowDetail } from "./types.ts";

export interface Phase {
  name: string;
  start: number;
  end: number;
}

export function phasesOf(flow: FlowDetail): Phase[] {
  const out: Phase[] = [];
  const add = (name: string, start?: number | null, end?: number | null) => {
    if (typeof start === "number" && typeof end === "number" && end >= start) {
      out.push({ name, start, end });
    }
  };
  const s = flow.server;
  if (s && !s.reused) {
    add("DNS", s.timestampDnsStart, s.timestampDnsEnd);
    add("connect", s.timestampTcpStart, s.timestampTcpEnd);
    add("TLS", s.timestampTlsStart, s.timestampTlsEnd);
  }
  const req = flow.request, res = flow.response;
  add("request", req.timestampStart, req.timestampEnd);
  add("wait", req.timestampEnd, res?.timestampStart);
  add("receive", res?.timestampStart, res?.timestampEnd);
  return out;
}

export function Waterfall({ flow }: { flow: FlowDetail }) {
  const phases = phasesOf(flow);
  if (!phases.length) return <p class="muted">No timing yet.</p>;
  const t0 = Math.min(...phases.map((p) => p.start));
  const t1 = Math.max(...phases.map((p) => p.end));
  const span = Math.max(1, t1 - t0);
  return (
    <div class="waterfall">
      {phases.map((p) => (
        <div class="phase" data-phase={p.name}>
          <span class="phase-name">{p.name}</span>
          <span class="track">
            <i
              class={`wf-bar wf-${p.name.toLowerCase()}`}
              style={{
                left: `${((p.start - t0) / span) * 100}%`,
                width: `max(2px, ${((p.end - p.start) / span) * 100}%)`,
              }}
            />
          </span>
          <span class="phase-ms">{p.end - p.start} ms</span>
        </div>
      ))}
    </div>
  );
}
