// Code shared by Node and the browser page (no Node or DOM APIs beyond
// atob/btoa, which both have): the wire form of items, and building keyrings
// and encryptors from plain descriptions, so both runtimes set up fieldseal
// the same way.
//
// Wire form = typed DynamoDB JSON with binary as base64 (the format of
// tests/fixtures/reference-item.json). Items cross the Node <-> page boundary
// in this form because playwright's evaluate() serializes JSON-like values.

export function bytesToBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export function base64ToBytes(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function only(v) {
  const keys = v && typeof v === "object" ? Object.keys(v) : [];
  if (keys.length !== 1) throw new Error(`not an AttributeValue: ${JSON.stringify(v)}`);
  return keys[0];
}

/** AttributeValue (B/BS as Uint8Array) -> wire value (B/BS as base64). */
export function toWireValue(v) {
  const t = only(v);
  const x = v[t];
  switch (t) {
    case "S": case "N": case "BOOL": case "NULL": case "SS": case "NS":
      return { [t]: x };
    case "B":
      if (!(x instanceof Uint8Array)) throw new Error(`B is not a Uint8Array: ${Object.prototype.toString.call(x)}`);
      return { B: bytesToBase64(x) };
    case "BS":
      return { BS: x.map((b) => {
        if (!(b instanceof Uint8Array)) throw new Error("BS member is not a Uint8Array");
        return bytesToBase64(b);
      }) };
    case "L":
      return { L: x.map(toWireValue) };
    case "M":
      return { M: toWire(x) };
    default:
      throw new Error(`unknown AttributeValue type ${t}`);
  }
}

/** Wire value -> AttributeValue. */
export function fromWireValue(v) {
  const t = only(v);
  const x = v[t];
  switch (t) {
    case "S": case "N": case "BOOL": case "NULL":
      return { [t]: x };
    case "SS": case "NS":
      return { [t]: [...x] };
    case "B":
      return { B: base64ToBytes(x) };
    case "BS":
      return { BS: x.map(base64ToBytes) };
    case "L":
      return { L: x.map(fromWireValue) };
    case "M":
      return { M: fromWire(x) };
    default:
      throw new Error(`unknown DynamoDB JSON type ${t}`);
  }
}

export function toWire(item) {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, toWireValue(v)]));
}

export function fromWire(item) {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, fromWireValue(v)]));
}

/**
 * A keyring from a plain description, built with the given fieldseal module:
 * { type: "raw-aes", keyNamespace, keyName, wrappingKey: base64 }
 * { type: "raw-rsa", keyNamespace, keyName, padding, publicKeyPem?, privateKeyPem? }
 */
export function makeKeyring(fieldseal, desc) {
  switch (desc.type) {
    case "raw-aes":
      return new fieldseal.RawAesKeyring({
        keyNamespace: desc.keyNamespace,
        keyName: desc.keyName,
        wrappingKey: base64ToBytes(desc.wrappingKey),
      });
    case "raw-rsa": {
      const opts = { keyNamespace: desc.keyNamespace, keyName: desc.keyName, padding: desc.padding };
      if (desc.publicKeyPem != null) opts.publicKeyPem = desc.publicKeyPem;
      if (desc.privateKeyPem != null) opts.privateKeyPem = desc.privateKeyPem;
      return new fieldseal.RawRsaKeyring(opts);
    }
    default:
      throw new Error(`unknown keyring type ${desc.type}`);
  }
}

/** An ItemEncryptor from a config (DB-ESDK names, JSON) and a keyring description. */
export function makeEncryptor(fieldseal, config, keyringDesc) {
  return new fieldseal.ItemEncryptor({ ...config, keyring: makeKeyring(fieldseal, keyringDesc) });
}

/** A thrown value as plain data (for crossing the page boundary and for asserts). */
export function errorInfo(e) {
  return {
    name: e?.name,
    code: e?.code,
    message: String(e?.message ?? e),
    isFieldsealError: e?.name === "FieldsealError",
  };
}
