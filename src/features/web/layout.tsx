/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { ASSET_PATHS } from "./assets/index.ts";

export type NavItem = "gallery" | "jobs" | "settings";

const NAV: { id: NavItem; href: string; label: string }[] = [
  { id: "gallery", href: "/", label: "Gallery" },
  { id: "jobs", href: "/jobs", label: "Jobs" },
  { id: "settings", href: "/settings", label: "Settings" },
];

/**
 * Every page's frame: the product name, the navigation (with the signed-in user and a log-out
 * button) and the one stylesheet and script. `page` names the page for the script, which runs
 * only what that page needs.
 */
export function Layout(props: {
  title: string;
  page: string;
  email?: string | undefined;
  current?: NavItem | undefined;
  children?: Child;
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Pictor`}</title>
        <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
        <link rel="stylesheet" href={ASSET_PATHS.stylesheet} />
        <script src={ASSET_PATHS.script} defer />
      </head>
      <body data-page={props.page}>
        <header class="top">
          <a class="brand" href="/">
            Pict<span>or</span>
          </a>
          {props.email !== undefined && (
            <nav aria-label="Main">
              {NAV.map((item) => (
                <a href={item.href} aria-current={props.current === item.id ? "page" : undefined}>
                  {item.label}
                </a>
              ))}
              <span class="who">
                <span>{props.email}</span>
                <form method="post" action="/logout">
                  <button type="submit">Log out</button>
                </form>
              </span>
            </nav>
          )}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
