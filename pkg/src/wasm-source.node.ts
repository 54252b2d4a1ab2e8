// Node: read the module from disk next to this file.
export async function wasmSource(): Promise<Uint8Array> {
  const { readFile } = await import("node:fs/promises");
  return readFile(new URL("./wasm/fieldseal_wasm_bg.wasm", import.meta.url));
}
