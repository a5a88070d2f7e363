// A small GraphQL engine for the fake GitHub: a parser for the query language (operations, variables, aliases,
// arguments, inline fragments, named fragments, @include/@skip), validation against a declared schema (unknown
// fields, types and arguments, missing required arguments, bad literals and variables, conflicting response keys),
// and an executor. Answers are GitHub-shaped: `{ data, errors }` with `path`, `locations`, `type` and
// `extensions.code`. It is not a general engine: mutations run their fields one after the other like queries (the
// resolvers do the writing), no introspection beyond `__typename`, no non-null error propagation (every field is
// treated as nullable at run time).

// ---------------------------------------------------------------------------------------------
// AST

export interface Loc {
  line: number;
  column: number;
}

export type ValueNode =
  | { kind: "Variable"; name: string }
  | { kind: "Int"; value: number }
  | { kind: "Float"; value: number }
  | { kind: "String"; value: string }
  | { kind: "Boolean"; value: boolean }
  | { kind: "Null" }
  | { kind: "Enum"; value: string }
  | { kind: "List"; values: ValueNode[] }
  | { kind: "Object"; fields: Record<string, ValueNode> };

export interface DirectiveNode {
  name: string;
  args: Record<string, ValueNode>;
}

export interface FieldNode {
  kind: "Field";
  alias: string | undefined;
  name: string;
  args: Record<string, ValueNode>;
  directives: DirectiveNode[];
  selections: Selection[] | undefined;
  loc: Loc;
}

export interface InlineFragmentNode {
  kind: "InlineFragment";
  typeCondition: string | undefined;
  directives: DirectiveNode[];
  selections: Selection[];
  loc: Loc;
}

export interface FragmentSpreadNode {
  kind: "FragmentSpread";
  name: string;
  directives: DirectiveNode[];
  loc: Loc;
}

export type Selection = FieldNode | InlineFragmentNode | FragmentSpreadNode;

export interface VariableDefinition {
  name: string;
  type: TypeRef;
  defaultValue: ValueNode | undefined;
  loc: Loc;
}

export interface OperationNode {
  operation: "query" | "mutation" | "subscription";
  name: string | undefined;
  variables: VariableDefinition[];
  selections: Selection[];
  loc: Loc;
}

export interface FragmentDefinition {
  name: string;
  typeCondition: string;
  selections: Selection[];
  loc: Loc;
}

export interface DocumentNode {
  operations: OperationNode[];
  fragments: Map<string, FragmentDefinition>;
}

/** A type reference: `String`, `String!`, `[GitObjectID!]!`. */
export type TypeRef = { kind: "Named"; name: string; nonNull: boolean } | { kind: "List"; of: TypeRef; nonNull: boolean };

export function typeRefText(t: TypeRef): string {
  const inner = t.kind === "Named" ? t.name : `[${typeRefText(t.of)}]`;
  return t.nonNull ? `${inner}!` : inner;
}

/** Parses `String!`, `[ID!]` and the like (used for schema declarations). */
export function parseTypeRef(text: string): TypeRef {
  const lexer = new Lexer(text);
  const parser = new Parser(lexer);
  const t = parser.typeRef();
  parser.expectEnd();
  return t;
}

// ---------------------------------------------------------------------------------------------
// Errors

export interface GraphQLErrorJson {
  message: string;
  type?: string;
  path?: (string | number)[];
  locations?: Loc[];
  extensions?: Record<string, unknown>;
}

/** A syntax or validation error: the whole request fails and no `data` is returned. */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly loc?: Loc,
    readonly extensions?: Record<string, unknown>,
  ) {
    super(message);
  }

  toJSON(): GraphQLErrorJson {
    return {
      message: this.message,
      ...(this.loc ? { locations: [this.loc] } : {}),
      ...(this.extensions ? { extensions: this.extensions } : {}),
    };
  }
}

/** Thrown by a resolver: the field becomes null and the error is listed (e.g. `type: "NOT_FOUND"`). */
export class GraphQLFieldError extends Error {
  constructor(
    message: string,
    readonly type?: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Lexer

type TokenKind = "Punct" | "Name" | "Int" | "Float" | "String" | "EOF";

interface Token {
  kind: TokenKind;
  value: string;
  loc: Loc;
}

const PUNCT = new Set(["!", "$", "&", "(", ")", ":", "=", "@", "[", "]", "{", "|", "}"]);

class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly src: string) {}

  private loc(at = this.pos): Loc {
    return { line: this.line, column: at - this.lineStart + 1 };
  }

  private fail(message: string): never {
    throw new GraphQLRequestError(message, this.loc(), { code: "parseError" });
  }

  next(): Token {
    const s = this.src;
    // Skip ignored tokens: whitespace, commas, comments, BOM.
    for (;;) {
      const c = s[this.pos];
      if (c === undefined) return { kind: "EOF", value: "", loc: this.loc() };
      if (c === "\n") {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === " " || c === "\t" || c === "\r" || c === "," || c === "\uFEFF") this.pos++;
      else if (c === "#") {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
      } else break;
    }
    const start = this.pos;
    const loc = this.loc();
    const c = s[start] as string;
    if (c === ".") {
      if (s.startsWith("...", start)) {
        this.pos += 3;
        return { kind: "Punct", value: "...", loc };
      }
      this.fail(`Parse error on "." at [${loc.line}, ${loc.column}]`);
    }
    if (PUNCT.has(c)) {
      this.pos++;
      return { kind: "Punct", value: c, loc };
    }
    if (/[_A-Za-z]/.test(c)) {
      let end = start + 1;
      while (end < s.length && /[_0-9A-Za-z]/.test(s[end] as string)) end++;
      this.pos = end;
      return { kind: "Name", value: s.slice(start, end), loc };
    }
    if (c === "-" || /[0-9]/.test(c)) {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(s.slice(start));
      if (!m) this.fail(`Parse error on "${c}" at [${loc.line}, ${loc.column}]`);
      this.pos += m[0].length;
      return { kind: m[2] !== undefined || m[3] !== undefined ? "Float" : "Int", value: m[0], loc };
    }
    if (c === '"') {
      if (s.startsWith('"""', start)) return { kind: "String", value: this.blockString(), loc };
      return { kind: "String", value: this.string(), loc };
    }
    this.fail(`Parse error on "${c}" at [${loc.line}, ${loc.column}]`);
  }

  private string(): string {
    const s = this.src;
    let out = "";
    this.pos++; // opening quote
    for (;;) {
      const c = s[this.pos];
      if (c === undefined || c === "\n") this.fail("Unterminated string");
      this.pos++;
      if (c === '"') return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = s[this.pos++];
      switch (e) {
        case '"':
        case "\\":
        case "/":
          out += e;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = s.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("Bad unicode escape in string");
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail(`Bad escape \\${e ?? ""} in string`);
      }
    }
  }

  private blockString(): string {
    const s = this.src;
    const end = s.indexOf('"""', this.pos + 3);
    if (end < 0) this.fail("Unterminated block string");
    const raw = s.slice(this.pos + 3, end);
    for (const ch of raw) if (ch === "\n") this.line++;
    this.pos = end + 3;
    // Block string value: common indentation removed, blank first/last lines dropped.
    const lines = raw.replace(/\\"""/g, '"""').split(/\r\n|\n|\r/);
    let common: number | undefined;
    for (const line of lines.slice(1)) {
      const indent = line.length - line.trimStart().length;
      if (indent < line.length && (common === undefined || indent < common)) common = indent;
    }
    const out = lines.map((l, i) => (i === 0 || common === undefined ? l : l.slice(common)));
    while (out.length > 0 && (out[0] as string).trim() === "") out.shift();
    while (out.length > 0 && (out[out.length - 1] as string).trim() === "") out.pop();
    return out.join("\n");
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
  private token: Token;

  constructor(private readonly lexer: Lexer) {
    this.token = lexer.next();
  }

  private advance(): Token {
    const t = this.token;
    this.token = this.lexer.next();
    return t;
  }

  private fail(t: Token = this.token): never {
    const shown = t.kind === "EOF" ? "end of file" : `"${t.value}"`;
    throw new GraphQLRequestError(`Parse error on ${shown} (${t.kind.toUpperCase()}) at [${t.loc.line}, ${t.loc.column}]`, t.loc, {
      code: "parseError",
    });
  }

  private peek(kind: TokenKind, value?: string): boolean {
    return this.token.kind === kind && (value === undefined || this.token.value === value);
  }

  private skip(kind: TokenKind, value?: string): boolean {
    if (!this.peek(kind, value)) return false;
    this.advance();
    return true;
  }

  private expect(kind: TokenKind, value?: string): Token {
    if (!this.peek(kind, value)) this.fail();
    return this.advance();
  }

  expectEnd(): void {
    if (!this.peek("EOF")) this.fail();
  }

  document(): DocumentNode {
    const doc: DocumentNode = { operations: [], fragments: new Map() };
    if (this.peek("EOF")) this.fail();
    while (!this.peek("EOF")) {
      const loc = this.token.loc;
      if (this.peek("Punct", "{")) {
        doc.operations.push({ operation: "query", name: undefined, variables: [], selections: this.selectionSet(), loc });
        continue;
      }
      const keyword = this.expect("Name");
      if (keyword.value === "fragment") {
        const name = this.expect("Name").value;
        if (name === "on") this.fail();
        if (!this.skip("Name", "on")) this.fail();
        const typeCondition = this.expect("Name").value;
        this.directives();
        if (doc.fragments.has(name)) throw new GraphQLRequestError(`Fragment name "${name}" must be unique`, loc);
        doc.fragments.set(name, { name, typeCondition, selections: this.selectionSet(), loc });
        continue;
      }
      if (keyword.value !== "query" && keyword.value !== "mutation" && keyword.value !== "subscription") this.fail(keyword);
      const name = this.peek("Name") ? this.advance().value : undefined;
      const variables: VariableDefinition[] = [];
      if (this.skip("Punct", "(")) {
        do {
          const vloc = this.token.loc;
          this.expect("Punct", "$");
          const vname = this.expect("Name").value;
          this.expect("Punct", ":");
          const type = this.typeRef();
          const defaultValue = this.skip("Punct", "=") ? this.value(true) : undefined;
          variables.push({ name: vname, type, defaultValue, loc: vloc });
        } while (!this.skip("Punct", ")"));
      }
      this.directives();
      doc.operations.push({ operation: keyword.value, name, variables, selections: this.selectionSet(), loc });
    }
    return doc;
  }

  typeRef(): TypeRef {
    let t: TypeRef;
    if (this.skip("Punct", "[")) {
      const of = this.typeRef();
      this.expect("Punct", "]");
      t = { kind: "List", of, nonNull: false };
    } else t = { kind: "Named", name: this.expect("Name").value, nonNull: false };
    if (this.skip("Punct", "!")) t.nonNull = true;
    return t;
  }

  private selectionSet(): Selection[] {
    this.expect("Punct", "{");
    const out: Selection[] = [];
    do out.push(this.selection());
    while (!this.skip("Punct", "}"));
    return out;
  }

  private selection(): Selection {
    const loc = this.token.loc;
    if (this.skip("Punct", "...")) {
      if (this.peek("Name") && this.token.value !== "on") {
        const name = this.advance().value;
        return { kind: "FragmentSpread", name, directives: this.directives(), loc };
      }
      const typeCondition = this.skip("Name", "on") ? this.expect("Name").value : undefined;
      const directives = this.directives();
      return { kind: "InlineFragment", typeCondition, directives, selections: this.selectionSet(), loc };
    }
    let name = this.expect("Name").value;
    let alias: string | undefined;
    if (this.skip("Punct", ":")) {
      alias = name;
      name = this.expect("Name").value;
    }
    const args = this.peek("Punct", "(") ? this.arguments(false) : {};
    const directives = this.directives();
    const selections = this.peek("Punct", "{") ? this.selectionSet() : undefined;
    return { kind: "Field", alias, name, args, directives, selections, loc };
  }

  private arguments(constant: boolean): Record<string, ValueNode> {
    this.expect("Punct", "(");
    const args: Record<string, ValueNode> = {};
    do {
      const t = this.expect("Name");
      this.expect("Punct", ":");
      if (t.value in args) throw new GraphQLRequestError(`There can be only one argument named "${t.value}"`, t.loc);
      args[t.value] = this.value(constant);
    } while (!this.skip("Punct", ")"));
    return args;
  }

  private directives(): DirectiveNode[] {
    const out: DirectiveNode[] = [];
    while (this.skip("Punct", "@")) {
      const name = this.expect("Name").value;
      out.push({ name, args: this.peek("Punct", "(") ? this.arguments(false) : {} });
    }
    return out;
  }

  private value(constant: boolean): ValueNode {
    const t = this.token;
    if (t.kind === "Punct" && t.value === "$" && !constant) {
      this.advance();
      return { kind: "Variable", name: this.expect("Name").value };
    }
    if (t.kind === "Int") {
      this.advance();
      return { kind: "Int", value: Number(t.value) };
    }
    if (t.kind === "Float") {
      this.advance();
      return { kind: "Float", value: Number(t.value) };
    }
    if (t.kind === "String") {
      this.advance();
      return { kind: "String", value: t.value };
    }
    if (t.kind === "Name") {
      this.advance();
      if (t.value === "true" || t.value === "false") return { kind: "Boolean", value: t.value === "true" };
      if (t.value === "null") return { kind: "Null" };
      return { kind: "Enum", value: t.value };
    }
    if (this.skip("Punct", "[")) {
      const values: ValueNode[] = [];
      while (!this.skip("Punct", "]")) values.push(this.value(constant));
      return { kind: "List", values };
    }
    if (this.skip("Punct", "{")) {
      const fields: Record<string, ValueNode> = {};
      while (!this.skip("Punct", "}")) {
        const name = this.expect("Name").value;
        this.expect("Punct", ":");
        fields[name] = this.value(constant);
      }
      return { kind: "Object", fields };
    }
    this.fail();
  }
}

export function parse(source: string): DocumentNode {
  return new Parser(new Lexer(source)).document();
}

// ---------------------------------------------------------------------------------------------
// Schema

/** What a resolver returns for a field of an interface type: the concrete type and the source value. */
export class Typed {
  constructor(
    readonly typename: string,
    readonly value: unknown,
  ) {}
}

export function typed(typename: string, value: unknown): Typed {
  return new Typed(typename, value);
}

export interface FieldDef<C> {
  /** Result type, e.g. `String`, `Blob`, `[PullRequest]`, `Int!`. */
  type: string;
  /** Argument name → type, e.g. `{ oid: "GitObjectID", first: "Int" }`. */
  args?: Record<string, string>;
  /** Not needed on interface fields. Default: the source's property of the field's name. */
  resolve?: (source: never, args: Record<string, unknown>, ctx: C) => unknown;
}

export type TypeDef<C> =
  | { kind: "object"; fields: Record<string, FieldDef<C>>; interfaces?: string[] }
  | { kind: "interface"; fields: Record<string, FieldDef<C>> }
  | { kind: "scalar"; /** Returns false when a value is not acceptable. */ check?: (v: unknown) => boolean }
  | { kind: "enum"; values: string[] }
  | { kind: "input"; fields: Record<string, string> };

export interface Schema<C> {
  query: string;
  /** The mutation root type, when the schema has one. */
  mutation?: string;
  types: Record<string, TypeDef<C>>;
}

function namedOf(t: TypeRef): string {
  return t.kind === "Named" ? t.name : namedOf(t.of);
}

// ---------------------------------------------------------------------------------------------
// Validation and execution

export interface ExecutionResult {
  data?: Record<string, unknown> | null;
  errors?: GraphQLErrorJson[];
}

export interface ExecuteRequest {
  query: unknown;
  variables?: unknown;
  operationName?: unknown;
}

interface FieldType {
  list: boolean;
  named: string;
}

class Engine<C> {
  private readonly fieldTypes = new Map<string, FieldType>();
  private readonly argTypes = new Map<string, TypeRef>();

  constructor(private readonly schema: Schema<C>) {
    for (const [name, def] of Object.entries(schema.types)) {
      if (def.kind !== "object" && def.kind !== "interface") continue;
      for (const [field, f] of Object.entries(def.fields)) {
        const t = parseTypeRef(f.type);
        if (!schema.types[namedOf(t)] && !BUILTIN_SCALARS.has(namedOf(t))) throw new Error(`schema: ${name}.${field} has unknown type ${namedOf(t)}`);
        this.fieldTypes.set(`${name}.${field}`, { list: t.kind === "List", named: namedOf(t) });
        for (const [arg, argType] of Object.entries(f.args ?? {})) this.argTypes.set(`${name}.${field}(${arg})`, parseTypeRef(argType));
      }
    }
  }

  private kindOf(typeName: string): TypeDef<C>["kind"] | undefined {
    if (BUILTIN_SCALARS.has(typeName)) return "scalar";
    return this.schema.types[typeName]?.kind;
  }

  private possibleTypes(typeName: string): Set<string> {
    const def = this.schema.types[typeName];
    if (def?.kind === "object") return new Set([typeName]);
    const out = new Set<string>();
    if (def?.kind === "interface") {
      for (const [name, d] of Object.entries(this.schema.types)) {
        if (d.kind === "object" && d.interfaces?.includes(typeName)) out.add(name);
      }
    }
    return out;
  }

  private fieldsOf(typeName: string): Record<string, FieldDef<C>> | undefined {
    const def = this.schema.types[typeName];
    return def && (def.kind === "object" || def.kind === "interface") ? def.fields : undefined;
  }

  // --- values -----------------------------------------------------------------------------------

  /** Coerces an input value to `type`; throws a message (without location) when it does not fit. */
  private coerce(type: TypeRef, value: unknown, what: string): unknown {
    if (value === null || value === undefined) {
      if (type.nonNull) throw new Error(`${what} must not be null (expected type '${typeRefText(type)}')`);
      return null;
    }
    if (type.kind === "List") {
      const items = Array.isArray(value) ? value : [value];
      return items.map((v, i) => this.coerce(type.of, v, `${what}[${i}]`));
    }
    const name = type.name;
    const bad = (): never => {
      throw new Error(`${what} has an invalid value (${JSON.stringify(value)}). Expected type '${typeRefText(type)}'.`);
    };
    const builtin = BUILTIN_SCALARS.get(name);
    if (builtin) return builtin(value) ? value : bad();
    const def = this.schema.types[name];
    if (!def) throw new Error(`unknown type ${name}`);
    switch (def.kind) {
      case "scalar":
        return def.check === undefined || def.check(value) ? value : bad();
      case "enum":
        return typeof value === "string" && def.values.includes(value) ? value : bad();
      case "input": {
        if (typeof value !== "object" || Array.isArray(value)) return bad();
        const record = value as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(record)) {
          if (!(key in def.fields)) throw new Error(`${what} has an invalid value: ${name} has no field '${key}'`);
        }
        for (const [key, fieldType] of Object.entries(def.fields)) {
          out[key] = this.coerce(parseTypeRef(fieldType), record[key], `${what}.${key}`);
        }
        return out;
      }
      default:
        return bad();
    }
  }

  /** A literal (or variable) as a JS value; variables come already coerced. */
  private valueOf(node: ValueNode, variables: Record<string, unknown>): unknown {
    switch (node.kind) {
      case "Variable":
        return variables[node.name];
      case "Null":
        return null;
      case "List":
        return node.values.map((v) => this.valueOf(v, variables));
      case "Object": {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(node.fields)) out[k] = this.valueOf(v, variables);
        return out;
      }
      default:
        return node.value;
    }
  }

  // --- validation -------------------------------------------------------------------------------

  private validate(doc: DocumentNode, op: OperationNode, variables: Record<string, unknown>, rootType: string): void {
    const declared = new Map(op.variables.map((v) => [v.name, v]));
    const usedFragments = new Set<string>();
    const checkValue = (node: ValueNode, loc: Loc): void => {
      if (node.kind === "Variable") {
        if (!declared.has(node.name)) {
          throw new GraphQLRequestError(`Variable $${node.name} is used by ${op.name ?? "anonymous query"} but not declared`, loc, {
            code: "variableNotDefined",
            variableName: node.name,
          });
        }
      } else if (node.kind === "List") node.values.forEach((v) => checkValue(v, loc));
      else if (node.kind === "Object") Object.values(node.fields).forEach((v) => checkValue(v, loc));
    };
    const checkDirectives = (directives: DirectiveNode[], loc: Loc): void => {
      for (const d of directives) {
        if (d.name !== "include" && d.name !== "skip") {
          throw new GraphQLRequestError(`Directive @${d.name} is not defined`, loc, { code: "undefinedDirective", directiveName: d.name });
        }
        const arg = d.args.if;
        if (!arg || Object.keys(d.args).length !== 1) {
          throw new GraphQLRequestError(`Directive @${d.name} requires exactly the argument 'if'`, loc, { code: "missingRequiredArguments" });
        }
        checkValue(arg, loc);
      }
    };

    const walk = (selections: Selection[], typeName: string, seen: Map<string, FieldNode>, fragmentStack: string[]): void => {
      const fields = this.fieldsOf(typeName);
      if (!fields) throw new Error(`internal: ${typeName} has no fields`);
      for (const sel of selections) {
        if (sel.kind === "Field") {
          checkDirectives(sel.directives, sel.loc);
          const key = sel.alias ?? sel.name;
          const earlier = seen.get(key);
          if (earlier && (earlier.name !== sel.name || JSON.stringify(earlier.args) !== JSON.stringify(sel.args))) {
            throw new GraphQLRequestError(
              `Field '${key}' has a field conflict: ${earlier.name}${argsText(earlier.args)} or ${sel.name}${argsText(sel.args)}?`,
              sel.loc,
              { code: "fieldConflict", fieldName: key },
            );
          }
          seen.set(key, sel);
          if (sel.name === "__typename") {
            if (sel.selections) throw this.scalarSelectionError(sel, "String!");
            if (Object.keys(sel.args).length > 0) throw new GraphQLRequestError(`Field '__typename' doesn't accept arguments`, sel.loc);
            continue;
          }
          const def = fields[sel.name];
          if (!def) {
            throw new GraphQLRequestError(`Field '${sel.name}' doesn't exist on type '${typeName}'`, sel.loc, {
              code: "undefinedField",
              typeName,
              fieldName: sel.name,
            });
          }
          for (const [arg, node] of Object.entries(sel.args)) {
            const argType = this.argTypes.get(`${typeName}.${sel.name}(${arg})`);
            if (!argType) {
              throw new GraphQLRequestError(`Field '${sel.name}' doesn't accept argument '${arg}'`, sel.loc, {
                code: "argumentNotAccepted",
                name: sel.name,
                typeName: "Field",
                argumentName: arg,
              });
            }
            checkValue(node, sel.loc);
            try {
              this.coerce(argType, this.valueOf(node, variables), `Argument '${arg}' on Field '${key}'`);
            } catch (err) {
              throw new GraphQLRequestError((err as Error).message, sel.loc, { code: "argumentLiteralsIncompatible", typeName: "Field", argumentName: arg });
            }
          }
          const missing = Object.entries(def.args ?? {})
            .filter(([arg, t]) => t.endsWith("!") && !(arg in sel.args))
            .map(([arg]) => arg);
          if (missing.length > 0) {
            throw new GraphQLRequestError(`Field '${sel.name}' is missing required arguments: ${missing.join(", ")}`, sel.loc, {
              code: "missingRequiredArguments",
              className: "Field",
              name: sel.name,
              arguments: missing.join(", "),
            });
          }
          const ft = this.fieldTypes.get(`${typeName}.${sel.name}`) as FieldType;
          const kind = this.kindOf(ft.named);
          if (kind === "object" || kind === "interface") {
            if (!sel.selections) {
              throw new GraphQLRequestError(
                `Field must have selections (field '${sel.name}' returns ${ft.named} but has no selections. Did you mean '${sel.name} { ... }'?)`,
                sel.loc,
                { code: "selectionMismatch", nodeName: `field '${sel.name}'`, typeName: ft.named },
              );
            }
            walk(sel.selections, ft.named, new Map(), fragmentStack);
          } else if (sel.selections) throw this.scalarSelectionError(sel, def.type);
          continue;
        }
        checkDirectives(sel.directives, sel.loc);
        let condition: string;
        let inner: Selection[];
        if (sel.kind === "InlineFragment") {
          condition = sel.typeCondition ?? typeName;
          inner = sel.selections;
        } else {
          const frag = doc.fragments.get(sel.name);
          if (!frag) throw new GraphQLRequestError(`Fragment ${sel.name} was used, but not defined`, sel.loc, { code: "useAndDefineFragment" });
          if (fragmentStack.includes(sel.name)) throw new GraphQLRequestError(`Fragment ${sel.name} contains an infinite loop`, sel.loc);
          usedFragments.add(sel.name);
          condition = frag.typeCondition;
          inner = frag.selections;
        }
        const condKind = this.kindOf(condition);
        if (condKind !== "object" && condKind !== "interface") {
          throw new GraphQLRequestError(`No such type ${condition}, so it can't be a fragment condition`, sel.loc, {
            code: "undefinedType",
            typeName: condition,
          });
        }
        const parentTypes = this.possibleTypes(typeName);
        if (![...this.possibleTypes(condition)].some((t) => parentTypes.has(t))) {
          throw new GraphQLRequestError(`Fragment on ${condition} can't be spread inside ${typeName}`, sel.loc, {
            code: "cannotSpreadFragment",
            typeName: condition,
            parentName: typeName,
          });
        }
        walk(inner, condition, condition === typeName ? seen : new Map(), sel.kind === "FragmentSpread" ? [...fragmentStack, sel.name] : fragmentStack);
      }
    };
    walk(op.selections, rootType, new Map(), []);
    for (const name of doc.fragments.keys()) {
      if (!usedFragments.has(name)) throw new GraphQLRequestError(`Fragment ${name} was defined, but not used`, doc.fragments.get(name)?.loc, { code: "useAndDefineFragment" });
    }
  }

  private scalarSelectionError(sel: FieldNode, type: string): GraphQLRequestError {
    return new GraphQLRequestError(
      `Selections can't be made on scalars (field '${sel.name}' returns ${type.replace(/!$/, "")} but has selections [${(sel.selections ?? [])
        .map((s) => (s.kind === "Field" ? s.name : "..."))
        .join(", ")}])`,
      sel.loc,
      { code: "selectionMismatch", nodeName: `field '${sel.name}'`, typeName: type.replace(/!$/, "") },
    );
  }

  private coerceVariables(op: OperationNode, provided: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const v of op.variables) {
      const named = namedOf(v.type);
      const kind = this.kindOf(named);
      if (kind === undefined || kind === "object" || kind === "interface") {
        throw new GraphQLRequestError(`${named} isn't a defined input type (on $${v.name})`, v.loc, { code: "variableRequiresValidType", typeName: named, variableName: v.name });
      }
      const raw = v.name in provided ? provided[v.name] : v.defaultValue ? this.valueOf(v.defaultValue, {}) : undefined;
      try {
        out[v.name] = this.coerce(v.type, raw, `Variable $${v.name}`);
      } catch {
        throw new GraphQLRequestError(`Variable $${v.name} of type ${typeRefText(v.type)} was provided invalid value`, v.loc, {
          value: raw === undefined ? null : raw,
          problems: [{ path: [], explanation: raw === undefined || raw === null ? "Expected value to not be null" : `Could not coerce value ${JSON.stringify(raw)} to ${named}` }],
        });
      }
    }
    return out;
  }

  // --- execution --------------------------------------------------------------------------------

  execute(request: ExecuteRequest, root: unknown, ctx: C): ExecutionResult {
    try {
      if (typeof request.query !== "string" || request.query.trim() === "") {
        throw new GraphQLRequestError("A query attribute must be specified and must be a string.");
      }
      const doc = parse(request.query);
      const wanted = typeof request.operationName === "string" && request.operationName !== "" ? request.operationName : undefined;
      let op: OperationNode | undefined;
      if (wanted !== undefined) {
        op = doc.operations.find((o) => o.name === wanted);
        if (!op) throw new GraphQLRequestError(`No operation named "${wanted}"`);
      } else if (doc.operations.length === 1) op = doc.operations[0];
      else throw new GraphQLRequestError("An operation name is required");
      if (!op) throw new GraphQLRequestError("No operations in query document");
      const rootType = op.operation === "query" ? this.schema.query : op.operation === "mutation" ? this.schema.mutation : undefined;
      if (rootType === undefined) throw new GraphQLRequestError(`Schema is not configured for ${op.operation}s`, op.loc, { code: "missingMutationConfiguration" });
      const provided = request.variables && typeof request.variables === "object" && !Array.isArray(request.variables) ? (request.variables as Record<string, unknown>) : {};
      const variables = this.coerceVariables(op, provided);
      this.validate(doc, op, variables, rootType);
      const errors: GraphQLErrorJson[] = [];
      const data = this.selectionSet(doc, op.selections, rootType, root, [], variables, ctx, errors);
      return errors.length > 0 ? { data, errors } : { data };
    } catch (err) {
      if (err instanceof GraphQLRequestError) return { errors: [err.toJSON()] };
      throw err;
    }
  }

  private included(directives: DirectiveNode[], variables: Record<string, unknown>): boolean {
    for (const d of directives) {
      const value = d.args.if ? this.valueOf(d.args.if, variables) === true : false;
      if (d.name === "skip" && value) return false;
      if (d.name === "include" && !value) return false;
    }
    return true;
  }

  /** Fields to resolve for a concrete type, by response key, with sub-selections merged. */
  private collect(doc: DocumentNode, selections: Selection[], typeName: string, variables: Record<string, unknown>, out = new Map<string, FieldNode[]>()): Map<string, FieldNode[]> {
    const def = this.schema.types[typeName];
    const implemented = def?.kind === "object" ? (def.interfaces ?? []) : [];
    for (const sel of selections) {
      if (!this.included(sel.directives, variables)) continue;
      if (sel.kind === "Field") {
        const key = sel.alias ?? sel.name;
        const list = out.get(key) ?? [];
        list.push(sel);
        out.set(key, list);
        continue;
      }
      const frag = sel.kind === "FragmentSpread" ? doc.fragments.get(sel.name) : undefined;
      const condition = sel.kind === "InlineFragment" ? sel.typeCondition : frag?.typeCondition;
      if (condition !== undefined && condition !== typeName && !implemented.includes(condition)) continue;
      this.collect(doc, sel.kind === "InlineFragment" ? sel.selections : (frag?.selections ?? []), typeName, variables, out);
    }
    return out;
  }

  private selectionSet(
    doc: DocumentNode,
    selections: Selection[],
    typeName: string,
    source: unknown,
    path: (string | number)[],
    variables: Record<string, unknown>,
    ctx: C,
    errors: GraphQLErrorJson[],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const fields = this.fieldsOf(typeName) ?? {};
    for (const [key, nodes] of this.collect(doc, selections, typeName, variables)) {
      const node = nodes[0] as FieldNode;
      const fieldPath = [...path, key];
      if (node.name === "__typename") {
        out[key] = typeName;
        continue;
      }
      const def = fields[node.name];
      const ft = this.fieldTypes.get(`${typeName}.${node.name}`);
      if (!def || !ft) throw new Error(`internal: ${typeName}.${node.name} not validated`);
      const args: Record<string, unknown> = {};
      for (const [arg, v] of Object.entries(node.args)) args[arg] = this.valueOf(v, variables);
      let value: unknown;
      try {
        value = def.resolve ? (def.resolve as (s: unknown, a: Record<string, unknown>, c: C) => unknown)(source, args, ctx) : (source as Record<string, unknown>)[node.name];
      } catch (err) {
        if (!(err instanceof GraphQLFieldError)) throw err;
        errors.push({ ...(err.type ? { type: err.type } : {}), path: fieldPath, locations: [node.loc], message: err.message });
        out[key] = null;
        continue;
      }
      const subSelections = nodes.flatMap((n) => n.selections ?? []);
      out[key] = this.complete(doc, ft, value, subSelections, fieldPath, variables, ctx, errors);
    }
    return out;
  }

  private complete(
    doc: DocumentNode,
    ft: FieldType,
    value: unknown,
    selections: Selection[],
    path: (string | number)[],
    variables: Record<string, unknown>,
    ctx: C,
    errors: GraphQLErrorJson[],
  ): unknown {
    if (value === null || value === undefined) return null;
    if (ft.list) {
      if (!Array.isArray(value)) throw new Error(`internal: ${path.join(".")} should be a list`);
      return value.map((v, i) => this.complete(doc, { list: false, named: ft.named }, v, selections, [...path, i], variables, ctx, errors));
    }
    const kind = this.kindOf(ft.named);
    if (kind !== "object" && kind !== "interface") return value;
    let typeName = ft.named;
    let source: unknown = value;
    if (value instanceof Typed) {
      typeName = value.typename;
      source = value.value;
    }
    if (this.kindOf(typeName) !== "object") throw new Error(`internal: ${path.join(".")} resolved to abstract type ${typeName}`);
    return this.selectionSet(doc, selections, typeName, source, path, variables, ctx, errors);
  }
}

function argsText(args: Record<string, ValueNode>): string {
  const keys = Object.keys(args);
  return keys.length === 0 ? "" : `(${keys.map((k) => `${k}: ...`).join(", ")})`;
}

const BUILTIN_SCALARS = new Map<string, (v: unknown) => boolean>([
  ["String", (v) => typeof v === "string"],
  ["ID", (v) => typeof v === "string" || (typeof v === "number" && Number.isInteger(v))],
  ["Int", (v) => typeof v === "number" && Number.isInteger(v) && Math.abs(v) <= 2 ** 31],
  ["Float", (v) => typeof v === "number" && Number.isFinite(v)],
  ["Boolean", (v) => typeof v === "boolean"],
]);

/** Builds an executor for `schema`; the schema is checked once here. */
export function createExecutor<C>(schema: Schema<C>): (request: ExecuteRequest, root: unknown, ctx: C) => ExecutionResult {
  const engine = new Engine(schema);
  return (request, root, ctx) => engine.execute(request, root, ctx);
}
