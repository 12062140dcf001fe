/**
 * The one wording of a parameter out of range, after sharp's: the parameter, its allowed range,
 * and (when known) what was received, a string quoted. The specs' schemas, the HTTP query
 * parameters, the configuration and the kernels' own checks all speak it.
 *
 * @example
 * rangeMessage("integer", "width", 1, 10000, 0); // "Expected an integer between 1 and 10000 for width but received 0"
 * rangeMessage("integer", "limit", 1, 100, "x"); // 'Expected an integer between 1 and 100 for limit but received "x"'
 * rangeMessage("number", "sigma", 0.3, 1000); // "Expected a number between 0.3 and 1000 for sigma"
 */
export function rangeMessage(
  kind: "integer" | "number",
  name: string,
  min: number,
  max: number,
  received?: unknown,
): string {
  const expected = `Expected ${kind === "integer" ? "an integer" : "a number"} between ${min} and ${max} for ${name}`;
  if (received === undefined) return expected;
  return `${expected} but received ${typeof received === "string" ? JSON.stringify(received) : String(received)}`;
}
