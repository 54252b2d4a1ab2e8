/**
 * fieldseal: client-side field encryption for DynamoDB items and SQL rows,
 * byte-compatible with the AWS Database Encryption SDK for DynamoDB.
 *
 * No init call is needed: the WebAssembly module loads on first use.
 * @packageDocumentation
 */
export { FieldsealError, type ErrorCode } from "./errors.js";
export { ItemEncryptor, type ItemEncryptorConfig, type KeyUseEvent, type SealedRecord } from "./encryptor.js";
export type {
  SearchConfig,
  SearchKeyStore,
  BeaconVersion,
  BeaconKeySource,
  SingleKeyStore,
  MultiKeyStore,
  BeaconKeyCacheType,
  StandardBeacon,
  BeaconStyle,
  CompoundBeacon,
  EncryptedPart,
  SignedPart,
  CompoundBeaconConstructor,
  VirtualField,
  VirtualTransform,
  PartitionSelector,
} from "./search.js";
export {
  type Keyring,
  RawAesKeyring,
  RawRsaKeyring,
  RawEcdhKeyring,
  MultiKeyring,
  CustomKeyring,
  StaticBranchKeyKeyring,
  type RawAesKeyringOptions,
  type RawRsaKeyringOptions,
  type RawEcdhKeyringOptions,
  type RawEcdhScheme,
  type EcdhCurve,
  type EcdhPrivateKey,
  type EcdhPublicKey,
  type RsaPadding,
  type MultiKeyringOptions,
  type CustomKeyringOptions,
  type StaticBranchKeyKeyringOptions,
  type WrapKeyInput,
  type WrapKeyOutput,
  type UnwrapKeyInput,
} from "./keyrings.js";
export type {
  AttributeValue,
  Item,
  ItemInput,
  CryptoAction,
  AlgorithmSuiteId,
  PlainRecord,
  RecordValue,
} from "./types.js";
export { wasmMemoryBytes } from "./wasm.js";
