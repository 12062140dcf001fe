/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import type { AppEnv } from "../../../http/env.ts";
import type { ApiKeyRecord } from "../../accounts/index.ts";
import { EMAIL_PREFERENCES } from "../../notifications/index.ts";
import { Layout } from "../layout.tsx";
import { page, viewerEmail } from "../respond.tsx";
import { signedIn } from "../session.ts";

const EMAIL_CHOICES: Record<(typeof EMAIL_PREFERENCES)[number], string> = {
  always: "Email me when a job ends",
  failure: "Email me only when a job fails",
  never: "Never email me about jobs",
};

function SettingsPage(props: { email: string; keys: ApiKeyRecord[]; notify: string }) {
  return (
    <Layout title="Settings" page="settings" email={props.email} current="settings">
      <h1>Settings</h1>
      <section class="panel">
        <h2>API keys</h2>
        <p class="note">
          For scripts: send a key as <code>X-API-Key</code> or <code>Authorization: Bearer</code>. A
          key is shown once, when it is made.
        </p>
        <form id="key-form" class="toolbar">
          <div>
            <label for="key-name">Name</label>
            <input id="key-name" name="name" type="text" required maxlength={100} />
          </div>
          <button type="submit">Create key</button>
        </form>
        <p id="key-message" hidden />
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Key</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody id="keys">
            {props.keys.map((key) => (
              <tr>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>{new Date(key.created_at).toUTCString()}</td>
                <td>
                  <button type="button" class="danger" data-revoke={key.id} data-name={key.name}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="panel">
        <h2>Notifications</h2>
        <form id="notify-form" class="toolbar">
          <div>
            <label for="notify-email">Job emails</label>
            <select id="notify-email" name="email">
              {EMAIL_PREFERENCES.map((choice) => (
                <option value={choice} selected={choice === props.notify}>
                  {EMAIL_CHOICES[choice]}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Save</button>
          <span id="notify-message" role="status" />
        </form>
      </section>
    </Layout>
  );
}

/** `/settings`: API keys (create, list, revoke) and notification preferences. */
export function registerSettings(web: Hono<AppEnv>) {
  web.get("/settings", signedIn(), async (c) => {
    const { apiKeys, notifications } = c.var.services;
    const keys = await apiKeys.list(c.var.principal, { limit: 100 });
    const preferences = await notifications.getPreferences(c.var.principal.userId);
    return page(
      c,
      <SettingsPage email={await viewerEmail(c)} keys={keys.items} notify={preferences.email} />,
    );
  });
}
