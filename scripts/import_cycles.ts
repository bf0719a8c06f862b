/**
 * Finds import cycles among the TypeScript files under a folder (default: src/). Every `import`
 * and `export ... from` counts, type-only ones included: a cycle of types still ties the files'
 * design together. Prints each cycle as a path of files; exits 1 when there is one.
 *
 *   deno run -A scripts/import_cycles.ts [folder]
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/g;
const SIDE_EFFECT = /(?:^|\n)\s*import\s*["']([^"']+)["']/g;

function tsFiles(folder: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** The local files `file` imports (relative specifiers only). */
export function importsOf(file: string, source: string): string[] {
  const found: string[] = [];
  for (const pattern of [SPECIFIER, SIDE_EFFECT]) {
    for (const match of source.matchAll(pattern)) {
      const spec = match[1];
      if (spec.startsWith(".")) found.push(resolve(dirname(file), spec));
    }
  }
  return found;
}

/** Strongly connected components with more than one file (or a file importing itself). */
export function importCycles(folder: string): string[][] {
  const root = resolve(folder);
  const files = tsFiles(root).map((f) => resolve(f));
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const deps = importsOf(file, readFileSync(file, "utf8")).filter((d) => known.has(d));
    edges.set(file, deps);
  }
  // Tarjan's algorithm, iterative so deep import chains cannot overflow the stack.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  for (const start of files) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const deps = edges.get(frame.node)!;
      if (frame.next < deps.length) {
        const dep = deps[frame.next++];
        if (!index.has(dep)) {
          index.set(dep, counter);
          low.set(dep, counter++);
          stack.push(dep);
          onStack.add(dep);
          work.push({ node: dep, next: 0 });
        } else if (onStack.has(dep)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(dep)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && deps.includes(frame.node);
        if (component.length > 1 || selfLoop) {
          cycles.push(component.map((f) => relative(process.cwd(), f)).sort());
        }
      }
    }
  }
  return cycles;
}

if (import.meta.main) {
  const folder = process.argv[2] ?? "src";
  const cycles = importCycles(folder);
  for (const cycle of cycles) console.log(`cycle: ${cycle.join(" <-> ")}`);
  console.log(`${cycles.length} import cycle(s) under ${folder}`);
  process.exit(cycles.length > 0 ? 1 : 0);
}
