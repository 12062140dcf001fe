import { readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";

/**
 * The direction imports may take between src/'s folders (docs/architecture.md draws them):
 *
 * - core/ (pure imaging, formats, analysis, segmentation, the pipeline spec, small libs) imports
 *   nothing outside core/ but zod and the jSquash codecs, and uses no runtime global (Bun,
 *   process, Deno);
 * - config/ imports only core/; platform/ (ports and their in-memory versions) only core/ and
 *   config/;
 * - a feature (features/<name>/) imports core/, platform/, config/, http/'s helpers, its own
 *   files, and of another feature only its public index.ts; never an adapter or the wiring;
 * - http/ imports features only through their index.ts, and no adapter or wiring;
 * - adapters/ and wiring/ import anything but routes (features/<name>/…/routes/).
 */

/** One import that breaks a rule: who imports what, and which rule says no. */
export type Violation = { from: string; specifier: string; rule: string };

const CORE_PACKAGES = /^(zod|@jsquash\/[\w/.-]+)$/;
const RUNTIME_GLOBAL = /\b(Bun|process|Deno)\s*\./;
const IMPORT =
  /(?:^|[;\s])(?:import|export)\s(?:[^;'"]*?\sfrom\s*)?["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** The specifiers a module imports or re-exports, type-only ones included. */
export function importSpecifiers(source: string): string[] {
  const code = stripComments(source);
  return [...code.matchAll(IMPORT)].map((m) => (m[1] ?? m[2]) as string);
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'])\/\/.*$/gm, "$1");
}

/** "core", "features/jobs", "http", …: the area a path under src/ belongs to. */
function area(path: string): string {
  const [root, name] = path.replace(/^src\//, "").split("/");
  return root === "features" ? `features/${name}` : (root ?? "");
}

const isRoute = (path: string) => /^src\/features\/[^/]+\/(.+\/)?routes\//.test(path);
const isFeatureIndex = (path: string) => /^src\/features\/[^/]+\/index\.ts$/.test(path);

/**
 * The rule `from` (a path under src/) breaks by importing `specifier`, or null. `source` is the
 * importing module's text, for the runtime-globals check of core/.
 *
 * @example
 * checkImport("src/core/lib/zip.ts", "../../http/api-error.ts"); // "core imports only core/, zod and @jsquash"
 */
export function checkImport(from: string, specifier: string): string | null {
  const own = area(from);
  if (!specifier.startsWith(".")) {
    if (own === "core" && !CORE_PACKAGES.test(specifier)) {
      return "core imports only core/, zod and @jsquash";
    }
    return null;
  }
  const target = posix.normalize(posix.join(posix.dirname(from), specifier));
  const theirs = area(target);
  if (theirs === own) return null;
  switch (own.split("/")[0]) {
    case "core":
      return "core imports only core/, zod and @jsquash";
    case "config":
      return theirs === "core" ? null : "config imports only core/";
    case "platform":
      return ["core", "config"].includes(theirs) ? null : "platform imports only core/ and config/";
    case "features":
    case "http":
      if (["core", "platform", "config"].includes(theirs)) return null;
      if (theirs === "http") return null;
      if (theirs.startsWith("features/")) {
        return isFeatureIndex(target)
          ? null
          : `a feature is reached through its index.ts, not ${target}`;
      }
      return `${own} does not import ${theirs}/ (adapters and wiring depend on features, not the reverse)`;
    case "adapters":
    case "wiring":
      return isRoute(target) ? `${own} does not import routes (${target})` : null;
    default:
      return null;
  }
}

/** Every violation in `files` (path under src/ → source text). */
export function checkModules(files: Map<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [from, source] of files) {
    for (const specifier of importSpecifiers(source)) {
      const rule = checkImport(from, specifier);
      if (rule) violations.push({ from, specifier, rule });
    }
    if (area(from) === "core" && RUNTIME_GLOBAL.test(stripComments(source))) {
      violations.push({ from, specifier: "(global)", rule: "core uses no Bun, process or Deno" });
    }
  }
  return violations;
}

/** The TypeScript modules under `root` (the repository), keyed by their path from it. */
export function readSources(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(posix.join(root, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name)) {
        files.set(path, readFileSync(posix.join(root, path), "utf8"));
      }
    }
  };
  walk("src");
  return files;
}
