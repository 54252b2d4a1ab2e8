// Browsers and bundlers: a URL relative to this module. Vite, webpack 5,
// Rollup and esbuild recognise this pattern and ship the .wasm as an asset.
export async function wasmSource(): Promise<URL> {
  return new URL("./wasm/fieldseal_wasm_bg.wasm", import.meta.url);
}
