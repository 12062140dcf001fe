import { WASM_FILES, type WasmLoader } from "../../core/formats/codecs.ts";

const projectRoot = new URL("../../../", import.meta.url);

/**
 * Compiles a codec's .wasm from the project's local files: the project's own builds under `wasm/`
 * and jSquash's modules under `node_modules/`. Nothing is fetched at run time (jSquash#61).
 *
 * @example
 * const codecs = createCodecs(loadLocalWasm);
 */
export const loadLocalWasm: WasmLoader = async (name) => {
  const path = WASM_FILES[name];
  const url = new URL(path.startsWith("wasm/") ? path : `node_modules/${path}`, projectRoot);
  return WebAssembly.compile(await Bun.file(url).arrayBuffer());
};
