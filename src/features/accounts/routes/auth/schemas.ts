import { z } from "@hono/zod-openapi";
import { MAX_PASSWORD_LENGTH } from "../../password-policy.ts";
import { ROLES } from "../../principal.ts";

export const TokenSchema = z
  .object({
    access_token: z
      .string()
      .openapi({ description: "A JWT; send it as `Authorization: Bearer …`." }),
    token_type: z.literal("bearer"),
    expires_in: z
      .number()
      .int()
      .openapi({ description: "Seconds until it expires.", example: 3600 }),
  })
  .openapi("Token");

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    role: z.enum(ROLES),
    disabled_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi("User");

// Bounded so that no request makes argon2 hash megabytes; the policy's own checks come after.
export const passwordField = (name: string) =>
  z
    .string({ error: `Expected a string for ${name}` })
    .max(MAX_PASSWORD_LENGTH, `Expected at most ${MAX_PASSWORD_LENGTH} characters for ${name}`);

export const emailField = z
  .string({ error: "Expected an email address for email" })
  .trim()
  .max(320, "Expected at most 320 characters for email");
