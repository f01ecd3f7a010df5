/**
 * Tool parameter schemas for the lean HTTP clients: zod → JSON Schema (draft-07, every object closed with
 * `additionalProperties: false`, as the Vercel AI SDK sends them to OpenAI), and that JSON Schema → the
 * OpenAPI subset Gemini's `functionDeclarations` take. Converted once per schema object, not per request.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isRecord } from './llm-errors.ts';
import type { AgentTool } from './tool.ts';
import { SwitchboardError } from '../../errors.ts';

export type JsonSchema = Record<string, unknown>;

const jsonSchemas = new WeakMap<z.ZodType, JsonSchema>();

/** The tool's parameters as JSON Schema (draft-07, input shape, no `$ref`s, closed objects). */
export function toolJsonSchema(tool: AgentTool): JsonSchema {
  const cached = jsonSchemas.get(tool.parameters);
  if (cached) return cached;
  const schema = closeObjects(z.toJSONSchema(tool.parameters, { target: 'draft-7', io: 'input', reused: 'inline' }) as JsonSchema);
  jsonSchemas.set(tool.parameters, schema);
  return schema;
}

/** `additionalProperties: false` on every object that does not say otherwise, recursively. */
function closeObjects(schema: JsonSchema): JsonSchema {
  const type = schema.type;
  if (type === 'object' || (Array.isArray(type) && type.includes('object'))) {
    schema.additionalProperties = isRecord(schema.additionalProperties) ? closeObjects(schema.additionalProperties) : false;
    if (isRecord(schema.properties)) {
      for (const [key, value] of Object.entries(schema.properties)) {
        if (isRecord(value)) schema.properties[key] = closeObjects(value);
      }
    }
  }
  if (Array.isArray(schema.items)) schema.items = schema.items.map((item: unknown) => (isRecord(item) ? closeObjects(item) : item));
  else if (isRecord(schema.items)) schema.items = closeObjects(schema.items);
  for (const key of ['anyOf', 'allOf', 'oneOf'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) schema[key] = list.map((item: unknown) => (isRecord(item) ? closeObjects(item) : item));
  }
  if (isRecord(schema.definitions)) {
    for (const [key, value] of Object.entries(schema.definitions)) {
      if (isRecord(value)) schema.definitions[key] = closeObjects(value);
    }
  }
  return schema;
}

/** Thrown for JSON Schema the OpenAPI subset cannot express (then the JSON Schema is sent as is). */
class UnsupportedSchemaError extends SwitchboardError {
  constructor(message: string) {
    super(message, { code: 'unsupported_schema' });
  }
}

/**
 * Gemini `parameters` (OpenAPI 3.0 subset) from JSON Schema: keeps type, description, required, format,
 * enum, properties, items, allOf/anyOf/oneOf and minLength; `null` in a type list or `anyOf` becomes
 * `nullable`; `const` becomes a one-value enum; a parameterless root object becomes `undefined` (no
 * `parameters`). Schemas with `$ref`s are not converted (undefined result): send them as
 * `parametersJsonSchema` instead.
 */
export function toGeminiSchema(schema: unknown, isRoot = true): JsonSchema | undefined {
  try {
    return convert(schema, isRoot);
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) return undefined;
    throw error;
  }
}

function isEmptyObject(schema: JsonSchema): boolean {
  return (
    schema.type === 'object' &&
    (!isRecord(schema.properties) || Object.keys(schema.properties).length === 0) &&
    !schema.additionalProperties
  );
}

function convert(schema: unknown, isRoot: boolean): JsonSchema | undefined {
  if (schema === undefined || schema === null) return undefined;
  if (typeof schema === 'boolean') return { type: 'boolean', properties: {} };
  if (!isRecord(schema)) return undefined;
  if (schema.$ref !== undefined) throw new UnsupportedSchemaError('references');
  if (isEmptyObject(schema)) {
    if (isRoot) return undefined;
    return typeof schema.description === 'string' && schema.description
      ? { type: 'object', description: schema.description }
      : { type: 'object' };
  }
  const out: JsonSchema = {};
  if (schema.description) out.description = schema.description;
  if (schema.required) out.required = schema.required;
  if (schema.format) out.format = schema.format;
  const type = schema.type;
  if (Array.isArray(type)) {
    const types = type.filter((t) => t !== 'null');
    if (types.length === 0) out.type = 'null';
    else if (types.length === 1) out.type = types[0];
    else out.anyOf = types.map((t) => ({ type: t }));
    if (types.length > 0 && type.includes('null')) out.nullable = true;
  } else if (type !== undefined) {
    out.type = type;
  }
  const values = Array.isArray(schema.enum) ? (schema.enum as unknown[]) : 'const' in schema ? [schema.const] : undefined;
  if (values) addEnum(out, values, type);
  if (isRecord(schema.properties)) {
    const properties: JsonSchema = {};
    for (const [key, value] of Object.entries(schema.properties)) properties[key] = convert(value, false);
    out.properties = properties;
  }
  if (schema.items) {
    out.items = Array.isArray(schema.items) ? schema.items.map((item: unknown) => convert(item, false)) : convert(schema.items, false);
  }
  if (Array.isArray(schema.allOf)) out.allOf = schema.allOf.map((item: unknown) => convert(item, false));
  if (Array.isArray(schema.anyOf)) {
    const isNull = (item: unknown): boolean => isRecord(item) && item.type === 'null';
    const others = (schema.anyOf as unknown[]).filter((item) => !isNull(item));
    if (others.length < schema.anyOf.length) {
      if (others.length === 1) {
        const single = convert(others[0], false);
        if (single) Object.assign(out, { nullable: true }, single);
      } else {
        out.anyOf = others.map((item) => convert(item, false));
        out.nullable = true;
      }
    } else {
      out.anyOf = others.map((item) => convert(item, false));
    }
  }
  if (Array.isArray(schema.oneOf)) out.oneOf = schema.oneOf.map((item: unknown) => convert(item, false));
  if (schema.minLength !== undefined) out.minLength = schema.minLength;
  return out;
}

/** Gemini enums: one primitive type; non-string values go as strings with `format: 'enum'`. */
function addEnum(out: JsonSchema, values: unknown[], type: unknown): void {
  const allows = (t: string): boolean => type === undefined || type === t || (Array.isArray(type) && type.includes(t));
  const nullable = (Array.isArray(type) && type.includes('null')) || (type === undefined && values.includes(null));
  const kept = nullable ? values.filter((v) => v !== null) : values;
  if (values.length > 0 && values.every((v) => v === null) && (type === undefined || allows('null'))) {
    out.type = 'null';
    if (Array.isArray(type)) delete out.anyOf;
    return;
  }
  let enumType: string | undefined;
  if (kept.length > 0) {
    if (allows('string') && kept.every((v) => typeof v === 'string')) enumType = 'string';
    else if ((allows('number') || allows('integer')) && kept.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      enumType = allows('number') ? 'number' : kept.every((v) => Number.isInteger(v)) ? 'integer' : undefined;
    } else if (allows('boolean') && kept.every((v) => typeof v === 'boolean')) enumType = 'boolean';
  }
  if (!enumType) throw new UnsupportedSchemaError('enum with mixed or unsupported values');
  out.type = enumType;
  if (Array.isArray(type)) delete out.anyOf;
  if (nullable) out.nullable = true;
  out.enum = enumType === 'string' ? kept : kept.map(String);
  if (enumType !== 'string') out.format = 'enum';
}

/**
 * A streamed tool call's arguments as the AI SDK returns them: empty text is `{}`; JSON that the tool's
 * schema accepts comes back as the schema's output (defaults applied, unknown keys dropped); anything else
 * (unknown tool, schema failure) as the parsed JSON, or the raw text when it is not JSON. The pipeline
 * validates again and answers the model with an error result for invalid calls.
 */
export function toolCallInput(tools: readonly AgentTool[], toolName: string, text: string): unknown {
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
  const tool = tools.find((candidate) => candidate.name === toolName);
  if (!tool) return parsed;
  const result = tool.parameters.safeParse(parsed);
  return result.success ? result.data : parsed;
}

/** An id for a call the server sent without one (the AI SDK makes one up too). */
export function generatedCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}
