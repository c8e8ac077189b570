/**
 * `tau help pipeline|connectors|materializations`: the SDK's reference, read at run time from
 * its own doc comments with `deno doc --json`, so the help cannot drift from the code.
 */
import { join } from "node:path";
import { SDK_DOC_FILE, sdkDir, SOURCE_ROOT } from "../runtime/root.ts";
import { TauError } from "../core/errors.ts";

/** Each topic and the SDK module it documents. */
export const SDK_TOPICS: Record<string, string> = {
  pipeline: "mod.ts",
  connectors: "connectors/mod.ts",
  materializations: "materialize/mod.ts",
};

// deno-lint-ignore no-explicit-any
type Json = any;

export interface Entry {
  name: string;
  kind: string;
  signature: string;
  doc: string;
  default?: string;
  examples?: string[];
  members?: Entry[];
}

/**
 * The doc nodes of one SDK module, from `deno doc --json`; a compiled `tau` has no deno to ask,
 * and reads what build/compile.ts generated when it was built.
 */
async function docOf(topic: string, file: string): Promise<{ about: string; symbols: Json[] }> {
  const json = Deno.build.standalone
    ? JSON.parse(await Deno.readTextFile(`${SOURCE_ROOT}${SDK_DOC_FILE}`))[topic]
    : await denoDoc(file);
  const node = Object.values(json.nodes as Record<string, Json>)[0] ?? {};
  return { about: (node.module_doc?.doc ?? "").trim(), symbols: node.symbols ?? [] };
}

async function denoDoc(file: string): Promise<Json> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", file],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new TauError(
      "internal",
      `deno doc ${file} failed: ${new TextDecoder().decode(out.stderr)}`,
      {
        hint: "check that the SDK type-checks: deno check sdk/mod.ts",
      },
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** `tau help TOPIC` for one of SDK_TOPICS. */
export async function sdkHelp(topic: string) {
  const file = join(sdkDir(), SDK_TOPICS[topic]!);
  const { about, symbols } = await docOf(topic, file);
  const entries = symbols.map(symbol);
  const find = (name: string) => entries.find((e) => e.name === name);
  const take = (name: string) => find(name)?.members ?? [];
  const head = { topic, import: topic === "pipeline" ? "tau" : `tau/${topic}`, about };
  const tail = { source: `the doc comments of ${file} (deno doc --json)` };
  if (topic !== "pipeline") return { ...head, reference: entries, ...tail };
  return {
    ...head,
    // Nested options (limits.heapMb) are listed after their parent, each with its own doc.
    config: take("PipelineConfig").flatMap(({ members, ...m }) => [
      m,
      ...(members ?? []).map((sub) => ({ ...sub, name: `${m.name}.${sub.name}` })),
    ]),
    // What ctx is, with its examples, then each member.
    ctx_about: {
      doc: find("PipelineContext")?.doc ?? "",
      examples: find("PipelineContext")?.examples ?? [],
    },
    ctx: take("PipelineContext"),
    reference: entries.filter((e) => e.name !== "PipelineConfig" && e.name !== "PipelineContext"),
    see: "tau help connectors (what ctx.connection returns), tau help materializations " +
      "(ctx.materialize), tau help deploy",
    ...tail,
  };
}

function symbol(s: Json): Entry {
  const d = s.declarations[0];
  const def = d.def ?? {};
  const tp = typeParams(def.typeParams);
  const base = { name: s.name, kind: d.kind, ...docFields(d.jsDoc) };
  switch (d.kind) {
    case "function":
      return {
        ...base,
        signature: `function ${s.name}${tp}(${params(def.params)}): ${typeText(def.returnType)}`,
      };
    case "class":
      return {
        ...base,
        signature: `class ${s.name}${def.extends ? ` extends ${def.extends}` : ""}`,
        members: (def.constructors ?? []).map((c: Json) => ({
          name: "constructor",
          kind: "constructor",
          signature: `new ${s.name}(${params(c.params)})`,
          ...docFields(c.jsDoc),
        })),
      };
    case "typeAlias":
      return { ...base, signature: `type ${s.name}${tp} = ${typeText(def.tsType)}` };
    case "interface":
      return { ...base, signature: `interface ${s.name}${tp}`, members: members(def) };
    default:
      return { ...base, signature: `${d.kind} ${s.name}` };
  }
}

function docFields(jsDoc: Json): { doc: string; default?: string; examples?: string[] } {
  const tags: Json[] = jsDoc?.tags ?? [];
  const fallback = tags.find((t) => t.kind === "default")?.value;
  const examples = tags.filter((t) => t.kind === "example").map((t) => String(t.doc).trim());
  return {
    doc: (jsDoc?.doc ?? "").trim(),
    ...(fallback !== undefined ? { default: String(fallback) } : {}),
    ...(examples.length > 0 ? { examples } : {}),
  };
}

/** An interface's or type literal's members, each with its own doc. */
function members(def: Json): Entry[] {
  const calls = (def.callSignatures ?? []).map((c: Json) => ({
    name: "(call)",
    kind: "call",
    signature: `${typeParams(c.typeParams)}(${params(c.params)}): ${typeText(c.tsType)}`,
    ...docFields(c.jsDoc),
  }));
  const props = (def.properties ?? []).map((p: Json) => {
    const literal = p.tsType?.kind === "typeLiteral" ? members(p.tsType.value) : [];
    return {
      name: p.name,
      kind: "property",
      signature: `${p.readonly ? "readonly " : ""}${p.name}${p.optional ? "?" : ""}: ${
        typeText(p.tsType)
      }`,
      ...docFields(p.jsDoc),
      ...(literal.length > 0 ? { members: literal } : {}),
    };
  });
  const methods = (def.methods ?? []).map((m: Json) => ({
    name: m.name,
    kind: "method",
    signature: `${m.name}${m.optional ? "?" : ""}${typeParams(m.typeParams)}(${
      params(m.params)
    }): ${typeText(m.returnType)}`,
    ...docFields(m.jsDoc),
  }));
  return [...calls, ...props, ...methods];
}

function typeParams(list: Json[] | undefined): string {
  if (!list?.length) return "";
  return `<${
    list.map((p) =>
      p.name + (p.constraint ? ` extends ${typeText(p.constraint)}` : "") +
      (p.default ? ` = ${typeText(p.default)}` : "")
    ).join(", ")
  }>`;
}

function params(list: Json[] | undefined): string {
  return (list ?? []).map((p) => {
    const t = p.tsType ? `: ${typeText(p.tsType)}` : "";
    if (p.kind === "rest") return `...${p.arg?.name ?? "args"}${t}`;
    return `${p.name ?? "arg"}${p.optional ? "?" : ""}${t}`;
  }).join(", ");
}

/** A TypeScript type as written, from deno doc's type tree. */
export function typeText(t: Json): string {
  if (!t) return "unknown";
  const v = t.value;
  switch (t.kind) {
    case "keyword":
      return String(v);
    case "typeRef":
      return v.typeName +
        (v.typeParams?.length ? `<${v.typeParams.map(typeText).join(", ")}>` : "");
    case "union":
      return v.map(typeText).join(" | ");
    case "intersection":
      return v.map(typeText).join(" & ");
    case "array":
      return ["union", "intersection", "fnOrConstructor"].includes(v.kind)
        ? `(${typeText(v)})[]`
        : `${typeText(v)}[]`;
    case "tuple":
      return `[${v.map(typeText).join(", ")}]`;
    case "parenthesized":
      return `(${typeText(v)})`;
    case "typeOperator":
      return `${v.operator} ${typeText(v.tsType)}`;
    case "indexedAccess":
      return `${typeText(v.objType)}[${typeText(v.indexType)}]`;
    case "fnOrConstructor":
      return `${v.constructor ? "new " : ""}(${params(v.params)}) => ${typeText(v.tsType)}`;
    case "typeLiteral":
      return `{ ${members(v).map((m) => `${m.signature};`).join(" ")} }`;
    case "literal":
      if (v.kind === "string") return JSON.stringify(v.string);
      if (v.kind === "template") {
        return "`" + v.tsTypes.map((p: Json) =>
          p.kind === "literal" && p.value.kind === "string"
            ? p.value.string
            : `\${${typeText(p)}}`
        ).join("") + "`";
      }
      return String(v.number ?? v.boolean ?? v.bigInt ?? t.repr);
    default:
      // A kind this renderer does not know: deno doc's own short form. A test keeps "…" out.
      return t.repr || "…";
  }
}
