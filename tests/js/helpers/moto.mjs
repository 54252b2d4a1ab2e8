// A live local AWS for the KMS and DynamoDB tests: moto's server on loopback,
// started through tools/moto/launch.py (which patches moto's KMS so that
// multi-Region keys work, the encryption context binds strictly, and RSA and
// ECDH keys behave like real KMS; see its docstring).
//
// The launcher lives in tools/moto/start.mjs, shared with the demo
// (www/stack.mjs) and `make moto`: startMoto() resolves to { endpoint, stop }
// (and port, pid); the server exits with this process even if it is killed.
export { CREDENTIALS, startMoto } from "../../../tools/moto/start.mjs";
