import type { Context, MiddlewareHandler } from "hono";
import { SIGNATURE_PARAMS } from "../features/signed-urls/index.ts";
import { ApiError, type FieldError } from "../platform/api-error.ts";
import { unsupportedContentType } from "./content-type.ts";
import type { DeclaredInput, JsonSchema } from "./declared-input.ts";
import type { AppEnv } from "./env.ts";

const JSON_TYPE = "application/json";
const FORM_TYPE = "application/x-www-form-urlencoded";

/**
 * Refuses a request whose query or JSON/form body carries a key the operation does not declare
 * in the OpenAPI document, with a 422 naming each (and the declared key it is probably a typo
 * of). zod's objects drop unknown keys silently, so without this `{"operation": […]}` would run
 * a transform with no operations and `?width=200` render the full size. The document is the one
 * source: what /docs shows is exactly what is accepted, for every route, without marking each
 * schema strict by hand.
 *
 * Runs after the body limit (it parses the body, which Hono then keeps for the validator), and
 * only for operations in the document.
 *
 * @example
 * app.use(refuseUnknownFields(declaredInputs(() => openApiDocument())));
 */
export function refuseUnknownFields(
  declared: (c: Context<AppEnv>) => DeclaredInput | undefined,
): MiddlewareHandler<AppEnv> {
  return async function checkFields(c, next) {
    const accepted = declared(c);
    if (!accepted) return next();
    const errors: FieldError[] = [];
    // A verified signed URL's own parameters are not the operation's.
    const signature: readonly string[] = c.get("signedUrl") ? SIGNATURE_PARAMS : [];
    for (const key of new Set(new URL(c.req.url).searchParams.keys())) {
      if (!accepted.query.has(key) && !signature.includes(key)) {
        errors.push(unknown(`query.${key}`, "query parameter", key, [...accepted.query]));
      }
    }
    const type = c.req.header("content-type")?.toLowerCase() ?? "";
    const json = accepted.bodies.get(JSON_TYPE);
    const form = accepted.bodies.get(FORM_TYPE);
    if (json && type.startsWith(JSON_TYPE)) {
      // Malformed JSON is the validator's to report.
      const body = await c.req.json().catch(() => undefined);
      if (body !== undefined) errors.push(...unknownKeys(body, json, "json", accepted));
    } else if (form && type.startsWith(FORM_TYPE)) {
      const data = await c.req.formData().catch(() => undefined);
      // `curl -d '{…}'` labels JSON as a form unless told otherwise: one key, the whole JSON.
      if (data && [...data.keys()].some((key) => /^\s*[[{]/.test(key)) && json) {
        throw unsupportedContentType([JSON_TYPE], type, "for a JSON body (curl -d sends a form)");
      }
      if (data) {
        const body = Object.fromEntries([...data.keys()].map((k) => [k, ""]));
        errors.push(...unknownKeys(body, form, "form", accepted));
      }
    }
    if (errors.length > 0) {
      throw new ApiError(
        "validation_failed",
        errors.map((e) => `${e.path}: ${e.message}`).join("; "),
        {
          errors,
        },
      );
    }
    return next();
  };
}

/** The keys of `value` (at `path`) that `schema` does not declare, at any depth. */
function unknownKeys(
  value: unknown,
  given: JsonSchema,
  path: string,
  input: DeclaredInput,
): FieldError[] {
  const schema = input.resolve(given);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) return bestAlternative(value, alternatives, path, input);
  if (schema.allOf) {
    const properties = Object.assign(
      {},
      ...schema.allOf.map((part) => input.resolve(part).properties ?? {}),
    );
    return unknownKeys(value, { ...schema, allOf: undefined, properties }, path, input);
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    return value.flatMap((item, i) => unknownKeys(item, items, `${path}.${i}`, input));
  }
  if (!isObject(value) || !schema.properties) return [];
  // A record (additionalProperties with a schema or true) takes any key.
  const open = schema.additionalProperties !== undefined && schema.additionalProperties !== false;
  const properties = schema.properties;
  return Object.entries(value).flatMap(([key, inner]) => {
    const declared = properties[key];
    if (declared) return unknownKeys(inner, declared, `${path}.${key}`, input);
    return open ? [] : [unknown(`${path}.${key}`, "field", key, Object.keys(properties))];
  });
}

/**
 * Of a union, the branch `value` is meant for: one whose type fits and whose single-valued keys
 * (discriminators like `op` or `method`) match, then the one it breaks least. A value no branch
 * takes is left to the validator.
 */
function bestAlternative(
  value: unknown,
  alternatives: JsonSchema[],
  path: string,
  input: DeclaredInput,
): FieldError[] {
  const candidates = alternatives
    .map((a) => input.resolve(a))
    .filter((a) => fitsType(value, a))
    .map((a) => ({ errors: unknownKeys(value, a, path, input), mismatches: mismatches(value, a) }))
    .sort((a, b) => a.mismatches - b.mismatches || a.errors.length - b.errors.length);
  return candidates[0]?.errors ?? [];
}

function fitsType(value: unknown, schema: JsonSchema): boolean {
  if (schema.type === undefined) return true;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const actual =
    value === null
      ? "null"
      : Array.isArray(value)
        ? "array"
        : typeof value === "number"
          ? "number"
          : typeof value;
  return types.some((t) => t === actual || (t === "integer" && actual === "number"));
}

/** How many of the branch's single-valued keys `value` sets to something else. */
function mismatches(value: unknown, schema: JsonSchema): number {
  if (!isObject(value) || !schema.properties) return 0;
  let count = 0;
  for (const [key, property] of Object.entries(schema.properties)) {
    const only = property.const ?? (property.enum?.length === 1 ? property.enum[0] : undefined);
    if (only !== undefined && key in value && value[key] !== only) count++;
  }
  return count;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function unknown(path: string, kind: string, key: string, known: string[]): FieldError {
  const suggestion = closest(key, known);
  const hint = suggestion ? ` — did you mean \`${suggestion}\`?` : "";
  const list = known.length > 0 ? ` (known: ${known.join(", ")})` : " (it takes none)";
  return { path, message: `unknown ${kind} \`${key}\`${hint || list}` };
}

/** The known name `key` is most likely a typo of: a small edit distance, case ignored. */
function closest(key: string, known: string[]): string | undefined {
  const lower = key.toLowerCase();
  const limit = Math.max(1, Math.floor(key.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/**
 * Edit distance counting an insertion, a deletion, a substitution or a swap of two neighbours
 * (`widht`) as one edit: the typos people make.
 */
function editDistance(a: string, b: string): number {
  const rows = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const previous = rows[i - 1] as number[];
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] as number) + 1);
      }
      current[j] = best;
    }
    rows.push(current);
  }
  return rows[a.length]?.[b.length] as number;
}
