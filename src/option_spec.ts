/**
 * The shape of one option in the registry (src/options.ts). Apart from the registry so that the
 * option tables kept next to their features (replay, rewrites) can type their entries without
 * importing the registry that imports them.
 */

export type OptionType = "string" | "int" | "seconds" | "bool" | "strings" | "size";

export interface Spec<T> {
  type: OptionType;
  default: T;
  help: string;
  min?: number;
  max?: number;
  /** Extra check of one value; returns what is wrong, or null. */
  check?: (value: string) => string | null;
}
