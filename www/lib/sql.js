// A sealed record (encryptRecord's result) as a PostgreSQL INSERT: encrypted
// fields, aws_dbe_head and aws_dbe_foot are bytea, written as '\x…' hex
// literals (standard_conforming_strings on, the default).
import { toHex } from "./bytes.js";

const quoteIdent = (name) => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`);
const quoteText = (s) => `'${s.replaceAll("'", "''")}'`;

function literal(value) {
  if (value instanceof Uint8Array) return `'\\x${toHex(value)}'`;
  if (value === null) return "NULL";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "string") return quoteText(value);
  return quoteText(JSON.stringify(value)); // lists and maps: a json column
}

/**
 * `columns`: [{ name, action }] in display order; `row`: the sealed record.
 * Returns the statement, one value per line with a comment naming its action.
 */
export function insertStatement(table, columns, row) {
  const cols = [...columns.filter((c) => c.name in row), { name: "aws_dbe_head", action: "header" }, { name: "aws_dbe_foot", action: "footer" }];
  const values = cols.map((c) => {
    const v = row[c.name];
    const note = v instanceof Uint8Array ? `${c.action}, bytea ${v.length} bytes` : c.action;
    return { text: literal(v), note };
  });
  const lines = values.map((v, i) => `  -- ${cols[i].name}: ${v.note}\n  ${v.text}${i < values.length - 1 ? "," : ""}`);
  return `INSERT INTO ${quoteIdent(table)} (${cols.map((c) => quoteIdent(c.name)).join(", ")})\nVALUES (\n${lines.join("\n")}\n);`;
}
