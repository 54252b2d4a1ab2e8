// A live local AWS for the KMS and DynamoDB tests: moto's server on loopback,
// started through tests/support/moto/launch.py (which patches moto's KMS
// ciphertext blobs so multi-Region keys work; see its docstring).
//
// The launcher lives in tests/support/moto/start.mjs, shared with the demo
// (www/serve.mjs): startMoto() resolves to { endpoint, stop } (and port, pid);
// the server exits with this process even if it is killed.
export { CREDENTIALS, startMoto } from "../../support/moto/start.mjs";
