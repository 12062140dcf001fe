/**
 * Real wallpaper photos for the benchmarks, taken from Debian packages at bench time (never
 * shipped, never fetched by the service): `apt-get download` into a cache directory, then only
 * the one file extracted from the .deb. Set BENCH_PHOTOS_DIR to move the cache (default
 * ~/.cache/pictor-bench-photos). The shipped 18 MP progressive JPEG in test/fixtures/photos is
 * always there; a package apt cannot fetch is skipped with a warning.
 *
 * Licences: ukui-wallpapers (CC-BY-SA-3.0), gnome-backgrounds (CC-BY-SA / CC-BY / GPL-2 per file),
 * mate-backgrounds (GPL-2+): see each package's /usr/share/doc/<package>/copyright.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { DecodableFormat } from "../../src/core/formats/codecs.ts";
import { fixture } from "../support/fixtures.ts";

export type Photo = {
  name: string;
  format: DecodableFormat;
  width: number;
  height: number;
  bytes: Uint8Array<ArrayBuffer>;
};

type Source = Omit<Photo, "bytes"> & { pkg: string; path: string };

const SOURCES: Source[] = [
  {
    name: "9 MP baseline JPEG (ukui 2004default)",
    format: "jpeg",
    width: 3840,
    height: 2400,
    pkg: "ukui-wallpapers",
    path: "usr/share/backgrounds/2004default.jpg",
  },
  {
    name: "9 MP progressive JPEG (ukui rhythm)",
    format: "jpeg",
    width: 3840,
    height: 2400,
    pkg: "ukui-wallpapers",
    path: "usr/share/backgrounds/rhythm.jpg",
  },
  {
    name: "17 MP WebP (gnome wood)",
    format: "webp",
    width: 4096,
    height: 4096,
    pkg: "gnome-backgrounds",
    path: "usr/share/backgrounds/gnome/wood-l.webp",
  },
  {
    name: "9 MP RGBA PNG (ukui focal)",
    format: "png",
    width: 3840,
    height: 2400,
    pkg: "ukui-wallpapers",
    path: "usr/share/backgrounds/focal-ubuntukylin.png",
  },
];

const cacheDir = process.env.BENCH_PHOTOS_DIR ?? join(homedir(), ".cache", "pictor-bench-photos");

function fetchFromPackage(source: Source): string | null {
  const target = join(cacheDir, "files", source.path);
  if (existsSync(target)) return target;
  mkdirSync(join(cacheDir, "files"), { recursive: true });
  const deb = () => readdirSync(cacheDir).find((f) => f.startsWith(`${source.pkg}_`));
  if (!deb()) {
    const got = Bun.spawnSync(["apt-get", "download", source.pkg], { cwd: cacheDir });
    if (!got.success || !deb()) {
      console.warn(`skipped ${source.name}: apt-get download ${source.pkg} failed`);
      return null;
    }
  }
  const tar = Bun.spawnSync([
    "sh",
    "-c",
    'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "./$3"',
    "sh",
    join(cacheDir, deb() as string),
    join(cacheDir, "files"),
    source.path,
  ]);
  if (!tar.success || !existsSync(target)) {
    console.warn(`skipped ${source.name}: ${source.path} not in ${deb()}`);
    return null;
  }
  return target;
}

/** The photos this machine can provide, the shipped one first. */
export async function realPhotos(): Promise<Photo[]> {
  const photos: Photo[] = [
    {
      name: "18 MP progressive JPEG (mate elephants)",
      format: "jpeg",
      width: 5640,
      height: 3172,
      bytes: await fixture("photos/elephants-5640x3172.jpg"),
    },
  ];
  for (const source of SOURCES) {
    const path = fetchFromPackage(source);
    if (!path) continue;
    const { pkg: _pkg, path: _path, ...photo } = source;
    photos.push({ ...photo, bytes: await Bun.file(path).bytes() });
  }
  return photos;
}
