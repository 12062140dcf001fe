/** @jsxImportSource hono/jsx */
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { clientAddress, enforceRateLimit } from "../../../http/authenticate.ts";
import type { AppEnv } from "../../../http/env.ts";
import { requireSameOrigin } from "../../../http/same-origin.ts";
import { ApiError } from "../../../platform/api-error.ts";
import { MIN_PASSWORD_LENGTH } from "../../accounts/index.ts";
import { Layout } from "../layout.tsx";
import { page } from "../respond.tsx";
import { sessionPrincipal, signIn, signOut } from "../session.ts";

type Mode = "login" | "signup";

const TEXT = {
  login: { title: "Log in", button: "Log in", other: "/signup", otherText: "Create an account" },
  signup: { title: "Create an account", button: "Sign up", other: "/login", otherText: "Log in" },
} as const;

function SignInPage(props: { mode: Mode; email?: string; error?: string }) {
  const text = TEXT[props.mode];
  return (
    <Layout title={text.title} page={props.mode}>
      <section class="panel narrow">
        <h1>{text.title}</h1>
        {props.error && (
          <p class="error" role="alert" id="form-error">
            {props.error}
          </p>
        )}
        <form method="post" action={`/${props.mode}`}>
          <label for="email">Email</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="username"
            required
            value={props.email ?? ""}
          />
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete={props.mode === "signup" ? "new-password" : "current-password"}
            minlength={props.mode === "signup" ? MIN_PASSWORD_LENGTH : undefined}
            required
          />
          {props.mode === "signup" && (
            <p class="note">
              At least {MIN_PASSWORD_LENGTH} characters, not one of the most common passwords.
            </p>
          )}
          <div class="actions">
            <button type="submit">{text.button}</button>
            <a href={text.other}>{text.otherText}</a>
          </div>
        </form>
      </section>
    </Layout>
  );
}

// A sign-in form is two short fields: nothing near this is a real one.
const formLimit = bodyLimit({
  maxSize: 16 * 1024,
  onError: () => {
    throw new ApiError("payload_too_large", "Expected a form of at most 16 KiB");
  },
});

async function readForm(c: Context<AppEnv>): Promise<{ email: string; password: string }> {
  const form = await c.req.parseBody();
  const field = (name: string) => (typeof form[name] === "string" ? form[name] : "");
  return { email: field("email").trim(), password: field("password") };
}

/**
 * The sign-in pages: forms posting to themselves (protected against cross-site posts, as every
 * cookie-authenticated request is), limited per address as the API's signup and token routes
 * are, answering a mistake with the form again and its message.
 */
export function registerSignIn(web: Hono<AppEnv>) {
  for (const mode of ["login", "signup"] as const) {
    web.get(`/${mode}`, async (c) => {
      if (await sessionPrincipal(c)) return c.redirect("/", 302);
      return page(c, <SignInPage mode={mode} />);
    });
    web.post(`/${mode}`, requireSameOrigin(), formLimit, async (c) => {
      const { email, password } = await readForm(c);
      const { rateLimits, users } = c.var.services;
      try {
        if (mode === "signup") {
          await enforceRateLimit(rateLimits.signups, `signup:${clientAddress(c)}`);
          const user = await users.signup(email, password);
          await signIn(c, user.id);
        } else {
          await enforceRateLimit(rateLimits.requests, `login:${clientAddress(c)}`);
          await signIn(c, await users.checkCredentials(email, password));
        }
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        // "Invalid grant" is OAuth's word; a person gets the detail (and the email back).
        const status = err.code === "invalid_grant" ? 401 : err.status;
        return page(c, <SignInPage mode={mode} email={email} error={err.detail} />, status);
      }
      return c.redirect("/", 303);
    });
  }
  web.post("/logout", requireSameOrigin(), async (c) => {
    await signOut(c);
    return c.redirect("/login", 303);
  });
}
