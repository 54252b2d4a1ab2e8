// The demo page: a form for an order, Seal / Upload / Load & open / Tamper,
// two key providers (lib/providers.js; KMS mode with a multi-Region or a
// hierarchical keyring), timings, KMS and key store call counts, the keys
// each operation used (onKeyUse) and a throughput chart. Every failure is
// shown in the page's error panel.
//
// Seal is a preview in this page (ItemEncryptor.encryptItem / encryptRecord).
// In KMS mode, Upload and Load & open go through fieldseal's DynamoDB plug-in
// (fieldseal/dynamodb) on a DynamoDBClient: the plaintext item is put, the
// plug-in seals it, and GetItem comes back opened. The sealed view then shows
// the stored bytes, read by a second client without the plug-in. The embedded
// mode keeps its items in IndexedDB, sealed and opened with ItemEncryptor.
import { FieldsealError, ItemEncryptor } from "fieldseal";
import { base64Preview, toDynamoJson } from "./lib/bytes.js";
import { callsChart, throughputChart } from "./lib/chart.js";
import { embeddedProvider, kmsProvider } from "./lib/providers.js";
import { sampleOrders, SEARCH_ACTIONS, searchProvider, searchQuery, STATUSES } from "./lib/search.js";
import { insertStatement } from "./lib/sql.js";

/** Bound into every item's encryption context: seal and open must agree. */
const LOGICAL_TABLE = "FieldsealDemoOrders";
const SQL_TABLE = "orders";
const PARTITION_KEY = "order_id";
const ACTIONS = ["ENCRYPT_AND_SIGN", "SIGN_ONLY", "DO_NOTHING"];
const randomId = () => Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, "0")).join("");

const FIELDS = [
  { name: PARTITION_KEY, label: "Order id", type: "S", action: "SIGN_ONLY", value: () => `order-${randomId()}`, key: true },
  { name: "customer_name", label: "Customer name", type: "S", action: "ENCRYPT_AND_SIGN", value: () => "Ada Lovelace" },
  { name: "email", label: "Email", type: "S", action: "ENCRYPT_AND_SIGN", value: () => "ada@example.com" },
  { name: "card_number", label: "Card number", type: "S", action: "ENCRYPT_AND_SIGN", value: () => "4111 1111 1111 1111" },
  { name: "address", label: "Address", type: "S", action: "ENCRYPT_AND_SIGN", value: () => "12 St James's Square, London SW1Y 4JH" },
  { name: "amount", label: "Amount", type: "N", action: "SIGN_ONLY", value: () => "129.95" },
  { name: "created_at", label: "Created at", type: "S", action: "DO_NOTHING", value: () => new Date().toISOString().replace(/\.\d+Z$/, "Z") },
];

const $ = (selector) => document.querySelector(selector);
const h = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.includes("-") || ["title", "colspan", "for", "id"].includes(k)) node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
};
const chipClass = { ENCRYPT_AND_SIGN: "enc", SIGN_ONLY: "sig", DO_NOTHING: "none" };
const ms = (t) => (t < 10 ? t.toFixed(2) : t < 100 ? t.toFixed(1) : t.toFixed(0));

// ------------------------------------------------------------------ state

const state = {
  mode: "embedded",
  providers: { embedded: null, kms: null },
  kmsConfig: null,
  sealed: null, // { item, key, mode, suite } for the form as it is now
  calls: {}, // region -> op -> count (KMS)
  storeCalls: {}, // op -> count (the branch key store's DynamoDB calls)
  itemRequests: [], // the items' DynamoDB requests, newest first: { op, via: "plugin" | "plain", given, sent, received, returned }
  lastAnswer: null,
  lastStoreRead: null,
  keyUses: { operations: 0, cacheHits: 0, last: null }, // from the encryptor's onKeyUse
  tampered: null, // { key, mode, note } of the last Tamper, until the next Upload of that key
  ops: 0,
};
const provider = () => state.providers[state.mode];
const hierarchyMode = () => state.mode === "kms" && provider()?.keyringKind === "hierarchy";
const providerLabel = () => (state.mode !== "kms" ? "embedded" : hierarchyMode() ? "KMS hierarchy" : "KMS");

// ------------------------------------------------------------------- form

function buildForm() {
  const body = $("#fields");
  for (const f of FIELDS) {
    const input = h("input", { id: `f-${f.name}`, name: f.name, value: f.value(), spellcheck: false, "data-type": f.type });
    if (f.type === "N") input.inputMode = "decimal";
    const select = h("select", { id: `a-${f.name}`, name: `action-${f.name}`, "aria-label": `action for ${f.name}` },
      ACTIONS.map((a) => h("option", { value: a, selected: a === f.action, disabled: f.key && a !== "SIGN_ONLY" }, a)));
    select.className = `action ${chipClass[f.action]}`;
    const note = f.key ? h("small", { class: "muted" }, "partition key: stays signed") : null;
    body.append(h("tr", { "data-attr": f.name },
      h("th", { scope: "row" }, h("label", { for: `f-${f.name}` }, f.label), h("code", {}, f.name), h("small", { class: "type" }, f.type)),
      h("td", {}, input),
      h("td", {}, select, note)));
  }
  $("#record").addEventListener("input", onFormChange);
  $("#record").addEventListener("change", (e) => {
    if (e.target.matches("select.action")) e.target.className = `action ${chipClass[e.target.value]}`;
    onFormChange();
  });
}

function onFormChange() {
  state.sealed = null;
}

const readActions = () => Object.fromEntries(FIELDS.map((f) => [f.name, $(`#a-${f.name}`).value]));
const readValues = () => Object.fromEntries(FIELDS.map((f) => [f.name, $(`#f-${f.name}`).value]));
const suite = () => $("#suite").value;

/** The form as a DynamoDB item (AttributeValue shape). */
function readItem() {
  const values = readValues();
  return Object.fromEntries(FIELDS.map((f) => [f.name, { [f.type]: values[f.name] }]));
}

/** The form as a plain record (a SQL row): numbers as numbers. */
function readRecord() {
  const values = readValues();
  return Object.fromEntries(FIELDS.map((f) => [f.name, f.type === "N" ? Number(values[f.name]) : values[f.name]]));
}

function encryptorConfig(keyring, suiteId = suite(), actions = readActions(), audit = state.mode === "kms") {
  return {
    logicalTableName: LOGICAL_TABLE,
    partitionKeyName: PARTITION_KEY,
    attributeActionsOnEncrypt: actions,
    allowedUnsignedAttributes: Object.keys(actions).filter((k) => actions[k] === "DO_NOTHING"),
    algorithmSuiteId: suiteId,
    keyring,
    // KMS mode shows which key each operation used (the client-side half of CloudTrail).
    ...(audit ? { onKeyUse } : {}),
  };
}

/** Run `fn` with a fresh encryptor, freed afterwards; `audit`: report key uses (onKeyUse). */
async function withEncryptor(keyring, fn, suiteId, audit) {
  const encryptor = new ItemEncryptor(encryptorConfig(keyring, suiteId, undefined, audit));
  try {
    return await fn(encryptor);
  } finally {
    encryptor.free();
  }
}

// --------------------------------------------------------- status, errors

function setStatus(text, kind = "") {
  const s = $("#status");
  s.textContent = text;
  s.dataset.kind = kind;
}

class DemoError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "DemoError";
    this.code = code;
  }
}

function errorCode(e) {
  if (e instanceof FieldsealError) return e.code;
  return e?.code || e?.name || "Error";
}

function showError(operation, e) {
  const code = errorCode(e);
  const message = e?.message || String(e);
  const item = h("li", { "data-code": code, "data-op": operation },
    h("span", { class: "code" }, code),
    h("span", { class: "op" }, `${operation} · ${providerLabel()}`),
    e instanceof FieldsealError ? h("span", { class: "kind" }, "FieldsealError") : null,
    h("p", { class: "message" }, message));
  $("#error-list").prepend(item);
  $("#errors").hidden = false;
  setStatus(`${operation} failed: ${code}`, "error");
}

window.addEventListener("error", (e) => showError("page", e.error ?? new Error(e.message)));
window.addEventListener("unhandledrejection", (e) => showError("page", e.reason));

const BUTTONS = ["#seal", "#upload", "#open", "#tamper", "#bench", "#kms-keyring"];
const SEARCH_BUTTONS = ["#search", "#search-seed", "#search-add"];
function setBusy(op) {
  if (op) document.body.dataset.busy = op;
  else delete document.body.dataset.busy;
  for (const b of BUTTONS) $(b).disabled = !!op;
  for (const b of SEARCH_BUTTONS) $(b).disabled = !!op || !search.kms;
  for (const input of document.querySelectorAll("input[name=provider]")) input.disabled = !!op || (input.value === "kms" && !state.kmsConfig);
}

/**
 * One user action: buttons are disabled while it runs, its outcome goes to
 * body[data-last] ("seal:ok", "open:error", ...) and failures to the error panel.
 */
async function run(op, label, fn) {
  if (document.body.dataset.busy) return;
  setBusy(op);
  setStatus(`${label}…`, "busy");
  let ok = false;
  try {
    await fn();
    ok = true;
  } catch (e) {
    showError(label, e);
  } finally {
    state.ops += 1;
    document.body.dataset.last = `${op}:${ok ? "ok" : "error"}`;
    document.body.dataset.ops = String(state.ops);
    setBusy(null);
  }
}

// ------------------------------------------------------------ KMS counts

function onKmsCall({ region, op, phase, keyId }) {
  if (phase === "sent") {
    state.calls[region] ??= {};
    state.calls[region][op] = (state.calls[region][op] ?? 0) + 1;
    state.pendingCalls?.push(`${op} ${region}`);
  } else {
    state.lastAnswer = { region, op, keyId };
  }
  renderCalls();
}

/** The KMS operations shown: the keyrings' two, then any other once called (createKey's GenerateDataKeyWithoutPlaintext, ReEncrypt). */
function kmsOps() {
  const seen = Object.values(state.calls).flatMap((ops) => Object.keys(ops));
  return [...new Set(["GenerateDataKey", "Decrypt", ...seen])];
}

/** An operation name that may wrap between its words (GenerateDataKeyWithoutPlaintext is wide). */
const breakable = (name) => name.split(/(?=[A-Z])/).flatMap((word, i) => (i ? [h("wbr"), word] : [word]));

/** Every KMS call so far, all regions and operations. */
const kmsTotal = () => Object.values(state.calls).reduce((n, ops) => n + Object.values(ops).reduce((a, b) => a + b, 0), 0);

function renderCalls() {
  const regions = [...new Set([state.kmsConfig?.home, state.kmsConfig?.replica, ...Object.keys(state.calls)].filter(Boolean))];
  const ops = kmsOps();
  $("#kms-calls thead").replaceChildren(h("tr", {}, h("th", { scope: "col" }, "region"), ops.map((op) => h("th", { scope: "col" }, breakable(op)))));
  $("#kms-calls tbody").replaceChildren(...regions.map((r) =>
    h("tr", { "data-region": r },
      h("th", { scope: "row" }, r),
      ops.map((op) => h("td", { class: "num", "data-op": op }, String(state.calls[r]?.[op] ?? 0))))));
  const a = state.lastAnswer;
  $("#kms-answer").replaceChildren(...(a
    ? ["Last answer: ", h("b", {}, `${a.op} in ${a.region}`), " by ", h("code", {}, a.keyId ?? "?")]
    : ["No KMS call yet."]));
}

const STORE_OPS = ["GetItem", "TransactWriteItems", "DescribeTable", "CreateTable"];

function onKeyStoreCall({ op, phase, branchKeyId, type }) {
  if (phase === "sent") {
    state.storeCalls[op] = (state.storeCalls[op] ?? 0) + 1;
    state.pendingCalls?.push(`${op} key store`);
  } else if (op === "GetItem") {
    state.lastStoreRead = { branchKeyId, type };
  }
  renderStoreCalls();
}

function renderStoreCalls() {
  const table = state.kmsConfig?.keyStore?.table;
  if (!table) return;
  $("#store-calls tbody").replaceChildren(
    h("tr", { "data-table": table },
      h("th", { scope: "row" }, breakable(table)),
      STORE_OPS.map((op) => h("td", { class: "num", "data-op": op }, String(state.storeCalls[op] ?? 0)))));
  const r = state.lastStoreRead;
  $("#store-answer").replaceChildren(...(r
    ? ["Last read: ", h("b", {}, `GetItem ${r.type}`), " of branch key ", h("code", {}, r.branchKeyId ?? "?")]
    : ["No branch key read yet."]));
}

/** One request for the items (lib/providers.js watchItemRequests), shown in the KMS card. */
function onItemRequest(request) {
  state.itemRequests.unshift(request);
  state.itemRequests.length = Math.min(state.itemRequests.length, 8);
  renderItemRequests();
}

/** An item as a request carried it: "7 attributes in the clear" or "9 attributes, sealed (…)". */
function shapeText(shape) {
  if (!shape) return "no item";
  if (!shape.sealed) return `${shape.attributes} attributes, in the clear`;
  const binary = shape.binary.filter((n) => !n.startsWith("aws_dbe_"));
  return `${shape.attributes} attributes, sealed (${binary.length ? `${binary.join(", ")} as B, ` : ""}aws_dbe_head, aws_dbe_foot)`;
}

function renderItemRequests() {
  $("#item-requests").replaceChildren(...state.itemRequests.map((r) => {
    const [outer, inner] = r.op === "PutItem" ? [r.given, r.sent] : [r.returned, r.received];
    const flow = r.op === "PutItem" ? `page gave ${shapeText(outer)} → sent ${shapeText(inner)}`
      : r.op === "GetItem" ? `received ${shapeText(inner)} → page got ${shapeText(outer)}`
        : "sent";
    return h("li", {
      "data-op": r.op, "data-via": r.via,
      "data-given-sealed": String(!!r.given?.sealed), "data-sent-sealed": String(!!r.sent?.sealed),
      "data-received-sealed": String(!!r.received?.sealed), "data-returned-sealed": String(!!r.returned?.sealed),
    }, h("b", {}, r.op), " ", h("span", { class: `chip ${r.via === "plugin" ? "enc" : "meta"}` },
      r.via === "plugin" ? "fieldseal/dynamodb plug-in" : "client without the plug-in"), " ", flow);
  }));
}

/** The encryptor's audit callback: one event per item sealed or opened, never key bytes. */
function onKeyUse(event) {
  state.keyUses.operations += 1;
  if (event.keys.some((k) => k.cacheHit)) state.keyUses.cacheHits += 1;
  state.keyUses.last = event;
  if (!state.keyUseFrame) state.keyUseFrame = requestAnimationFrame(renderKeyUse); // thousands in a throughput run
}

function renderKeyUse() {
  state.keyUseFrame = 0;
  const e = state.keyUses.last;
  if (!e) return;
  const itemKey = e.itemKey[PARTITION_KEY]?.S ?? "?";
  $("#key-use").replaceChildren("Last key use (", h("code", {}, "onKeyUse"), "): ", h("b", {}, `${e.operation} ${itemKey}`), ...e.keys.flatMap((k) => [
    " · ", h("code", {}, k.keyProviderId), " ", h("code", {}, k.key),
    k.branchKeyVersion ? ` version ${k.branchKeyVersion}` : "",
    k.keyProviderId === "aws-kms-hierarchy" ? (k.cacheHit ? " (from the cache)" : " (read from the store)") : "",
  ]));
}

/** Time `fn`, noting the KMS calls it made; adds a row to the timings table. */
async function timed(operation, fn, label = providerLabel()) {
  const calls = [];
  state.pendingCalls = calls;
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    const t = performance.now() - t0;
    state.pendingCalls = null;
    addTiming(operation, t, calls, label);
  }
}

function addTiming(operation, t, calls, label = providerLabel()) {
  const body = $("#timings");
  body.querySelector(".empty")?.remove();
  const counted = Object.entries(calls.reduce((acc, c) => ({ ...acc, [c]: (acc[c] ?? 0) + 1 }), {}));
  body.prepend(h("tr", {},
    h("td", {}, operation),
    h("td", {}, label),
    h("td", { class: "num" }, ms(t)),
    h("td", { class: "calls" }, counted.length ? counted.map(([c, n]) => (n > 1 ? `${c} ×${n}` : c)).join(", ") : "none")));
  while (body.rows.length > 10) body.deleteRow(-1);
}

// -------------------------------------------------------------- rendering

function valueCell(value) {
  const [[type, x]] = Object.entries(value);
  if (type === "B") {
    return h("td", { class: "value" },
      h("code", { class: "opaque", title: `${x.length} bytes, base64` }, base64Preview(x)),
      h("small", { class: "type" }, `B · ${x.length} bytes`));
  }
  return h("td", { class: "value" }, h("span", { class: "plain" }, typeof x === "string" ? x : JSON.stringify(x)), h("small", { class: "type" }, type));
}

/**
 * The sealed view. `source`: "preview" (sealed in this page by Seal) or
 * "stored" (read back from the store; in KMS mode by the client without the plug-in).
 */
function renderSealed(sealed, actions, source = "preview") {
  const names = [...FIELDS.map((f) => f.name).filter((n) => n in sealed), "aws_dbe_head", "aws_dbe_foot"];
  const encrypted = names.filter((n) => actions[n] === "ENCRYPT_AND_SIGN").length;
  const signed = names.filter((n) => actions[n] === "ENCRYPT_AND_SIGN" || actions[n] === "SIGN_ONLY").length;
  const rows = names.map((n) => {
    const action = actions[n];
    const cls = action ? chipClass[action] : "meta";
    const tag = action ? h("span", { class: `chip ${cls}` }, action) : h("span", { class: "chip meta" }, n === "aws_dbe_head" ? "header" : "footer");
    return h("tr", { "data-attr": n, class: cls }, h("th", { scope: "row" }, h("code", {}, n)), h("td", {}, tag), valueCell(sealed[n]));
  });
  const kms = state.mode === "kms";
  const tableName = state.kmsConfig?.table?.name ?? LOGICAL_TABLE;
  const origin = source === "stored"
    ? (kms ? ["As stored in DynamoDB ", h("code", {}, tableName), ": read back by a second DynamoDBClient ", h("b", {}, "without"), " the plug-in (the plug-in would have opened it)."]
      : ["As stored in ", h("code", {}, provider().storeName), "."])
    : (kms ? ["Preview, sealed in this page by ", h("code", {}, "encryptItem"), ". Upload sends the plaintext item through the ", h("code", {}, "fieldseal/dynamodb"), " plug-in, which seals it again (a new data key); this view then shows the stored bytes."]
      : ["Sealed in this page by ", h("code", {}, "encryptItem"), "; Upload stores exactly this."]);
  $("#sealed").className = "";
  $("#sealed").dataset.source = source;
  $("#sealed").replaceChildren(
    h("p", { class: "hint source" }, ...origin),
    h("p", { class: "summary" },
      `${encrypted} of ${FIELDS.length} attributes encrypted, ${signed} signed; header ${sealed.aws_dbe_head.B.length} bytes, footer ${sealed.aws_dbe_foot.B.length} bytes; suite ${suite()}.`),
    h("div", { class: "scroll" }, h("table", { class: "sealed" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "attribute"), h("th", { scope: "col" }, "action"), h("th", { scope: "col" }, "stored value"))),
      h("tbody", {}, rows))),
    h("details", {},
      h("summary", {}, source === "stored" && kms ? "GetItem answer without the plug-in (DynamoDB JSON; binary values in base64)" : "The sealed item (DynamoDB JSON; binary values in base64)"),
      h("pre", { class: "code", id: "sealed-json" }, JSON.stringify({ TableName: tableName, Item: toDynamoJson(sealed) }, null, 2))));
}

function renderSql(row, actions) {
  const pre = $("#sql");
  pre.className = "code";
  pre.textContent = insertStatement(SQL_TABLE, FIELDS.map((f) => ({ name: f.name, action: actions[f.name] })), row);
}

function renderOpened(opened, actions, source) {
  const form = readValues();
  const rows = FIELDS.filter((f) => f.name in opened).map((f) => {
    const [[type, x]] = Object.entries(opened[f.name]);
    const same = type === "N" ? Number(x) === Number(form[f.name]) : x === form[f.name];
    return h("tr", { "data-attr": f.name, class: chipClass[actions[f.name]] },
      h("th", { scope: "row" }, h("code", {}, f.name)),
      h("td", { class: "value" }, h("span", { class: "plain" }, String(x))),
      h("td", {}, h("span", { class: `chip ${chipClass[actions[f.name]]}` }, actions[f.name])),
      h("td", { class: same ? "ok" : "diff" }, same ? "✓ as entered" : "≠ form"));
  });
  $("#opened").className = "";
  $("#opened").dataset.state = "opened";
  $("#opened").replaceChildren(
    h("p", { class: "summary ok-banner" }, `Opened: signatures verified, fields decrypted (${source}).`),
    h("div", { class: "scroll" }, h("table", { class: "opened" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "attribute"), h("th", { scope: "col" }, "value"), h("th", { scope: "col" }, "action"), h("th", { scope: "col" }, "vs form"))),
      h("tbody", {}, rows))));
}

function renderOpenFailure(e, note) {
  $("#opened").className = "";
  $("#opened").dataset.state = "failed";
  $("#opened").replaceChildren(
    h("p", { class: "summary fail-banner" }, "Opening failed: ", h("code", { class: "code-name" }, errorCode(e)),
      e instanceof FieldsealError ? " (FieldsealError)" : ""),
    h("p", { class: "message" }, e?.message ?? String(e)),
    ...(note ? [h("p", { class: "hint" }, note)] : []));
}

// ---------------------------------------------------------------- actions

async function seal() {
  const actions = readActions();
  const keyring = provider().sealKeyring();
  const { item, row } = await withEncryptor(keyring, async (enc) => {
    const item = await timed("Seal item (encryptItem)", () => enc.encryptItem(readItem()));
    const row = await timed("Seal SQL row (encryptRecord)", () => enc.encryptRecord(readRecord()));
    return { item, row };
  });
  renderSealed(item, actions);
  renderSql(row, actions);
  state.sealed = { item, key: readValues()[PARTITION_KEY], mode: state.mode };
  return item;
}

/**
 * KMS mode: PutItem of the form's plaintext item through the plug-in, which
 * seals it with the seal keyring. Embedded mode: the item Seal made, into
 * IndexedDB. Then the sealed view shows what is stored.
 */
async function upload() {
  const key = readValues()[PARTITION_KEY];
  if (state.mode === "kms") {
    const tableConfig = encryptorConfig(provider().sealKeyring());
    await timed("Upload (PutItem through the plug-in)", () => provider().upload(readItem(), tableConfig));
  } else {
    if (!state.sealed || state.sealed.mode !== state.mode) await seal();
    await timed("Upload (IndexedDB put)", () => provider().put(key, state.sealed.item));
  }
  if (state.tampered?.key === key && state.tampered.mode === state.mode) state.tampered = null;
  await showStored();
  setStatus(state.mode === "kms"
    ? `Uploaded ${key} through the fieldseal/dynamodb plug-in to ${provider().storeName}: the plug-in sealed it on the way.`
    : `Uploaded ${key} to ${provider().storeName}.`, "ok");
}

/** The stored item, as anyone with access to the store sees it (KMS mode: GetItem without the plug-in). */
async function loadStored() {
  const key = readValues()[PARTITION_KEY];
  const stored = await timed(state.mode === "kms" ? "Read stored bytes (GetItem, no plug-in)" : "Load (IndexedDB get)", () => provider().get(key));
  if (!stored) throw new DemoError("NOT_FOUND", `nothing stored under ${PARTITION_KEY} = ${key} in ${provider().storeName}: press Upload first`);
  return { key, stored };
}

/** Show the stored item in the sealed view. */
async function showStored() {
  const { stored } = await loadStored();
  renderSealed(stored, readActions(), "stored");
}

/** KMS mode: GetItem through the plug-in, which opens the item; embedded mode: IndexedDB get, then decryptItem. */
async function openStored(key, how) {
  if (state.mode === "kms") {
    const tableConfig = encryptorConfig(provider().openKeyring(how));
    const opened = await timed("Load & open (GetItem through the plug-in)", () => provider().load(key, tableConfig));
    if (!opened) throw new DemoError("NOT_FOUND", `nothing stored under ${PARTITION_KEY} = ${key} in ${provider().storeName}: press Upload first`);
    return opened;
  }
  const { stored } = await loadStored();
  return withEncryptor(provider().openKeyring(how), (enc) => timed("Open (decryptItem)", () => enc.decryptItem(stored)));
}

async function loadAndOpen() {
  const key = readValues()[PARTITION_KEY];
  const actions = readActions();
  const how = state.mode === "kms" ? $("#open-with").value : undefined;
  try {
    const opened = await openStored(key, how);
    const source = state.mode !== "kms" ? "embedded key"
      : `${hierarchyMode() ? `hierarchical keyring, branch key ${provider().hierarchy().branchKeyId}` : $("#open-with").selectedOptions[0].textContent}; GetItem through the fieldseal/dynamodb plug-in`;
    renderOpened(opened, actions, source);
    setStatus(`Opened ${key}: every signed attribute verified.`, "ok");
  } catch (e) {
    if (e instanceof DemoError) throw e; // nothing stored: nothing was opened
    const t = state.tampered;
    renderOpenFailure(e, t?.key === key && t.mode === state.mode ? t.note : undefined);
    throw e;
  }
}

/** Which stored attribute to change: an encrypted one, else a signed one, else the footer. */
function tamperTarget(stored, actions) {
  const names = FIELDS.map((f) => f.name).filter((n) => n in stored);
  return names.find((n) => actions[n] === "ENCRYPT_AND_SIGN" && stored[n].B)
    ?? names.find((n) => actions[n] === "SIGN_ONLY" && n !== PARTITION_KEY && (stored[n].S || stored[n].N))
    ?? "aws_dbe_foot";
}

function flipped(value) {
  const [[type, x]] = Object.entries(value);
  if (type === "B") {
    const bytes = Uint8Array.from(x);
    const i = bytes.length >> 1;
    bytes[i] ^= 0x01;
    return { value: { B: bytes }, what: `flipped bit 0 of byte ${i} of ${bytes.length} (0x${x[i].toString(16).padStart(2, "0")} → 0x${bytes[i].toString(16).padStart(2, "0")})` };
  }
  if (type === "N") {
    const last = x.at(-1);
    const next = /\d/.test(last) ? x.slice(0, -1) + String((Number(last) + 1) % 10) : `${x}1`;
    return { value: { N: next }, what: `changed ${x} to ${next}` };
  }
  const s = String(x);
  const changed = s ? s.slice(0, -1) + String.fromCharCode(s.charCodeAt(s.length - 1) ^ 1) : "x";
  return { value: { S: changed }, what: `changed the last character (${JSON.stringify(s.slice(-1))} → ${JSON.stringify(changed.slice(-1))})` };
}

async function tamper() {
  const { key, stored } = await loadStored();
  const name = tamperTarget(stored, readActions());
  const { value, what } = flipped(stored[name]);
  // Behind the plug-in's back, as anyone with write access to the table could (the plug-in refuses to change a signed attribute).
  await timed(state.mode === "kms" ? "Tamper (UpdateItem, no plug-in)" : "Tamper (IndexedDB put)", () => provider().replace(key, name, value));
  state.tampered = { key, mode: state.mode, note: `Tamper ${what} in ${name} of the stored item ${key}. Upload again to restore it.` };
  await showStored(); // the sealed view shows the changed byte
  $("#opened").dataset.tampered = name;
  try {
    await loadAndOpen();
  } catch (e) {
    // The point of the exercise: show the failure (and its code) in the error panel.
    showError("Load & open after Tamper", e);
    setStatus(errorCode(e) === "INTEGRITY_FAILURE"
      ? `Tampering detected: opening ${key} fails with INTEGRITY_FAILURE.`
      : `Opening ${key} failed with ${errorCode(e)}.`, "error");
    return;
  }
  // Opening a tampered item must fail: reaching here means it did not.
  throw new DemoError("TAMPER_UNDETECTED", `the item opened although ${name} was changed`);
}

// -------------------------------------------------------------- providers

async function switchProvider(mode) {
  if (mode === state.mode) return;
  if (mode === "kms" && !state.providers.kms) {
    state.providers.kms = await timed("Connect (load AWS SDK, fieldseal/kms, fieldseal/dynamodb)", () => kmsProvider(state.kmsConfig, onKmsCall, onKeyStoreCall, onItemRequest), "KMS");
  }
  state.mode = mode;
  state.sealed = null;
  $("#kms-details").hidden = mode !== "kms";
  $("#embedded-details").hidden = mode !== "embedded";
  document.body.dataset.mode = mode;
  renderKeyringChoice();
  setStatus(mode !== "kms" ? "Embedded-key mode: no cloud."
    : hierarchyMode() ? hierarchyStatus(provider().hierarchy())
      : "KMS multi-Region mode: seal in us-east-1, open in eu-west-1.", "ok");
}

const hierarchyStatus = (hier) =>
  `Hierarchical keyring: branch key ${hier.branchKeyId} ${hier.created ? "created in" : "reused from"} ${hier.table}; KMS and the store are read once per ${hier.ttlSeconds} s, not per item.`;

/** KMS mode's keyring: "mrk" (multi-Region keyring) or "hierarchy" (the first choice creates the branch key). */
async function switchKmsKeyring(kind) {
  const kms = state.providers.kms;
  if (kind === kms.keyringKind) return;
  const firstUse = kind === "hierarchy" && !kms.hierarchy();
  const switched = () => kms.useKeyring(kind);
  if (firstUse) await timed("Branch key store: createKeyStore + createKey (first use)", switched, "KMS hierarchy");
  else await switched();
  state.sealed = null;
  renderKeyringChoice();
  setStatus(kind === "hierarchy" ? hierarchyStatus(kms.hierarchy()) : "KMS multi-Region keyring: seal in us-east-1, open in eu-west-1.", "ok");
}

/** Show the chosen keyring's details (and the throughput run it does). */
function renderKeyringChoice() {
  const hierarchy = hierarchyMode();
  document.body.dataset.keyring = state.mode === "kms" ? provider().keyringKind : "";
  if (state.providers.kms) $("#kms-keyring").value = state.providers.kms.keyringKind;
  $("#mrk-details").hidden = hierarchy;
  $("#hierarchy-details").hidden = !hierarchy;
  const hier = state.providers.kms?.hierarchy();
  if (hier) {
    $("#branch-key-id").textContent = hier.branchKeyId;
    $("#branch-key-note").textContent = hier.created
      ? "created in the store by this page on first use (createKey)"
      : "created by this browser before (remembered in localStorage)";
    $("#key-store-arn").textContent = hier.wrappingKeyArn;
    renderStoreCalls();
  }
  $("#bench-hint").replaceChildren(...(hierarchy
    ? ["Seals and opens a batch of copies of the order with the form's suite, first with the embedded AES-256 key (raw AES), then with a ",
      h("b", {}, "new hierarchical keyring"), " whose cache is empty, as a new page or server process starts: the KMS and key store calls it makes are shown under Timings."]
    : ["Seals and opens a batch of copies of the order with both suites (", h("code", {}, "encryptItems"), " / ",
      h("code", {}, "decryptItems"), "), embedded AES-256 key, one thread, no network."]));
}

function setupProviders(config) {
  state.providers.embedded = embeddedProvider();
  $("#embedded-key").textContent = `fieldseal-demo/${state.providers.embedded.keyName}`;
  const kmsRadio = document.querySelector("input[name=provider][value=kms]");
  if (config?.kms) {
    state.kmsConfig = config.kms;
    const { home, replica, keyArns, table, keyStore } = config.kms;
    $("#kms-seal-arn").textContent = keyArns[home];
    for (const el of document.querySelectorAll(".kms-table")) el.textContent = `DynamoDB ${table.name} (${table.region})`;
    $("#key-store-table").textContent = `DynamoDB ${keyStore.table} (${keyStore.region})`;
    for (const el of document.querySelectorAll(".ttl-seconds")) el.textContent = String(keyStore.ttlSeconds);
    $("#kms-summary").textContent = `Multi-Region keyring: seal with the ${home} key, open "from" ${replica} with its replica. `
      + `Or the hierarchical keyring: a branch key in the store ${keyStore.table}. Items go to DynamoDB table ${table.name} through the fieldseal/dynamodb plug-in.`;
    renderCalls();
  } else {
    kmsRadio.disabled = true;
    $("#kms-summary").textContent = config?.kmsUnavailable ?? "Not available: start the page with `make demo`, which runs a local moto.";
  }
  for (const input of document.querySelectorAll("input[name=provider]")) {
    input.addEventListener("change", () => {
      if (!input.checked) return;
      run("provider", "Switch key provider", () => switchProvider(input.value)).then(() => {
        document.querySelector(`input[name=provider][value=${state.mode}]`).checked = true;
      });
    });
  }
}

// ----------------------------------------------------------------- search

const search = {
  kms: null, // demo-config.json's kms (with its `search`), if moto runs
  provider: null, // lib/search.js searchProvider, made on first use
  orders: new Map(), // order_id -> { item, email beacon, card_status beacon, resolved } of the orders this page put
  calls: {}, // "KMS Decrypt", "key store GetItem beacon:ACTIVE", ... -> count (the search's own clients)
  last: null, // the last search's { kind, beacon }
};
const orderId = (item) => item?.order_id?.S;
const last4Of = (card) => String(card ?? "").slice(-4);

function setupSearch(config) {
  for (const select of [$("#search-add-status"), $("#search-status")]) {
    select.replaceChildren(...STATUSES.map((st) => h("option", { value: st, selected: st === "shipped" }, st)));
  }
  $("#search-kind").addEventListener("change", () => {
    const email = $("#search-kind").value === "email";
    $("#search-email").hidden = !email;
    $("#search-card-inputs").hidden = email;
  });
  const cfg = config?.kms?.search;
  if (!cfg) {
    $("#search-intro").replaceChildren("Not available: searching needs the local moto (DynamoDB with global secondary indexes, and the branch key store for beacon keys). ",
      config?.kmsUnavailable ?? "Start the page with `make demo`.");
    $("#search-card").dataset.available = "false";
    return;
  }
  search.kms = config.kms;
  $("#search-card").dataset.available = "true";
  $("#search-table").textContent = cfg.table;
  $("#search-key").textContent = cfg.branchKeyId;
  $("#search").addEventListener("click", () => run("search", "Search", runSearch));
  $("#search-seed").addEventListener("click", () => run("search-seed", "Add sample orders", seedOrders));
  $("#search-add").addEventListener("click", () => run("search-add", "Add the form's order", addFormOrder));
  $("#search-orders tbody").addEventListener("click", (e) => {
    const order = search.orders.get(e.target.closest("tr")?.dataset.order);
    if (!order) return;
    $("#search-email").value = order.item.email.S;
    $("#search-last4").value = last4Of(order.item.card_number.S);
    $("#search-status").value = order.item.status.S;
  });
}

/** Count one KMS or key store call of the search's own clients (a branch key or beacon key load). */
function onSearchCall({ service, op, type }) {
  const name = `${op} ${service}${type ? ` ${type.replace(/:version:.*/, ":version")}` : ""}`;
  search.calls[name] = (search.calls[name] ?? 0) + 1;
  state.pendingCalls?.push(`${op} ${service}`);
  renderSearchCalls();
}

function renderSearchCalls() {
  const calls = Object.entries(search.calls);
  $("#search-calls").replaceChildren(
    "The search's AWS calls so far (its own KMS and key store clients): ",
    calls.length ? h("b", {}, calls.map(([c, n]) => (n > 1 ? `${c} ×${n}` : c)).join(", ")) : "none",
    `. Each key is read once and cached (cacheTTL ${search.kms.search.cacheTTL} s): the branch key wraps the orders' data keys, `,
    "its beacon key (", h("code", {}, "beacon:ACTIVE"), ") computes the beacons; puts and searches after the first make no key call.");
}

/** The search's plug-in client, set up on first use. */
async function searchClient() {
  search.provider ??= await timed("Search: connect (key store, hierarchical keyring, plug-in with search)", () => searchProvider(search.kms, onSearchCall), "search");
  return search.provider;
}

/** Put `items` through the plug-in; note each one's stored beacons (from the request sent) and resolveAttributes. */
async function putOrders(items, label) {
  const p = await searchClient();
  const { wire } = await timed(label, () => p.put(items), "search");
  const sent = new Map();
  for (const w of wire) {
    const puts = w.op === "PutItem" ? [w.body?.Item] : (w.body?.RequestItems?.[p.config.table] ?? []).map((r) => r.PutRequest?.Item);
    for (const item of puts) if (orderId(item)) sent.set(orderId(item), item);
  }
  for (const item of items) {
    const stored = sent.get(orderId(item));
    if (!stored) throw new DemoError("NOT_SENT", `the plug-in did not send ${orderId(item)}`);
    const resolved = await p.resolve(item);
    search.orders.set(orderId(item), {
      item,
      email: stored.aws_dbe_b_email?.S ?? null,
      cardStatus: stored.aws_dbe_b_card_status?.S ?? null,
      resolved,
    });
  }
  renderSearchOrders();
  return sent;
}

async function seedOrders() {
  const items = sampleOrders();
  await putOrders(items, `Search: put ${items.length} orders through the plug-in (BatchWriteItem)`);
  $("#search-orders-box").open = true;
  setStatus(`Put ${items.length} sample orders through the plug-in: each sealed, with aws_dbe_b_email and aws_dbe_b_card_status added.`, "ok");
}

/** The form's order, with the fields the search table has and the chosen status. */
async function addFormOrder() {
  const values = readValues();
  const item = Object.fromEntries(FIELDS.filter((f) => f.name in SEARCH_ACTIONS).map((f) => [f.name, { [f.type]: values[f.name] }]));
  item.status = { S: $("#search-add-status").value };
  const [stored] = (await putOrders([item], `Search: put ${orderId(item)} through the plug-in (PutItem)`)).values();
  $("#search-orders-box").open = true;
  setStatus(`Put ${orderId(item)} through the plug-in: aws_dbe_b_email ${stored.aws_dbe_b_email?.S}, aws_dbe_b_card_status ${stored.aws_dbe_b_card_status?.S}.`, "ok");
}

function renderSearchOrders() {
  const orders = [...search.orders.values()].sort((a, b) => (orderId(a.item) < orderId(b.item) ? -1 : 1));
  const emails = new Set(orders.map((o) => o.item.email.S));
  const beacons = new Set(orders.map((o) => o.email));
  $("#search-orders-count").textContent = `${orders.length} put by this page: ${emails.size} emails over ${beacons.size} email beacon values; click one to search for it`;
  $("#search-orders tbody").replaceChildren(...orders.map((o) => {
    const shared = search.last && (search.last.kind === "email" ? o.email : o.cardStatus) === search.last.beacon;
    return h("tr", {
      "data-order": orderId(o.item), "data-email": o.item.email.S, "data-last4": last4Of(o.item.card_number.S), "data-status": o.item.status.S,
      "data-email-beacon": o.email, "data-card-beacon": o.cardStatus, class: shared ? "same-beacon" : "",
    },
      h("th", { scope: "row" }, h("code", {}, orderId(o.item))),
      h("td", {}, o.item.email.S),
      h("td", {}, `•••• ${last4Of(o.item.card_number.S)}`),
      h("td", {}, o.item.status.S),
      h("td", {}, h("span", { class: "beacon" }, o.email ?? "none")),
      h("td", {}, h("span", { class: "beacon" }, o.cardStatus ?? "none")),
      h("td", {}, h("code", {}, Object.entries({ ...o.resolved.VirtualFields, ...o.resolved.CompoundBeacons }).map(([k, v]) => `${k} = ${v}`).join(", "))));
  }));
}

/** Key-value lines of a Query: its expressions and values (`mark` wraps the values). */
function queryLines(input, mark) {
  const lines = [["IndexName", h("code", {}, input.IndexName ?? "(none)")], ["KeyConditionExpression", h("code", {}, input.KeyConditionExpression ?? "")]];
  if (input.FilterExpression) lines.push(["FilterExpression", h("code", {}, input.FilterExpression)]);
  for (const [k, v] of Object.entries(input.ExpressionAttributeNames ?? {})) lines.push([h("code", {}, k), h("code", {}, v)]);
  for (const [k, v] of Object.entries(input.ExpressionAttributeValues ?? {})) lines.push([h("code", {}, k), mark(Object.values(v)[0])]);
  return h("dl", { class: "kv" }, lines.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

async function runSearch() {
  const p = await searchClient();
  if (!search.orders.size) await seedOrders(); // a first search finds the sample orders
  const kind = $("#search-kind").value;
  const typed = { email: $("#search-email").value, last4: $("#search-last4").value, status: $("#search-status").value };
  const input = searchQuery(p.config, kind, typed);
  const { result, wire } = await timed(`Search: Query ${input.IndexName} through the plug-in`, () => p.query(input), "search");
  const sent = wire.find((w) => w.op === "Query");
  if (!sent?.body) throw new DemoError("NOT_SENT", "the Query was not seen on the wire");
  renderSearch(kind, input, sent, result.Items ?? []);
}

function renderSearch(kind, input, sent, opened) {
  const typedValue = Object.values(input.ExpressionAttributeValues)[0].S;
  const beacon = Object.values(sent.body.ExpressionAttributeValues ?? {})[0]?.S ?? null;
  const returned = sent.output?.Items ?? [];
  const keptIds = new Set(opened.map(orderId));
  const attr = `aws_dbe_b_${kind}`;
  const dropped = returned.filter((it) => !keptIds.has(orderId(it)));
  search.last = { kind, beacon };
  const box = $("#search-result");
  Object.assign(box.dataset, { state: "done", kind, typed: typedValue, beacon: beacon ?? "", returned: String(returned.length), kept: String(opened.length), dropped: String(dropped.length) });

  $("#search-typed").replaceChildren(h("h3", {}, "What you typed"),
    h("p", { class: "hint" }, "The Query the page gives the client (the plaintext names and values):"),
    queryLines(input, (v) => h("span", { class: "typed" }, v)));

  $("#search-wire").replaceChildren(h("h3", {}, "What DynamoDB saw"),
    h("p", { class: "hint" }, "The request body as it left (the plug-in rewrote it), and what the index answered:"),
    queryLines(sent.body, (v) => h("span", { class: "beacon" }, v)),
    h("p", { class: "summary" }, `The index returned ${returned.length} sealed order${returned.length === 1 ? "" : "s"} with ${attr} = `, h("span", { class: "beacon" }, beacon ?? "?"), ":"),
    returned.length ? h("div", { class: "scroll" }, h("table", { class: "wire-items" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "order (signed, readable)"), h("th", { scope: "col" }, attr), h("th", { scope: "col" }, "plaintext filter"))),
      h("tbody", {}, returned.map((it) => {
        const kept = keptIds.has(orderId(it));
        return h("tr", { "data-order": orderId(it), "data-kept": String(kept), class: kept ? "kept" : "dropped" },
          h("th", { scope: "row" }, h("code", {}, orderId(it))),
          h("td", {}, h("span", { class: "beacon" }, it[attr]?.S ?? "?")),
          h("td", { title: kept ? "its plaintext matches" : "a false positive: same beacon, other plaintext" }, kept ? "kept" : "dropped"));
      })))) : null);

  $("#search-opened").replaceChildren(h("h3", {}, "Opened results"),
    h("p", { class: `summary ${opened.length ? "ok-banner" : ""}` },
      `${returned.length} from DynamoDB → ${opened.length} after the plaintext filter`,
      dropped.length ? ` (${dropped.length} false positive${dropped.length === 1 ? "" : "s"} dropped: same beacon, other ${kind === "email" ? "email" : "card digits"})` : ""),
    opened.length ? h("div", { class: "scroll" }, h("table", { class: "opened-items" },
      h("thead", {}, h("tr", {}, ["order", "customer", "email", "card", "status"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, opened.map((it) => h("tr", { "data-order": orderId(it) },
        h("th", { scope: "row" }, h("code", {}, orderId(it))),
        h("td", {}, it.customer_name?.S ?? ""),
        h("td", {}, it.email?.S ?? ""),
        h("td", { class: "nowrap" }, `•••• ${last4Of(it.card_number?.S)}`),
        h("td", {}, it.status?.S ?? "")))))) : h("p", { class: "placeholder" }, "No order matches."));
  renderSearchOrders();
  setStatus(`Search: typed "${typedValue}", DynamoDB saw ${attr} = "${beacon}" and returned ${returned.length}; the plaintext filter kept ${opened.length}.`, "ok");
}

// -------------------------------------------------------------- benchmark

const BENCH_CHUNK = 50;

async function bench() {
  const count = Math.max(10, Math.min(100_000, Math.floor(Number($("#bench-count").value) || 1000)));
  const base = readItem();
  const items = Array.from({ length: count }, (_, i) => ({ ...base, [PARTITION_KEY]: { S: `${base[PARTITION_KEY].S}#${i}` } }));
  if (hierarchyMode()) return benchHierarchy(items);
  const keyring = state.providers.embedded.sealKeyring();
  const chunk = BENCH_CHUNK;
  const results = [];
  const button = $("#bench");
  try {
    await benchSuites(items, keyring, chunk, results, button);
  } finally {
    button.textContent = "Run";
  }
  const chart = $("#chart");
  chart.className = "";
  chart.dataset.items = String(count);
  chart.replaceChildren(throughputChart(results),
    h("p", { class: "hint" }, `${count.toLocaleString("en-US")} items per suite, sealed then opened in batches of ${chunk}; ${navigator.userAgent.match(/(Chrome|Firefox)\/[\d.]+/)?.[0] ?? "this browser"}.`));
  addTiming(`Throughput (${count} items × 2 suites)`, results.reduce((t, r) => t + (count / r.encrypt + count / r.decrypt) * 1000, 0), [], "embedded");
  setStatus(results.map((r) => `${r.suite}: ${Math.round(r.encrypt)} sealed/s, ${Math.round(r.decrypt)} opened/s`).join("; "), "ok");
}

/**
 * KMS mode, hierarchical keyring: raw AES, then a new hierarchical keyring
 * (empty cache), each sealing then opening `items` with the form's suite.
 * The hierarchical run's KMS and key store calls are sampled after every
 * batch: they stay flat after the first (one branch key load to seal, one
 * to open: decrypt reads the item's branch key version, its own cache entry).
 */
async function benchHierarchy(items) {
  const count = items.length;
  const suiteId = suite();
  const button = $("#bench");
  const embedded = state.providers.embedded.sealKeyring();
  const hierarchy = provider().hierarchy();
  const cold = hierarchy.coldKeyring();
  const results = [];
  const phases = [];
  try {
    // Each row warms its code path up first; the hierarchical one with the
    // page's own keyring (its cache is warm), so that the cold keyring's
    // first batch still makes its branch key loads.
    for (const row of [
      { suite: "raw AES", label: `${suiteId}, embedded key`, keyring: embedded, warmUp: embedded },
      { suite: "hierarchical", label: `${suiteId}, empty cache`, keyring: cold, warmUp: hierarchy.keyring, calls: true },
    ]) {
      const r = { suite: row.suite, label: row.label, keyring: row.calls ? "hierarchy" : "raw-aes" };
      await withEncryptor(row.warmUp, async (enc) => enc.decryptItems(await enc.encryptItems(items.slice(0, 5))), suiteId);
      await withEncryptor(row.keyring, async (enc) => {
        const sealed = [];
        for (const op of ["encrypt", "decrypt"]) {
          const phase = row.calls ? startPhase(op) : null;
          let busy = 0;
          for (let i = 0; i < count; i += BENCH_CHUNK) {
            setStatus(`Throughput: ${row.suite} ${op} ${i}/${count}…`, "busy");
            button.textContent = `${row.suite} ${op} ${Math.round((100 * i) / count)}%`;
            await new Promise((resolve) => setTimeout(resolve, 0)); // let the page paint
            const t0 = performance.now();
            if (op === "encrypt") sealed.push(...(await enc.encryptItems(items.slice(i, i + BENCH_CHUNK))));
            else await enc.decryptItems(sealed.slice(i, i + BENCH_CHUNK));
            busy += performance.now() - t0;
            phase?.sample(Math.min(i + BENCH_CHUNK, count));
          }
          r[op] = count / (busy / 1000);
          if (phase) phases.push(phase.end(busy));
        }
      }, suiteId);
      results.push(r);
    }
  } finally {
    state.pendingCalls = null;
    button.textContent = "Run";
    cold.free();
    cold.cache.free();
  }
  const chart = $("#chart");
  chart.className = "";
  chart.dataset.items = String(count);
  chart.replaceChildren(throughputChart(results),
    h("p", { class: "hint" }, `${count.toLocaleString("en-US")} items per keyring, suite ${suiteId}, sealed then opened in batches of ${BENCH_CHUNK}; `
      + `the hierarchical keyring's times include its branch key loads; ${navigator.userAgent.match(/(Chrome|Firefox)\/[\d.]+/)?.[0] ?? "this browser"}.`));
  const [aes, hier] = results;
  addTiming(`Throughput raw AES (${count} sealed + opened)`, (count / aes.encrypt + count / aes.decrypt) * 1000, [], "embedded");
  for (const p of phases) addTiming(`Throughput hierarchical: ${p.op === "encrypt" ? "seal" : "open"} ${count} items`, p.ms, p.calls, "KMS hierarchy");
  renderRunCalls(phases, count);
  const kms = phases.reduce((n, p) => n + p.kms, 0);
  const reads = phases.reduce((n, p) => n + p.getItem, 0);
  setStatus(`Hierarchical: ${Math.round(hier.encrypt)} sealed/s, ${Math.round(hier.decrypt)} opened/s (raw AES ${Math.round(aes.encrypt)}, ${Math.round(aes.decrypt)}); `
    + `${kms} KMS and ${reads} key store calls for ${(2 * count).toLocaleString("en-US")} items.`, "ok");
}

/**
 * Count the KMS and key store calls (and onKeyUse's cache hits) of one phase
 * of the hierarchical run, sampled after each batch.
 */
function startPhase(op) {
  const kms0 = kmsTotal();
  const store0 = state.storeCalls.GetItem ?? 0;
  const uses0 = { ...state.keyUses };
  const calls = [];
  state.pendingCalls = calls;
  const samples = [{ items: 0, kms: 0, getItem: 0 }];
  const now = () => ({ kms: kmsTotal() - kms0, getItem: (state.storeCalls.GetItem ?? 0) - store0 });
  return {
    sample: (items) => samples.push({ items, ...now() }),
    end(ms) {
      state.pendingCalls = null;
      const hits = state.keyUses.cacheHits - uses0.cacheHits;
      return { op, ms, calls, samples, ...now(), operations: state.keyUses.operations - uses0.operations, cacheHits: hits };
    },
  };
}

/** The Timings card's account of the hierarchical run: calls per phase, and the calls-vs-items chart. */
function renderRunCalls(phases, count) {
  const n = (x) => x.toLocaleString("en-US");
  const box = $("#run-calls");
  box.hidden = false;
  box.replaceChildren(
    h("h3", {}, `AWS calls while the hierarchical keyring seals and opens ${n(count)} items`),
    h("table", { class: "calls", id: "run-calls-table" },
      h("thead", {}, h("tr", {}, ["phase", "items", "KMS calls", "key store GetItem", `after the first ${BENCH_CHUNK}`, "branch key from the cache"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, phases.map((p) => {
        const first = p.samples[1] ?? p.samples[0];
        return h("tr", { "data-phase": p.op === "encrypt" ? "seal" : "open" },
          h("th", { scope: "row" }, p.op === "encrypt" ? "seal" : "open"),
          h("td", { class: "num", "data-count": "items" }, n(p.samples.at(-1).items)),
          h("td", { class: "num", "data-count": "kms" }, String(p.kms)),
          h("td", { class: "num", "data-count": "getItem" }, String(p.getItem)),
          h("td", { class: "num", "data-count": "first", "data-kms": first.kms, "data-get-item": first.getItem }, `${first.kms} KMS, ${first.getItem} GetItem`),
          h("td", { class: "num", "data-count": "cacheHits" }, `${n(p.cacheHits)} of ${n(p.operations)}`));
      }))),
    callsChart(phases.map((p) => ({ label: p.op === "encrypt" ? "seal" : "open", samples: p.samples }))),
    h("p", { class: "hint" }, "The keyring loads a branch key (GetItem, then KMS Decrypt) only when its cache lacks it, and keeps it for ",
      h("code", {}, `ttlSeconds: ${provider().hierarchy().ttlSeconds}`), ". Sealing uses the active version; opening needs the version each item names, a cache entry of its own."));
}

async function benchSuites(items, keyring, chunk, results, button) {
  const count = items.length;
  for (const [suiteId, label] of [["0x6700", "no ECDSA"], ["0x6701", "ECDSA P-384"]]) {
    const r = { suite: suiteId, label };
    await withEncryptor(keyring, async (enc) => {
      await enc.decryptItems(await enc.encryptItems(items.slice(0, 5))); // warm-up
      const sealed = [];
      for (const op of ["encrypt", "decrypt"]) {
        let busy = 0;
        for (let i = 0; i < count; i += chunk) {
          setStatus(`Throughput: ${suiteId} ${op} ${i}/${count}…`, "busy");
          button.textContent = `${suiteId} ${op} ${Math.round((100 * i) / count)}%`;
          await new Promise((resolve) => setTimeout(resolve, 0)); // let the page paint
          const t0 = performance.now();
          if (op === "encrypt") sealed.push(...(await enc.encryptItems(items.slice(i, i + chunk))));
          else await enc.decryptItems(sealed.slice(i, i + chunk));
          busy += performance.now() - t0;
        }
        r[op] = count / (busy / 1000);
      }
    }, suiteId, false);
    results.push(r);
  }
}

// ------------------------------------------------------------------- init

async function init() {
  buildForm();
  let config = null;
  try {
    const response = await fetch("/demo-config.json", { cache: "no-store" });
    if (response.ok) config = await response.json();
  } catch {
    // served without the demo server: embedded mode only
  }
  setupProviders(config);
  setupSearch(config);
  document.body.dataset.mode = state.mode;
  $("#seal").addEventListener("click", () => run("seal", "Seal", async () => {
    await seal();
    setStatus("Sealed: encrypted attributes are opaque bytes; aws_dbe_head and aws_dbe_foot were added.", "ok");
  }));
  $("#upload").addEventListener("click", () => run("upload", "Upload", upload));
  $("#open").addEventListener("click", () => run("open", "Load & open", () => loadAndOpen()));
  $("#tamper").addEventListener("click", () => run("tamper", "Tamper", tamper));
  $("#bench").addEventListener("click", () => run("bench", "Throughput", bench));
  $("#open-with").addEventListener("change", () => setStatus(`Opening with ${$("#open-with").selectedOptions[0].textContent}.`));
  $("#kms-keyring").addEventListener("change", () =>
    run("keyring", "Switch KMS keyring", () => switchKmsKeyring($("#kms-keyring").value)).then(renderKeyringChoice));
  $("#suite").addEventListener("change", onFormChange);
  $("#clear-errors").addEventListener("click", () => {
    $("#error-list").replaceChildren();
    $("#errors").hidden = true;
  });

  // Load the WebAssembly module now, so the first Seal's timing is the seal's.
  const t0 = performance.now();
  await withEncryptor(state.providers.embedded.sealKeyring(), async (enc) => enc.decryptItem(await enc.encryptItem(readItem())), "0x6700");
  addTiming("Load WebAssembly + warm-up round trip", performance.now() - t0, []);
  setBusy(null);
  setStatus("Ready: press Seal.", "ok");
  window.fieldsealDemo = { ready: true, state };
}

init().catch((e) => showError("Start", e));
