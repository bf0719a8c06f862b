/** SETTINGS parameters (RFC 9113 6.5.2, RFC 8441 3) and the checks on their values. */
import { ErrorCode, Http2ConnectionError } from "./errors.ts";
import { MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE } from "./frame.ts";

export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
} as const;

export interface Settings {
  headerTableSize: number;
  enablePush: boolean;
  /** Infinity when not limited. */
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  /** Infinity when not limited. */
  maxHeaderListSize: number;
  enableConnectProtocol: boolean;
}

/** The values in force before any SETTINGS frame is received (6.5.2). */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  headerTableSize: 4096,
  enablePush: true,
  maxConcurrentStreams: Infinity,
  initialWindowSize: 65535,
  maxFrameSize: MIN_MAX_FRAME_SIZE,
  maxHeaderListSize: Infinity,
  enableConnectProtocol: false,
});

export const MAX_WINDOW_SIZE = 0x7fffffff;

/**
 * Applies received parameters to `settings` (a copy is returned), checking each value as 6.5.2
 * requires; unknown identifiers are ignored. RFC 8441 3: once sent as 1,
 * ENABLE_CONNECT_PROTOCOL may not go back to 0.
 */
export function applySettings(
  settings: Readonly<Settings>,
  params: readonly [number, number][],
): Settings {
  const next: Settings = { ...settings };
  for (const [id, value] of params) {
    switch (id) {
      case SettingId.HEADER_TABLE_SIZE:
        next.headerTableSize = value;
        break;
      case SettingId.ENABLE_PUSH:
        if (value > 1) throw bad(`SETTINGS_ENABLE_PUSH of ${value}, not 0 or 1`);
        next.enablePush = value === 1;
        break;
      case SettingId.MAX_CONCURRENT_STREAMS:
        next.maxConcurrentStreams = value;
        break;
      case SettingId.INITIAL_WINDOW_SIZE:
        if (value > MAX_WINDOW_SIZE) {
          throw new Http2ConnectionError(
            ErrorCode.FLOW_CONTROL_ERROR,
            `SETTINGS_INITIAL_WINDOW_SIZE of ${value} is above 2^31-1`,
          );
        }
        next.initialWindowSize = value;
        break;
      case SettingId.MAX_FRAME_SIZE:
        if (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
          throw bad(`SETTINGS_MAX_FRAME_SIZE of ${value} is outside 16384..16777215`);
        }
        next.maxFrameSize = value;
        break;
      case SettingId.MAX_HEADER_LIST_SIZE:
        next.maxHeaderListSize = value;
        break;
      case SettingId.ENABLE_CONNECT_PROTOCOL:
        if (value > 1) throw bad(`SETTINGS_ENABLE_CONNECT_PROTOCOL of ${value}, not 0 or 1`);
        if (settings.enableConnectProtocol && value === 0) {
          throw bad("SETTINGS_ENABLE_CONNECT_PROTOCOL went back from 1 to 0");
        }
        next.enableConnectProtocol = value === 1;
        break;
      default:
        break; // unknown settings are ignored (6.5.2)
    }
  }
  return next;
}

function bad(message: string): Http2ConnectionError {
  return new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, message);
}

const IDS: [keyof Settings, number][] = [
  ["headerTableSize", SettingId.HEADER_TABLE_SIZE],
  ["enablePush", SettingId.ENABLE_PUSH],
  ["maxConcurrentStreams", SettingId.MAX_CONCURRENT_STREAMS],
  ["initialWindowSize", SettingId.INITIAL_WINDOW_SIZE],
  ["maxFrameSize", SettingId.MAX_FRAME_SIZE],
  ["maxHeaderListSize", SettingId.MAX_HEADER_LIST_SIZE],
  ["enableConnectProtocol", SettingId.ENABLE_CONNECT_PROTOCOL],
];

/**
 * The parameters of `settings` whose values differ from `base`, as a SETTINGS frame carries them.
 * An unlimited value (Infinity) cannot be sent, so it is left out.
 */
export function settingsParams(
  settings: Partial<Settings>,
  base: Readonly<Settings>,
): [number, number][] {
  const out: [number, number][] = [];
  for (const [key, id] of IDS) {
    const value = settings[key];
    if (value === undefined || value === base[key] || value === Infinity) continue;
    out.push([id, typeof value === "boolean" ? (value ? 1 : 0) : value]);
  }
  return out;
}
