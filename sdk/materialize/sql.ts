/**
 * SQL text with its values kept apart. Identifiers and keywords enter as {@link raw} fragments
 * (identifiers only ever through a dialect's quoting); every other interpolated value becomes a
 * bound parameter, so no value is ever pasted into the SQL text.
 */

const SQL = Symbol("tau.sql");

/** A fragment of SQL: text parts with the values bound between them. */
export interface Sql {
  readonly [SQL]: true;
  readonly parts: readonly string[];
  readonly values: readonly unknown[];
}

/** A statement ready for a driver: text with dialect placeholders, and its parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

function make(parts: string[], values: unknown[]): Sql {
  return { [SQL]: true, parts, values };
}

export function isSql(value: unknown): value is Sql {
  return typeof value === "object" && value !== null && SQL in value;
}

/** Trusted SQL text: keywords and identifiers already quoted by a dialect. */
export function raw(text: string): Sql {
  return make([text], []);
}

/** Tagged template: nested {@link Sql} is spliced in, anything else becomes a parameter. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  const parts: string[] = [strings[0] ?? ""];
  const bound: unknown[] = [];
  const append = (text: string) => parts[parts.length - 1] += text;
  values.forEach((value, i) => {
    const next = strings[i + 1] ?? "";
    if (isSql(value)) {
      append(value.parts[0] ?? "");
      for (let j = 0; j < value.values.length; j++) {
        bound.push(value.values[j]);
        parts.push(value.parts[j + 1] ?? "");
      }
      append(next);
    } else {
      bound.push(value);
      parts.push(next);
    }
  });
  return make(parts, bound);
}

/** Joins fragments with a separator (`", "` by default). */
export function join(items: readonly Sql[], separator = ", "): Sql {
  if (items.length === 0) return raw("");
  const strings = [""].concat(items.slice(1).map(() => separator), [""]);
  return sql(Object.assign(strings, { raw: strings }) as TemplateStringsArray, ...items);
}

/** Renders a fragment with the placeholder style of a dialect (`$1`, `?`, `{p1:String}`). */
export function render(fragment: Sql, placeholder: (index: number) => string): Statement {
  let text = fragment.parts[0] ?? "";
  for (let i = 0; i < fragment.values.length; i++) {
    text += placeholder(i + 1) + (fragment.parts[i + 1] ?? "");
  }
  return { sql: text, params: [...fragment.values] };
}
