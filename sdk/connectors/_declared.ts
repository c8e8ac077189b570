/**
 * The column types a query result declares, read from each driver's field descriptions, so that
 * `load` creates a `numeric` column as a decimal rather than guessing text from `"11.00"`.
 * Columns of other types are left out: `load` infers them from their values.
 *
 * @module
 */
import type { ColumnType } from "./_columns.ts";

const PG_OIDS: Record<number, ColumnType> = {
  16: { kind: "boolean" },
  20: { kind: "bigint" },
  21: { kind: "bigint" },
  23: { kind: "bigint" },
  700: { kind: "double" },
  701: { kind: "double" },
  // The wire description has no typmod: `load` takes the scale from the values.
  1700: { kind: "decimal" },
  1082: { kind: "date" },
  1114: { kind: "timestamp" },
  1184: { kind: "timestamp" },
  114: { kind: "json" },
  3802: { kind: "json" },
  25: { kind: "text" },
  1042: { kind: "text" },
  1043: { kind: "text" },
};

/** Types of a postgres.js result's `columns` (name and type OID). */
export function pgColumnTypes(
  columns: readonly { name: string; type: number }[] | undefined,
): Record<string, ColumnType> {
  const types: Record<string, ColumnType> = {};
  for (const column of columns ?? []) {
    const type = PG_OIDS[column.type];
    if (type) types[column.name] = type;
  }
  return types;
}

/** mysql2's description of one result field. */
export interface MysqlField {
  name: string;
  columnType?: number;
  type?: number;
  columnLength?: number;
  decimals?: number;
  flags?: number | string[];
}

const UNSIGNED = 32;

/** Types of mysql2's result fields. */
export function mysqlColumnTypes(
  fields: readonly MysqlField[] | undefined,
): Record<string, ColumnType> {
  const types: Record<string, ColumnType> = {};
  for (const field of fields ?? []) {
    const type = mysqlType(field);
    if (type) types[field.name] = type;
  }
  return types;
}

function mysqlType(field: MysqlField): ColumnType | null {
  const code = field.columnType ?? field.type;
  const unsigned = typeof field.flags === "number" && (field.flags & UNSIGNED) !== 0;
  const scale = field.decimals ?? 0;
  switch (code) {
    case 0x01: // TINYINT; TINYINT(1) is MySQL's BOOLEAN
      return field.columnLength === 1 ? { kind: "boolean" } : { kind: "bigint" };
    case 0x02:
    case 0x03:
    case 0x09:
    case 0x0d:
      return { kind: "bigint" };
    case 0x08: // BIGINT UNSIGNED goes past 64-bit signed
      return unsigned ? { kind: "decimal", precision: 20, scale: 0 } : { kind: "bigint" };
    case 0x00:
    case 0xf6: { // the length counts the sign and the point
      const length = field.columnLength ?? 0;
      const precision = length - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1);
      return precision > 0 && precision >= scale
        ? { kind: "decimal", precision, scale }
        : { kind: "decimal", scale };
    }
    case 0x04:
    case 0x05:
      return { kind: "double" };
    case 0x0a:
    case 0x0e:
      return { kind: "date" };
    case 0x07:
    case 0x0c:
      return { kind: "timestamp" };
    case 0xf5:
      return { kind: "json" };
    default:
      return null;
  }
}

/** DuckDB type ids (`DuckDBTypeId`) by the kind they load as. */
const DUCKDB_KINDS: Record<number, ColumnType> = {
  1: { kind: "boolean" },
  2: { kind: "bigint" },
  3: { kind: "bigint" },
  4: { kind: "bigint" },
  5: { kind: "bigint" },
  6: { kind: "bigint" },
  7: { kind: "bigint" },
  8: { kind: "bigint" },
  9: { kind: "decimal", precision: 20, scale: 0 }, // UBIGINT
  16: { kind: "decimal", precision: 38, scale: 0 }, // HUGEINT
  32: { kind: "decimal", precision: 39, scale: 0 }, // UHUGEINT
  10: { kind: "double" },
  11: { kind: "double" },
  13: { kind: "date" },
  12: { kind: "timestamp" },
  20: { kind: "timestamp" },
  21: { kind: "timestamp" },
  22: { kind: "timestamp" },
  31: { kind: "timestamp" },
  17: { kind: "text" },
  23: { kind: "text" }, // ENUM
  27: { kind: "text" }, // UUID
  24: { kind: "json" }, // LIST
  25: { kind: "json" }, // STRUCT
  26: { kind: "json" }, // MAP
  33: { kind: "json" }, // ARRAY
};

/** The type of a DuckDB result column (`DuckDBType`: id, alias, a decimal's width and scale). */
export function duckdbColumnType(
  type: { typeId: number; alias?: string; width?: number; scale?: number },
): ColumnType | null {
  if (type.alias?.toUpperCase() === "JSON") return { kind: "json" };
  if (type.typeId === 19) return { kind: "decimal", precision: type.width, scale: type.scale };
  return DUCKDB_KINDS[type.typeId] ?? null;
}
