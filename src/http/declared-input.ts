import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "./env.ts";

/** The part of JSON Schema (as zod-openapi writes it) that says which keys an object has. */
export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
};

type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
};

type OpenApiDocument = {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
};

/** What one operation takes, as the OpenAPI document (and so /docs) declares it. */
export type DeclaredInput = {
  query: ReadonlySet<string>;
  /** The schema of each body media type, e.g. "application/json". */
  bodies: ReadonlyMap<string, JsonSchema>;
  /** The schema a `$ref` of the document points to, or the schema itself. */
  resolve(schema: JsonSchema): JsonSchema;
};

/**
 * The declared input of the operation serving a request (undefined for what the document does
 * not describe: /docs, /openapi.json), read off the generated document once it exists: the one
 * source both for what /docs shows and for what the strict checks accept.
 *
 * @example
 * const declared = declaredInputs(() => openApiDocument());
 * declared(c)?.bodies.has("application/json");
 */
export function declaredInputs(
  openApiDocument: () => object,
): (c: Context<AppEnv>) => DeclaredInput | undefined {
  let table: ReadonlyMap<string, DeclaredInput> | undefined;
  return function declaredInput(c) {
    // The generated document, read through the few members needed here.
    table ??= declaredTable(openApiDocument() as OpenApiDocument);
    // The last route matched that is not middleware (app.use registers for ALL) serves it.
    const route = matchedRoutes(c).findLast((r) => r.method !== "ALL");
    return route && table.get(`${route.method} ${route.path}`);
  };
}

function declaredTable(doc: OpenApiDocument): Map<string, DeclaredInput> {
  const schemas = doc.components?.schemas ?? {};
  const resolve = (schema: JsonSchema) => {
    const name = schema.$ref?.replace("#/components/schemas/", "");
    return (name && schemas[name]) || schema;
  };
  const table = new Map<string, DeclaredInput>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    const honoPath = path.replace(/\{([^}]+)\}/g, ":$1");
    for (const [method, op] of Object.entries(operations)) {
      const bodies = new Map<string, JsonSchema>();
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        bodies.set(type, media.schema ?? {});
      }
      table.set(`${method.toUpperCase()} ${honoPath}`, {
        query: new Set((op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name)),
        bodies,
        resolve,
      });
    }
  }
  return table;
}
