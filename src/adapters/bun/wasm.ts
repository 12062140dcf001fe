import { WASM_FILES, type WasmLoader } from "../../core/formats/codecs.ts";

const projectRoot = new URL("../../../", import.meta.url);

/**
 * Compiles a .wasm of the project: its own builds under `wasm/`, found relative to this file
 * rather than the working directory, and packages' modules under `node_modules/`.
 *
 * @example
 * const argon2 = await loadProjectWasm("wasm/argon2/argon2.wasm");
 */
export async function loadProjectWasm(path: string): Promise<WebAssembly.Module> {
  const url = new URL(path.startsWith("wasm/") ? path : `node_modules/${path}`, projectRoot);
  return WebAssembly.compile(await Bun.file(url).arrayBuffer());
}

/**
 * Compiles a codec's .wasm from the project's local files. Nothing is fetched at run time
 * (jSquash#61).
 *
 * @example
 * const codecs = createCodecs(loadLocalWasm);
 */
export const loadLocalWasm: WasmLoader = (name) => loadProjectWasm(WASM_FILES[name]);
