import { describe, expect, test } from "bun:test";
import { fileURLToPath } from "node:url";
import { checkModules, importSpecifiers, readSources } from "./dependency-rules.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("dependency direction", () => {
  test("src/ keeps every rule: pure core, features through their index, no import back up", () => {
    const violations = checkModules(readSources(root)).map(
      (v) => `${v.from} imports ${v.specifier}: ${v.rule}`,
    );
    expect(violations).toEqual([]);
  });

  test("each kind of violation is caught", () => {
    const files = new Map([
      ["src/core/lib/zip.ts", 'import { ApiError } from "../../http/api-error.ts";'],
      ["src/core/formats/probe.ts", 'import { readFile } from "node:fs";\nprocess.exit(1);'],
      ["src/features/jobs/job-service.ts", 'import type { X } from "../images/image-service.ts";'],
      [
        "src/features/jobs/job-store.ts",
        'import { connect } from "../../adapters/postgres/db.ts";',
      ],
      ["src/config/config.ts", 'export { x } from "../features/notifications/index.ts";'],
      ["src/adapters/edge/edge-app.ts", 'import { r } from "../../features/jobs/routes/get.ts";'],
    ]);
    expect(checkModules(files).map((v) => [v.from, v.specifier])).toEqual([
      ["src/core/lib/zip.ts", "../../http/api-error.ts"],
      ["src/core/formats/probe.ts", "node:fs"],
      ["src/core/formats/probe.ts", "(global)"],
      ["src/features/jobs/job-service.ts", "../images/image-service.ts"],
      ["src/features/jobs/job-store.ts", "../../adapters/postgres/db.ts"],
      ["src/config/config.ts", "../features/notifications/index.ts"],
      ["src/adapters/edge/edge-app.ts", "../../features/jobs/routes/get.ts"],
    ]);
  });

  test("what is allowed passes: a feature's index, core from anywhere, comments ignored", () => {
    const files = new Map([
      ["src/features/jobs/job-service.ts", 'import { images } from "../images/index.ts";'],
      ["src/features/jobs/routes/get.ts", 'import { z } from "../../../core/pipeline/spec.ts";'],
      [
        "src/core/formats/exif.ts",
        '/** readExif(await Bun.file("a.jpg").bytes()) */\nimport "zod";',
      ],
      ["src/wiring/services.ts", 'import { store } from "../features/jobs/job-store.ts";'],
    ]);
    expect(checkModules(files)).toEqual([]);
  });

  test("import forms: named, type-only, re-export, side effect, dynamic", () => {
    const source = [
      'import { a } from "./a.ts";',
      'import type { B } from "./b.ts";',
      'export { c } from "./c.ts";',
      'import "./d.ts";',
      'type E = import("./e.ts").E;',
      "// import { f } from './f.ts';",
    ].join("\n");
    expect(importSpecifiers(source)).toEqual(["./a.ts", "./b.ts", "./c.ts", "./d.ts", "./e.ts"]);
  });
});
