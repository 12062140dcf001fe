import { WASM_FILES, type WasmLoader } from "../../imaging/codecs.ts";

const projectRoot = new URL("../../../", import.meta.url);

/**
 * Compiles a codec's .wasm from the installed packages, or from the project's own `wasm/` builds
 * (nothing is fetched at run time).
 */
export const loadWasmFromNodeModules: WasmLoader = async (name) => {
  const path = WASM_FILES[name];
  const url = new URL(path.startsWith("wasm/") ? path : `node_modules/${path}`, projectRoot);
  return WebAssembly.compile(await Bun.file(url).arrayBuffer());
};
