// Loads the WebAssembly module once, on first use, so that importing
// fieldseal needs no init() call and costs nothing until something is sealed.
// Where the bytes come from depends on the runtime: package.json's "imports"
// maps #wasm-source to a file read in Node and to a URL fetch elsewhere.
import init, * as bindings from "./wasm/fieldseal_wasm.js";
import { wasmSource } from "#wasm-source";
import { FieldsealError } from "./errors.js";

/** @internal */
export type Bindings = typeof bindings;

let loading: Promise<Bindings> | undefined;
let memory: WebAssembly.Memory | undefined;

/** @internal The bindings, loading the module on the first call. A failed load is retried on the next call. */
export function loadWasm(): Promise<Bindings> {
  loading ??= (async () => {
    try {
      const output = await init({ module_or_path: await wasmSource() });
      memory = output.memory;
      return bindings;
    } catch (error) {
      loading = undefined;
      let why = error instanceof Error ? error.message : String(error);
      if (/magic word/.test(why)) {
        // A dev server answered the .wasm URL with its HTML page: the package
        // was pre-bundled away from its files (Vite 7 and earlier).
        why += " (the server did not return fieldseal_wasm_bg.wasm; with Vite 7 or earlier set optimizeDeps: { exclude: [\"fieldseal\"] })";
      }
      throw new FieldsealError("WASM_LOAD_FAILED", `could not load fieldseal's WebAssembly module: ${why}`, {
        cause: error,
      });
    }
  })();
  return loading;
}

/** @internal The bindings if the module is already loaded, else `undefined` (never loads). */
export function loadedWasm(): Bindings | undefined {
  return memory && bindings;
}

/**
 * The current size of fieldseal's WebAssembly memory in bytes (loading the
 * module if needed). WebAssembly memory never shrinks, so a size that stays
 * flat over a long loop shows that nothing leaks.
 */
export async function wasmMemoryBytes(): Promise<number> {
  await loadWasm();
  return memory!.buffer.byteLength;
}
