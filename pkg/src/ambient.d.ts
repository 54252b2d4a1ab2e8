// Resolved through package.json "imports": wasm-source.node.ts in Node,
// wasm-source.browser.ts in browsers and bundlers.
declare module "#wasm-source" {
  export function wasmSource(): Promise<BufferSource | URL>;
}
