/**
 * Transparent client-side encryption for the AWS SDK for JavaScript v3's
 * DynamoDB clients: `import { getDynamoDbEncryptionPlugin } from "fieldseal/dynamodb"`.
 *
 * The counterpart of the DB-ESDK's `DynamoDbEncryptionInterceptor` (Java) and
 * `DbEsdkInterceptor` (Rust): items written to a configured table are sealed
 * before they leave, items read from it are opened before you see them, and
 * what client-side encryption cannot allow is refused before any network
 * call. The stored bytes are the DB-ESDK's, so the official SDKs read and
 * write the same table. Searchable encryption (beacons, the table config's
 * `search`) rewrites Query and Scan expressions to beacons, and filters what
 * comes back by the original expression once opened. This module adds
 * middleware to the client you have; from `@aws-sdk/client-dynamodb` (a peer
 * dependency, optional for the rest of fieldseal) it imports only
 * `QueryCommand`, for {@link DynamoDbEncryptionPlugin.queryAllPartitions}.
 * @packageDocumentation
 */
// Static, not a dynamic import on first use: an app that imports the SDK
// itself would get a bundler warning (Vite: INEFFECTIVE_DYNAMIC_IMPORT).
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { FieldsealError, guarded, toFieldsealError } from "./errors.js";
import { ItemEncryptor, type ItemEncryptorConfig } from "./encryptor.js";
import { reading } from "./hostile.js";
import { marshallRecord, unmarshallItem } from "./records.js";
import type { AttributeValue, Item, ItemInput } from "./types.js";
import { loadWasm } from "./wasm.js";
import type { WasmEncryptedTables, WasmItemEncryptor } from "./wasm/fieldseal_wasm.js";

/** One table's encryption: {@link ItemEncryptorConfig}, with the DB-ESDK's names (beacons in `search`). */
export type DynamoDbTableEncryptionConfig = ItemEncryptorConfig;

/** The parts of a Query input the beacon helpers read (`QueryCommandInput` of `@aws-sdk/client-dynamodb` fits). */
export interface BeaconQueryInput {
  TableName: string | undefined;
  IndexName?: string;
  KeyConditionExpression?: string;
  FilterExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: ItemInput;
  ExclusiveStartKey?: ItemInput;
  Limit?: number;
  ConsistentRead?: boolean;
  ScanIndexForward?: boolean;
  ProjectionExpression?: string;
  Select?: string;
}

/** A client to send Query commands through: a `DynamoDBClient` (or a `DynamoDBDocumentClient` over it) with this plug-in. */
export interface QueryClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
  middlewareStack: unknown;
}

/** What {@link DynamoDbEncryptionPlugin.resolveAttributes} returns: the plaintext strings, not their HMACs. */
export interface ResolveAttributesOutput {
  /** Each virtual field of the version, computed from the item. */
  VirtualFields: { [name: string]: string };
  /** Each compound beacon of the version the item has the parts for, as `prefix + value` parts joined by its split character. */
  CompoundBeacons: { [name: string]: string };
}

export interface DynamoDbEncryptionConfig {
  /**
   * The encrypted tables, by their physical table name (the `TableName` of
   * your requests; `logicalTableName` is what is bound into the items, and
   * may differ, e.g. for a restored copy). Every other table passes through
   * untouched.
   */
  tableEncryptionConfigs: { [tableName: string]: DynamoDbTableEncryptionConfig };
}

/** The shape of an AWS SDK v3 middleware stack that this plug-in uses. */
export interface MiddlewareStackLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addRelativeTo(middleware: any, options: any): void;
}

/** An AWS SDK v3 plug-in (`Pluggable`): pass it to `client.middlewareStack.use(...)`. */
export interface DynamoDbEncryptionPlugin {
  applyToStack(stack: MiddlewareStackLike): void;
  /**
   * Load fieldseal and build every table's encryptor now, rejecting with
   * `INVALID_CONFIG` if a table's config breaks a rule. Optional: the first
   * request does the same (and then sends nothing).
   */
  ready(): Promise<void>;
  /**
   * How many queries a Query on a partitioned (bucket) beacon needs: run it
   * with `ExpressionAttributeValues[":aws_dbe_partition"]` = `{ N: "0" }` up
   * to this number minus one (the DB-ESDK's `GetNumberOfQueries`). 1 for a
   * table without partitions or without beacons.
   */
  getNumberOfQueries(input: BeaconQueryInput): Promise<number>;
  /**
   * Run a Query once per partition (see {@link getNumberOfQueries}), follow
   * every page (`LastEvaluatedKey`), and merge the opened items. The input's
   * values are AttributeValues; the client must have this plug-in (else
   * `INVALID_CONFIG`, and nothing is sent).
   */
  queryAllPartitions(client: QueryClient, input: BeaconQueryInput): Promise<{ Items: Item[]; Count: number }>;
  /**
   * For debugging a beacon configuration (the DB-ESDK's `ResolveAttributes`):
   * the virtual fields and compound beacon strings an item gives under
   * `Version` (default: the write version). Empty for a table without beacons.
   */
  resolveAttributes(input: { TableName: string; Item: ItemInput; Version?: number }): Promise<ResolveAttributesOutput>;
}

/** The middleware's name on the stack (one per client: adding it again replaces it). */
export const DYNAMODB_ENCRYPTION_MIDDLEWARE = "fieldsealDynamoDbEncryption";

function configError(message: string): FieldsealError {
  return new FieldsealError("INVALID_CONFIG", message);
}

/**
 * The plug-in for a `DynamoDBClient`: add it once, and `PutItem`, `GetItem`,
 * `Query`, `Scan`, `UpdateItem`, `DeleteItem`, their batch and transaction
 * forms, and `DynamoDBDocumentClient.from(client)` on top, encrypt and
 * decrypt the configured tables' items on their own.
 *
 * @example
 * const client = new DynamoDBClient({ region: "us-east-1" });
 * client.middlewareStack.use(getDynamoDbEncryptionPlugin({
 *   tableEncryptionConfigs: {
 *     Orders: {
 *       logicalTableName: "Orders", partitionKeyName: "pk", sortKeyName: "sk",
 *       attributeActionsOnEncrypt: { pk: "SIGN_ONLY", sk: "SIGN_ONLY", card: "ENCRYPT_AND_SIGN", total: "SIGN_ONLY" },
 *       keyring,
 *     },
 *   },
 * }));
 * await client.send(new PutItemCommand({ TableName: "Orders", Item: { pk: { S: "c#1" }, sk: { S: "o#1" }, card: { S: "4111 1111 1111 1111" }, total: { N: "12" } } }));
 */
export function getDynamoDbEncryptionPlugin(config: DynamoDbEncryptionConfig): DynamoDbEncryptionPlugin {
  const encryptors = reading("INVALID_CONFIG", "the DynamoDB encryption config", () => {
    if (typeof config !== "object" || config === null) throw configError("getDynamoDbEncryptionPlugin needs { tableEncryptionConfigs }");
    for (const key of Object.keys(config)) {
      if (key !== "tableEncryptionConfigs") throw configError(`unknown key ${JSON.stringify(key)} in the DynamoDB encryption config`);
    }
    const tables = config.tableEncryptionConfigs;
    if (typeof tables !== "object" || tables === null || Array.isArray(tables)) {
      throw configError("tableEncryptionConfigs must be an object of table name to table config");
    }
    const out: [string, ItemEncryptor][] = [];
    for (const table of Object.keys(tables)) {
      const tableConfig = tables[table] as DynamoDbTableEncryptionConfig;
      try {
        out.push([table, new ItemEncryptor(tableConfig)]);
      } catch (error) {
        if (error instanceof FieldsealError) {
          throw new FieldsealError(error.code, `tableEncryptionConfigs[${JSON.stringify(table)}]: ${error.message}`);
        }
        throw error;
      }
    }
    if (out.length === 0) throw configError("tableEncryptionConfigs names no table");
    return out;
  });

  let building: Promise<Built> | undefined;
  const built = (): Promise<Built> => {
    building ??= guarded(async () => {
      const wasm = await loadWasm();
      const rules = new wasm.WasmEncryptedTables();
      const tables: Tables = new Map();
      for (const [name, encryptor] of encryptors) {
        try {
          const handle = await ItemEncryptor.wasmOf(encryptor);
          rules.addTable(name, handle);
          tables.set(name, { encryptor, wasm: handle, searchable: encryptor.config.search !== undefined });
        } catch (error) {
          const e = toFieldsealError(error);
          throw new FieldsealError(e.code, `tableEncryptionConfigs[${JSON.stringify(name)}]: ${e.message}`);
        }
      }
      return { rules, tables };
    });
    // A failed load (WASM_LOAD_FAILED) is retried on the next request; a config rule is final.
    building.catch((error: FieldsealError) => {
      if (error.code === "WASM_LOAD_FAILED") building = undefined;
    });
    return building;
  };

  // Serialize step, right before the serializer: after lib-dynamodb's
  // DocumentClient has marshalled plain objects, before anything is signed
  // or sent; retries (finalize step) reuse what was sealed once.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const middleware = (next: any, context: LogContext & { commandName?: string }) => async (args: { input: unknown }) => {
    const operation = String(context?.commandName ?? "").replace(/Command$/, "");
    if (!HANDLED.has(operation)) return next(args);
    const { rules, tables } = await built();
    hidePlaintextFromLogs(context, tables, operation);
    const original = args.input as Obj;
    const input = await guarded(() => beforeRequest(rules, tables, operation, original));
    let result;
    try {
      result = await next(input === original ? args : { ...args, input });
    } catch (error) {
      await openConditionFailure(tables, operation, original, error);
      throw error;
    }
    // lib-dynamodb's DocumentClient has unmarshalled the output already (its
    // DocumentUnmarshall sits below any client middleware): open plain objects.
    const document = (context as { __aws_sdk_context?: { features?: Record<string, unknown> } })?.__aws_sdk_context?.features?.DDB_MAPPER !== undefined;
    const output = await guarded(() => afterResponse(rules, tables, operation, original, input, result.output, document));
    return output === result.output ? result : { ...result, output };
  };

  /** The stacks this plug-in was added to: queryAllPartitions sends only through a client that has it. */
  const stacks = new WeakSet<object>();

  const plugin: DynamoDbEncryptionPlugin = {
    applyToStack(stack: MiddlewareStackLike) {
      if (typeof stack === "object" && stack !== null) stacks.add(stack);
      // Right before the serializer: inside lib-dynamodb's DocumentMarshall
      // (also "before serializerMiddleware", and added after the client's
      // middleware), so requests arrive as AttributeValues in both clients.
      stack.addRelativeTo(middleware, {
        relation: "after",
        toMiddleware: "endpointV2Middleware",
        name: DYNAMODB_ENCRYPTION_MIDDLEWARE,
        override: true,
        tags: ["FIELDSEAL", "ENCRYPTION"],
      });
    },
    async ready() {
      await built();
    },
    getNumberOfQueries(input: BeaconQueryInput): Promise<number> {
      return guarded(async () => {
        const { rules, tables } = await built();
        const query = reading("REQUEST_REFUSED", "the Query input", () => queryParts(input, "getNumberOfQueries"));
        if (!tables.get(query.table)?.searchable) return 1;
        return rules.numberOfQueries(query.table, query.keyCondition, query.names, query.values);
      });
    },
    queryAllPartitions(client: QueryClient, input: BeaconQueryInput): Promise<{ Items: Item[]; Count: number }> {
      return guarded(async () => {
        const stack = (client as { middlewareStack?: unknown } | null)?.middlewareStack;
        if (typeof client?.send !== "function" || typeof stack !== "object" || stack === null || !stacks.has(stack)) {
          throw configError("queryAllPartitions needs a DynamoDB client this plug-in was added to (client.middlewareStack.use(plugin))");
        }
        const { rules, tables } = await built();
        const q = reading("REQUEST_REFUSED", "the Query input", () => queryParts(input, "queryAllPartitions"));
        const searchable = tables.get(q.table)?.searchable === true;
        const count = searchable ? rules.numberOfQueries(q.table, q.keyCondition, q.names, q.values) : 1;
        // A partitioned table wants the partition named even when one query does.
        const partitioned = searchable && rules.partitionCount(q.table) > 1;
        const Items: Item[] = [];
        for (let partition = 0; partition < count; partition++) {
          // Spec: changes/2025-08-25-beacon-partitions: one query per partition, named by :aws_dbe_partition.
          const values = partitioned ? { ...input.ExpressionAttributeValues, [PARTITION]: { N: String(partition) } } : input.ExpressionAttributeValues;
          let start = input.ExclusiveStartKey;
          do {
            const page = await client.send(new QueryCommand({ ...input, ExpressionAttributeValues: values, ExclusiveStartKey: start } as never));
            Items.push(...((page?.Items ?? []) as Item[]));
            start = page?.LastEvaluatedKey && Object.keys(page.LastEvaluatedKey).length > 0 ? page.LastEvaluatedKey : undefined;
          } while (start !== undefined);
        }
        return { Items, Count: Items.length };
      });
    },
    resolveAttributes(input: { TableName: string; Item: ItemInput; Version?: number }): Promise<ResolveAttributesOutput> {
      return guarded(async () => {
        const { tables } = await built();
        const { TableName, Item, Version } = reading("INVALID_ITEM", "the resolveAttributes input", () => {
          if (typeof input !== "object" || input === null) throw new FieldsealError("INVALID_ITEM", "resolveAttributes needs { TableName, Item, Version? }");
          return { TableName: input.TableName, Item: input.Item, Version: input.Version };
        });
        if (typeof TableName !== "string") throw new FieldsealError("INVALID_ITEM", "resolveAttributes: TableName must be a string");
        if (Version !== undefined && !(Number.isInteger(Version) && Version >= 1)) throw new FieldsealError("INVALID_ITEM", "resolveAttributes: Version must be a positive integer");
        const table = tables.get(TableName);
        if (!table?.searchable) return { VirtualFields: {}, CompoundBeacons: {} };
        return table.wasm.resolveAttributes(Item, Version);
      });
    },
  };
  return plugin;
}

/** The expression value that names a query's partition (aws-db-esdk 1.3). */
const PARTITION = ":aws_dbe_partition";

/** A Query or Scan input's expressions as the wasm layer takes them (names flattened to `[#n, name, ...]`). */
type QueryParts = { table: string; keyCondition?: string; filter?: string; projection?: string; names: string[]; values?: ItemInput };

function queryParts(input: Obj, path: string): QueryParts {
  if (typeof input !== "object" || input === null) throw refused(`${path} needs an input object`);
  const names: string[] = [];
  const nameMap = input.ExpressionAttributeNames;
  if (nameMap !== undefined && nameMap !== null) {
    if (typeof nameMap !== "object") throw refused(`${path}.ExpressionAttributeNames must be an object`);
    for (const [key, name] of Object.entries(nameMap)) {
      if (typeof name !== "string") throw refused(`${path}.ExpressionAttributeNames[${JSON.stringify(key)}] must be a string`);
      names.push(key, name);
    }
  }
  const values = input.ExpressionAttributeValues ?? undefined;
  if (values !== undefined && (typeof values !== "object" || Array.isArray(values))) throw refused(`${path}.ExpressionAttributeValues must be an object`);
  return {
    table: tableName(input, path),
    keyCondition: optionalString(input, "KeyConditionExpression", path),
    filter: optionalString(input, "FilterExpression", path),
    projection: optionalString(input, "ProjectionExpression", path),
    names,
    values,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;
/** A configured table: its encryptor (for its config) and that encryptor's WebAssembly side. */
type Table = { encryptor: ItemEncryptor; wasm: WasmItemEncryptor; searchable: boolean };
type Tables = Map<string, Table>;
type Built = { rules: WasmEncryptedTables; tables: Tables };

/** What the SDK's logger middleware logs through (it reads these after the request). */
type LogContext = {
  inputFilterSensitiveLog?: (input: Obj) => unknown;
  outputFilterSensitiveLog?: (output: Obj) => unknown;
  dynamoDbDocumentClientOptions?: { overrideInputFilterSensitiveLog?: (input: Obj) => unknown; overrideOutputFilterSensitiveLog?: (output: Obj) => unknown };
};

/** The AWS SDK's marker for a value kept out of logs. */
const SENSITIVE = "***SensitiveInformation***";

/**
 * The SDK's logger middleware (outside this plug-in) logs each command's
 * input and output when a logger is configured: with the plug-in, that is
 * plaintext. Its filters are wrapped so that ENCRYPT_AND_SIGN attributes of
 * configured tables are logged as the SDK's sensitive-value marker.
 */
function hidePlaintextFromLogs(context: LogContext, tables: Tables, operation: string): void {
  if (typeof context !== "object" || context === null) return;
  // No logger (the SDK's default NoOpLogger, found by name as lib-dynamodb
  // finds it): the SDK would still run its filters over every item it never
  // logs, so give it filters that do nothing.
  const logger = (context as { logger?: { constructor?: { name?: string } } }).logger;
  if (!logger || logger.constructor?.name === "NoOpLogger") {
    const nothing = (): unknown => ({});
    context.inputFilterSensitiveLog = nothing;
    context.outputFilterSensitiveLog = nothing;
    if (context.dynamoDbDocumentClientOptions) {
      context.dynamoDbDocumentClientOptions = { ...context.dynamoDbDocumentClientOptions, overrideInputFilterSensitiveLog: nothing, overrideOutputFilterSensitiveLog: nothing };
    }
    return;
  }
  const hide = (item: unknown, table: unknown): unknown => {
    const t = typeof table === "string" ? tables.get(table) : undefined;
    if (!t || typeof item !== "object" || item === null) return item;
    const out: Obj = { ...item };
    for (const [name, action] of Object.entries(t.encryptor.config.attributeActionsOnEncrypt)) {
      if (action === "ENCRYPT_AND_SIGN" && name in out) out[name] = SENSITIVE;
    }
    return out;
  };
  // Values an expression compares with (on a refused request: maybe an encrypted attribute's plaintext).
  const hideValues = (part: Obj, table: unknown): Obj =>
    tables.has(table as string) && part.ExpressionAttributeValues && typeof part.ExpressionAttributeValues === "object"
      ? { ...part, ExpressionAttributeValues: Object.fromEntries(Object.keys(part.ExpressionAttributeValues).map((k) => [k, SENSITIVE])) }
      : part;
  const perTable = (map: unknown, each: (entry: unknown, table: string) => unknown): unknown =>
    map && typeof map === "object" ? Object.fromEntries(Object.entries(map).map(([t, v]) => [t, Array.isArray(v) ? v.map((e) => each(e, t)) : v])) : map;
  /** A BatchWriteItem entry with its PutRequest's item hidden. */
  const hidePut = (e: unknown, table: string): unknown => {
    const put = (e as Obj)?.PutRequest;
    return put ? { ...(e as Obj), PutRequest: { ...put, Item: hide(put.Item, table) } } : e;
  };
  let lastInput: Obj = {};
  const input = (v: Obj): unknown => {
    if (typeof v !== "object" || v === null) return v;
    lastInput = v;
    switch (operation) {
      case "PutItem":
        return { ...hideValues(v, v.TableName), Item: hide(v.Item, v.TableName) };
      case "BatchWriteItem":
        return { ...v, RequestItems: perTable(v.RequestItems, hidePut) };
      case "TransactWriteItems":
        return {
          ...v,
          TransactItems: Array.isArray(v.TransactItems)
            ? v.TransactItems.map((e: Obj) =>
                e && typeof e === "object"
                  ? Object.fromEntries(
                      Object.entries(e).map(([kind, part]: [string, Obj]) => {
                        if (!part || typeof part !== "object") return [kind, part];
                        const hidden = hideValues(part, part.TableName);
                        return [kind, kind === "Put" ? { ...hidden, Item: hide(part.Item, part.TableName) } : hidden];
                      }),
                    )
                  : e,
              )
            : v.TransactItems,
        };
      default:
        return hideValues(v, v.TableName);
    }
  };
  const output = (v: Obj): unknown => {
    if (typeof v !== "object" || v === null) return v;
    const table = lastInput.TableName;
    switch (operation) {
      case "GetItem":
        return { ...v, Item: hide(v.Item, table) };
      case "PutItem":
      case "DeleteItem":
      case "UpdateItem":
        return { ...v, Attributes: hide(v.Attributes, table) };
      case "Query":
      case "Scan":
        return { ...v, Items: Array.isArray(v.Items) ? v.Items.map((i: unknown) => hide(i, table)) : v.Items };
      case "BatchGetItem":
        return { ...v, Responses: perTable(v.Responses, hide) };
      case "TransactGetItems": {
        const asked = Array.isArray(lastInput.TransactItems) ? lastInput.TransactItems : [];
        return { ...v, Responses: Array.isArray(v.Responses) ? v.Responses.map((r: Obj, i: number) => (r ? { ...r, Item: hide(r.Item, asked[i]?.Get?.TableName) } : r)) : v.Responses };
      }
      case "BatchWriteItem":
        return { ...v, UnprocessedItems: perTable(v.UnprocessedItems, hidePut) };
      default:
        return v;
    }
  };
  const after = (filter: ((x: Obj) => unknown) | undefined, mine: (x: Obj) => unknown) => (x: Obj) => mine((filter ? filter(x) : x) as Obj);
  context.inputFilterSensitiveLog = after(context.inputFilterSensitiveLog, input);
  context.outputFilterSensitiveLog = after(context.outputFilterSensitiveLog, output);
  const doc = context.dynamoDbDocumentClientOptions;
  if (doc) {
    context.dynamoDbDocumentClientOptions = {
      ...doc,
      overrideInputFilterSensitiveLog: doc.overrideInputFilterSensitiveLog && after(doc.overrideInputFilterSensitiveLog, input),
      overrideOutputFilterSensitiveLog: doc.overrideOutputFilterSensitiveLog && after(doc.overrideOutputFilterSensitiveLog, output),
    };
  }
}

/** The operations with rules; every other one passes through untouched, as in the reference interceptor. */
const HANDLED: ReadonlySet<string> = new Set([
  "PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchWriteItem", "BatchGetItem",
  "TransactWriteItems", "TransactGetItems", "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction",
]);

function refused(message: string): FieldsealError {
  return new FieldsealError("REQUEST_REFUSED", message);
}

/** Whether a parameter is set: not absent, null, or an empty list or map (the reference's test for a legacy parameter). */
function isSet(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object" && !(value instanceof Uint8Array)) return Object.keys(value).length > 0;
  return true;
}

function optionalString(part: Obj, key: string, path: string): string | undefined {
  const value = part[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw refused(`${path}.${key} must be a string`);
  return value;
}

function tableName(part: Obj, path: string): string {
  const table = optionalString(part ?? {}, "TableName", path);
  if (table === undefined) throw refused(`${path}.TableName is missing`);
  return table;
}

/** The core's rules for one table-addressed part (the whole input, or an entry of a batch or transaction). */
function check(rules: WasmEncryptedTables, tables: Tables, operation: string, part: Obj, table: string, path: string): void {
  if (!tables.has(table)) return;
  const names: string[] = [];
  const nameMap = part.ExpressionAttributeNames;
  if (nameMap !== undefined && nameMap !== null) {
    for (const [key, name] of Object.entries(nameMap)) {
      if (typeof name !== "string") throw refused(`${path}.ExpressionAttributeNames[${JSON.stringify(key)}] must be a string`);
      names.push(key, name);
    }
  }
  const toGet = part.AttributesToGet;
  if (toGet !== undefined && toGet !== null && (!Array.isArray(toGet) || !toGet.every((a) => typeof a === "string"))) {
    throw refused(`${path}.AttributesToGet must be an array of strings`);
  }
  rules.checkRequest(
    operation,
    table,
    Object.keys(part).filter((key) => isSet(part[key])),
    optionalString(part, "ConditionExpression", path),
    optionalString(part, "UpdateExpression", path),
    optionalString(part, "KeyConditionExpression", path),
    optionalString(part, "FilterExpression", path),
    optionalString(part, "ProjectionExpression", path),
    toGet ?? undefined,
    names,
  );
}

/** A list from a request or response; absent is empty. */
function entries(value: unknown, path: string): Obj[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw refused(`${path} must be an array`);
  return value;
}

function tableMap(value: unknown, path: string): [string, unknown][] {
  if (value === undefined || value === null) return [];
  if (typeof value !== "object" || Array.isArray(value)) throw refused(`${path} must be an object of table name to requests`);
  return Object.entries(value);
}

/** A key attribute for messages: `pk=S:"a"`, numbers as they are, binary in base64. */
function keyText(key: Item): string {
  const parts = Object.entries(key).map(([name, value]) => {
    if ("S" in value) return `${name}=S:${JSON.stringify(value.S)}`;
    if ("N" in value) return `${name}=N:${value.N}`;
    if ("B" in value) return `${name}=B:${btoa(String.fromCharCode(...(value.B as Uint8Array)))}`;
    return `${name}=${Object.keys(value)[0]}`;
  });
  return parts.length ? parts.join(" ") : "(no key attributes)";
}

/** The item's partition and sort key attributes, as far as it has them. */
function keyOf(encryptor: ItemEncryptor, item: Item): Item {
  const key: Item = {};
  for (const name of [encryptor.config.partitionKeyName, encryptor.config.sortKeyName]) {
    if (name !== undefined && item && Object.prototype.hasOwnProperty.call(item, name)) key[name] = item[name]!;
  }
  return key;
}

/**
 * Seal or open the items of one table in one call; a failure names the
 * table and the failing item's key (its key attributes are never encrypted).
 */
async function each(tables: Tables, table: string, items: Item[], seal: boolean): Promise<Item[]> {
  const { encryptor, wasm } = tables.get(table)!;
  try {
    return await (seal ? wasm.encryptItems(items) : wasm.decryptItems(items));
  } catch (error) {
    throw itemError(encryptor, table, items, error);
  }
}

/** A batch's error (its `itemIndex`, if any, names the item) as the table's and that item's. */
function itemError(encryptor: ItemEncryptor, table: string, items: Item[], error: unknown): FieldsealError {
  const e = toFieldsealError(error);
  const index = (error as { itemIndex?: unknown }).itemIndex;
  const item = typeof index === "number" ? items[index] : undefined;
  if (item === undefined) return new FieldsealError(e.code, `table ${JSON.stringify(table)}: ${e.message}`, { cause: error, table });
  const itemKey = keyOf(encryptor, item);
  const why = e.message.replace(/^item #\d+: /, "");
  return new FieldsealError(e.code, `table ${JSON.stringify(table)}, item ${keyText(itemKey)}: ${why}`, { cause: error, table, itemKey });
}

/** Check the input of `operation` and seal what it writes; the same object when nothing changes, else a copy. */
async function beforeRequest(rules: WasmEncryptedTables, tables: Tables, operation: string, input: Obj): Promise<Obj> {
  if (typeof input !== "object" || input === null) throw refused(`${operation} needs an input object`);
  switch (operation) {
    case "PutItem": {
      const table = tableName(input, operation);
      check(rules, tables, operation, input, table, operation);
      if (!tables.has(table)) return input;
      const [Item] = await each(tables, table, [input.Item], true);
      return { ...input, Item };
    }
    case "GetItem":
    case "UpdateItem":
    case "DeleteItem":
      check(rules, tables, operation, input, tableName(input, operation), operation);
      return input;
    case "Query":
    case "Scan": {
      const table = tableName(input, operation);
      check(rules, tables, operation, input, table, operation);
      if (!tables.get(table)?.searchable) return input;
      // Spec: ddb-support.md#queryinputforbeacons / #scaninputforbeacons: the expressions on beacons.
      const q = queryParts(input, operation);
      const rewritten: Obj = await rules.rewriteQuery(operation, table, q.keyCondition, q.filter, q.projection, q.names, q.values);
      const out: Obj = { ...input };
      for (const key of ["KeyConditionExpression", "FilterExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"]) {
        if (rewritten[key] === undefined) delete out[key];
        else out[key] = rewritten[key];
      }
      return out;
    }
    case "BatchWriteItem": {
      let RequestItems: Obj | undefined;
      for (const [table, requests] of tableMap(input.RequestItems, "BatchWriteItem.RequestItems")) {
        if (!tables.has(table)) continue;
        const path = `BatchWriteItem.RequestItems[${JSON.stringify(table)}]`;
        const list = entries(requests, path);
        const puts = list.flatMap((entry, i) => (entry?.PutRequest ? [i] : []));
        if (puts.length === 0) continue;
        const sealed = await each(tables, table, puts.map((i) => list[i]!.PutRequest.Item), true);
        const copy = [...list];
        puts.forEach((i, n) => (copy[i] = { ...list[i], PutRequest: { ...list[i]!.PutRequest, Item: sealed[n] } }));
        (RequestItems ??= { ...input.RequestItems })[table] = copy;
      }
      return RequestItems ? { ...input, RequestItems } : input;
    }
    case "BatchGetItem":
      for (const [table, keys] of tableMap(input.RequestItems, "BatchGetItem.RequestItems")) {
        check(rules, tables, operation, (keys ?? {}) as Obj, table, `BatchGetItem.RequestItems[${JSON.stringify(table)}]`);
      }
      return input;
    case "TransactWriteItems": {
      const list = entries(input.TransactItems, "TransactWriteItems.TransactItems");
      let copy: Obj[] | undefined;
      for (const [i, entry] of list.entries()) {
        const path = `TransactWriteItems.TransactItems[${i}]`;
        const kinds = (["Put", "Update", "Delete", "ConditionCheck"] as const).filter((k) => entry?.[k] !== undefined && entry?.[k] !== null);
        // Spec: ddb-sdk-integration.md#encrypt-before-transactwriteitems (a possible fifth field)
        if (kinds.length === 0) throw refused(`${path} has none of Put, Update, Delete and ConditionCheck`);
        for (const kind of kinds) {
          const part = entry[kind] as Obj;
          const table = tableName(part, `${path}.${kind}`);
          check(rules, tables, `Transact${kind}`, part, table, `${path}.${kind}`);
          if (kind === "Put" && tables.has(table)) {
            const [Item] = await each(tables, table, [part.Item], true);
            (copy ??= [...list])[i] = { ...entry, Put: { ...part, Item } };
          }
        }
      }
      return copy ? { ...input, TransactItems: copy } : input;
    }
    case "TransactGetItems":
      for (const [i, entry] of entries(input.TransactItems, "TransactGetItems.TransactItems").entries()) {
        const path = `TransactGetItems.TransactItems[${i}].Get`;
        if (entry?.Get) check(rules, tables, "TransactGet", entry.Get, tableName(entry.Get, path), path);
      }
      return input;
    case "ExecuteStatement":
      rules.checkStatement(operation, optionalString(input, "Statement", operation) ?? "");
      return input;
    default: {
      // BatchExecuteStatement, ExecuteTransaction
      const key = operation === "ExecuteTransaction" ? "TransactStatements" : "Statements";
      for (const [i, entry] of entries(input[key], `${operation}.${key}`).entries()) {
        rules.checkStatement(operation, optionalString(entry ?? {}, "Statement", `${operation}.${key}[${i}]`) ?? "");
      }
      return input;
    }
  }
}

/**
 * `ReturnValuesOnConditionCheckFailure: "ALL_OLD"` puts the stored item in
 * the ConditionalCheckFailedException: open it, as a successful call's
 * `Attributes` are. (The reference interceptor leaves errors alone.) If it
 * does not open, it stays as stored: the failed condition is the error to report.
 */
async function openConditionFailure(tables: Tables, operation: string, input: Obj, error: unknown): Promise<void> {
  const failure = error as { name?: unknown; Item?: unknown } | null;
  const table = input?.TableName;
  if (failure?.name !== "ConditionalCheckFailedException" || typeof failure.Item !== "object" || failure.Item === null) return;
  if (!["PutItem", "UpdateItem", "DeleteItem"].includes(operation) || !tables.has(table)) return;
  try {
    [failure.Item] = await each(tables, table, [failure.Item as Item], false);
  } catch {
    // Left sealed.
  }
}

function sameKey(encryptor: ItemEncryptor, a: Item, b: Item): boolean {
  for (const name of [encryptor.config.partitionKeyName, encryptor.config.sortKeyName]) {
    if (name === undefined) continue;
    const x = a?.[name] as AttributeValue | undefined;
    const y = b?.[name] as AttributeValue | undefined;
    if (x === undefined || y === undefined) {
      if (x !== y) return false;
      continue;
    }
    if ("S" in x || "N" in x) {
      if (!("S" in x ? "S" in y && y.S === x.S : "N" in y && y.N === x.N)) return false;
    } else if ("B" in x && "B" in y) {
      const p = x.B as Uint8Array, q = y.B as Uint8Array;
      if (p.length !== q.length || p.some((byte, k) => byte !== q[k])) return false;
    } else return false;
  }
  return true;
}

/**
 * Open what `operation` read from encrypted tables (`input` is the caller's
 * input, `sent` what was sent); the same object when nothing changes.
 */
async function afterResponse(rules: WasmEncryptedTables, tables: Tables, operation: string, input: Obj, sent: Obj, output: Obj, document: boolean): Promise<Obj> {
  if (typeof output !== "object" || output === null) return output;
  /** Open items of one table; DocumentClient items are plain objects, and go back as such. */
  const open = async (table: string, items: Obj[]): Promise<Obj[]> => {
    if (!document) return each(tables, table, items as Item[], false);
    const opened = await each(tables, table, items.map((item, i) => marshallRecord(item, `item #${i}`)), false);
    return opened.map((item) => unmarshallItem(item));
  };
  switch (operation) {
    case "GetItem":
    case "PutItem":
    case "DeleteItem":
    case "UpdateItem": {
      const table = input.TableName as string;
      const field = operation === "GetItem" ? "Item" : "Attributes";
      if (!tables.has(table) || !output[field]) return output;
      if (operation === "UpdateItem") {
        const returnValues = input.ReturnValues;
        if (returnValues === "UPDATED_OLD" || returnValues === "UPDATED_NEW") {
          rules.checkUpdatedAttributes(table, Object.keys(output[field]));
          return output;
        }
        if (returnValues !== "ALL_OLD" && returnValues !== "ALL_NEW") return output;
      }
      const [opened] = await open(table, [output[field]]);
      return { ...output, [field]: opened };
    }
    case "Query":
    case "Scan": {
      const table = input.TableName as string;
      if (!tables.has(table) || !Array.isArray(output.Items) || output.Items.length === 0) return output;
      if (!tables.get(table)!.searchable) return { ...output, Items: await open(table, output.Items) };
      // Spec: ddb-support.md#queryoutputforbeacons: opened, then filtered by the
      // caller's own expression (truncated beacons match other values too), Count fixed.
      const q = queryParts(input, operation);
      const sealed = document ? output.Items.map((item: Obj, i: number) => marshallRecord(item, `item #${i}`)) : output.Items;
      let opened: Item[];
      try {
        opened = await rules.openQueryItems(operation, table, q.keyCondition, q.filter, q.projection, q.names, q.values, sealed);
      } catch (error) {
        throw itemError(tables.get(table)!.encryptor, table, sealed, error);
      }
      const Items = document ? opened.map((item) => unmarshallItem(item)) : opened;
      return output.Count === undefined ? { ...output, Items } : { ...output, Items, Count: Items.length };
    }
    case "BatchGetItem": {
      let Responses: Obj | undefined;
      for (const [table, items] of tableMap(output.Responses, "BatchGetItem.Responses")) {
        if (!tables.has(table) || !Array.isArray(items) || items.length === 0) continue;
        (Responses ??= { ...output.Responses })[table] = await open(table, items);
      }
      return Responses ? { ...output, Responses } : output;
    }
    case "TransactGetItems": {
      const requested = entries(input.TransactItems, "TransactGetItems.TransactItems");
      const responses = entries(output.Responses, "TransactGetItems.Responses");
      let copy: Obj[] | undefined;
      for (const [i, response] of responses.entries()) {
        const table = requested[i]?.Get?.TableName as string;
        if (!tables.has(table) || !response?.Item) continue;
        const [Item] = await open(table, [response.Item]);
        (copy ??= [...responses])[i] = { ...response, Item };
      }
      return copy ? { ...output, Responses: copy } : output;
    }
    case "BatchWriteItem": {
      // Spec: ddb-sdk-integration.md#decrypt-after-batchwriteitem: the caller's own items, matched by key.
      let UnprocessedItems: Obj | undefined;
      for (const [table, requests] of tableMap(output.UnprocessedItems, "BatchWriteItem.UnprocessedItems")) {
        if (!tables.has(table)) continue;
        const { encryptor } = tables.get(table)!;
        const originals = entries(input.RequestItems?.[table], "BatchWriteItem.RequestItems").filter((e) => e?.PutRequest);
        const sealed = entries(sent.RequestItems?.[table], "BatchWriteItem.RequestItems").filter((e) => e?.PutRequest);
        const back = entries(requests, "BatchWriteItem.UnprocessedItems").map((entry) => {
          if (!entry?.PutRequest) return entry;
          const back = document ? marshallRecord(entry.PutRequest.Item) : entry.PutRequest.Item;
          const index = sealed.findIndex((s) => sameKey(encryptor, s.PutRequest.Item, back));
          if (index < 0) {
            throw new FieldsealError("INTERNAL_ERROR", `table ${JSON.stringify(table)}: an item in UnprocessedItems matches no item of the request`);
          }
          const mine = originals[index]!.PutRequest.Item;
          return { ...entry, PutRequest: { ...entry.PutRequest, Item: document ? unmarshallItem(mine) : mine } };
        });
        (UnprocessedItems ??= { ...output.UnprocessedItems })[table] = back;
      }
      return UnprocessedItems ? { ...output, UnprocessedItems } : output;
    }
    default:
      return output;
  }
}
