// Byte helpers for showing sealed values: base64 (what DynamoDB JSON uses for
// B), hex (what PostgreSQL uses for bytea literals) and short previews.

export function toBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function toHex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** The first `chars` characters of the base64 form, with an ellipsis if cut. */
export function base64Preview(bytes, chars = 28) {
  const b64 = toBase64(bytes);
  return b64.length > chars ? `${b64.slice(0, chars)}…` : b64;
}

/** An item in DynamoDB JSON as PutItem sends it (B and BS values in base64). */
export function toDynamoJson(item) {
  const value = (v) => {
    const [[type, x]] = Object.entries(v);
    switch (type) {
      case "B": return { B: toBase64(x) };
      case "BS": return { BS: x.map(toBase64) };
      case "L": return { L: x.map(value) };
      case "M": return { M: Object.fromEntries(Object.entries(x).map(([k, y]) => [k, value(y)])) };
      default: return { [type]: x };
    }
  };
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, value(v)]));
}

/** A copy of an item whose binary values are new arrays (safe to modify). */
export function cloneItem(item) {
  return structuredClone(item);
}
