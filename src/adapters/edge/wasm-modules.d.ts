// What Workers bundlers (wrangler's CompiledWasm rule) make of a .wasm import. The package
// below ships typings of its wasm-bindgen exports next to the file; the bundler gives a Module.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
declare module "@jsquash/png/codec/pkg/squoosh_png_bg.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
