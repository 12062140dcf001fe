import { Hono } from "hono";
import type { AppEnv } from "../../../http/env.ts";
import { ASSETS } from "../assets/index.ts";
import { errorPage } from "../respond.tsx";
import { registerGallery } from "./gallery.tsx";
import { registerImagePage } from "./image.tsx";
import { registerJobPages } from "./jobs.tsx";
import { registerSettings } from "./settings.tsx";
import { registerSignIn } from "./sign-in.tsx";

/**
 * The web app: server-rendered pages (`/`, `/login`, `/signup`, `/images/{id}`, `/jobs`,
 * `/jobs/{id}`, `/settings`) and their stylesheet and script. Every page is HTML from the
 * services; what changes things goes through the /v1 API with the session cookie.
 */
export function webRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  registerSignIn(web);
  registerGallery(web);
  registerImagePage(web);
  registerJobPages(web);
  registerSettings(web);
  for (const asset of ASSETS) {
    web.get(asset.path, (c) =>
      c.body(asset.body, 200, {
        "Content-Type": asset.type,
        "Cache-Control": "public, max-age=31536000, immutable",
      }),
    );
  }
  // Errors on a page are pages (the API's are problem+json).
  web.onError(errorPage);
  return web;
}
