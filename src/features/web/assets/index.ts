import { CLIENT_SCRIPT } from "./client-script.ts";
import { STYLESHEET } from "./stylesheet.ts";

/** FNV-1a of `text`, in base 36: a version for an asset's URL, computed once at start. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

type Asset = { path: string; body: string; type: string };

/**
 * The web app's static files, served by Pictor itself: their URLs carry a fingerprint of their
 * content, so browsers keep them for a year and a new version is a new URL.
 */
export const ASSETS: readonly Asset[] = [
  {
    path: `/assets/app.${fingerprint(STYLESHEET)}.css`,
    body: STYLESHEET,
    type: "text/css; charset=utf-8",
  },
  {
    path: `/assets/app.${fingerprint(CLIENT_SCRIPT)}.js`,
    body: CLIENT_SCRIPT,
    type: "text/javascript; charset=utf-8",
  },
];

export const ASSET_PATHS = {
  stylesheet: (ASSETS[0] as Asset).path,
  script: (ASSETS[1] as Asset).path,
};
