import { z } from "zod";
import { rangeMessage } from "../lib/parameter-messages.ts";

/*
 * Number fields of the validated specs (pipelines, segmentations), whose errors speak like sharp's:
 * they name the field, its allowed range and the value received.
 */

/**
 * An integer in [min, max].
 *
 * @example
 * integerIn("quality", 1, 100).parse(0); // throws "Expected an integer between 1 and 100 for quality but received 0"
 */
export const integerIn = (name: string, min: number, max: number) =>
  z
    .number({ error: rangeMessage("integer", name, min, max) })
    .refine((v) => Number.isInteger(v) && v >= min && v <= max, {
      error: (issue) => rangeMessage("integer", name, min, max, issue.input),
    });

/**
 * A number in [min, max].
 *
 * @example
 * numberIn("tolerance", 0, 200).parse(-1); // throws "Expected a number between 0 and 200 for tolerance but received -1"
 */
export const numberIn = (name: string, min: number, max: number) =>
  z.number({ error: rangeMessage("number", name, min, max) }).refine((v) => v >= min && v <= max, {
    error: (issue) => rangeMessage("number", name, min, max, issue.input),
  });
