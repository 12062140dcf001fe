import { WASM_FILES, type WasmLoader } from "../../imaging/codecs.ts";

const nodeModules = new URL("../../../node_modules/", import.meta.url);

/** Compiles a codec's .wasm from the installed packages (nothing is fetched at run time). */
export const loadWasmFromNodeModules: WasmLoader = async (name) =>
  WebAssembly.compile(await Bun.file(new URL(WASM_FILES[name], nodeModules)).arrayBuffer());
