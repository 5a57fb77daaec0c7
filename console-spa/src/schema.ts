// The values of a form rendered from a JSON Schema (a plugin's config schema), kept apart from the rendering so the
// conversion can be tested: the form holds text and checkbox states, the server gets typed JSON.
import type { ObjectSchema, SchemaProperty } from './api';

/** How a property is edited. */
export type FieldKind = 'text' | 'url' | 'select' | 'integer' | 'number' | 'boolean' | 'list' | 'json';

export interface SchemaField {
  name: string;
  kind: FieldKind;
  property: SchemaProperty;
  required: boolean;
  /** `writeOnly`: a password input, never filled from what is stored. */
  secret: boolean;
}

/** What the form holds: a string per input, a boolean per checkbox. */
export type Draft = Record<string, string | boolean>;

export type ProblemCode = 'required' | 'number' | 'integer' | 'minimum' | 'maximum' | 'json';
export interface Problem {
  code: ProblemCode;
  /** The bound for `minimum` and `maximum`. */
  limit?: number;
}

const SCALARS = new Set(['string', 'integer', 'number', 'boolean']);

/** The one type of a property (`["string", "null"]` is a string); undefined when it names none. */
function typeOf(property: SchemaProperty | undefined): string | undefined {
  const type = property?.type as string | string[] | undefined;
  return Array.isArray(type) ? type.find((t) => t !== 'null') : type;
}

function kindOf(property: SchemaProperty): FieldKind {
  const type = typeOf(property);
  if (Array.isArray(property.enum) && property.enum.length > 0 && (type === undefined || SCALARS.has(type))) {
    return 'select';
  }
  switch (type) {
    case 'string':
      return property.format === 'uri' || property.format === 'url' ? 'url' : 'text';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const item = typeOf(property.items);
      return item === 'string' || item === 'integer' || item === 'number' || item === undefined ? 'list' : 'json';
    }
    default:
      // objects, unions (oneOf) and anything else: edited as JSON
      return 'json';
  }
}

/** The schema's properties as form fields, in the schema's order. */
export function fieldsOf(schema: ObjectSchema): SchemaField[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    kind: kindOf(property),
    property,
    required: required.has(name),
    secret: property.writeOnly === true,
  }));
}

function textOf(value: unknown, kind: FieldKind): string {
  if (value === undefined || value === null) return '';
  if (kind === 'list' && Array.isArray(value)) return value.map(String).join('\n');
  if (kind === 'json' || typeof value === 'object') return JSON.stringify(value, null, 2);
  return String(value);
}

/**
 * The form's starting values: the stored configuration where it has a field, else empty (so the server's default
 * applies) — except a checkbox, which shows its default, and a required field, which starts at its default. A
 * credential always starts empty.
 */
export function draftOf(schema: ObjectSchema, config: Record<string, unknown> = {}): Draft {
  const draft: Draft = {};
  for (const field of fieldsOf(schema)) {
    const stored = field.secret ? undefined : config[field.name];
    if (field.kind === 'boolean') {
      draft[field.name] = typeof stored === 'boolean' ? stored : field.property.default === true;
    } else if (stored !== undefined && stored !== null) {
      draft[field.name] = textOf(stored, field.kind);
    } else {
      draft[field.name] = field.required && !field.secret ? textOf(field.property.default, field.kind) : '';
    }
  }
  return draft;
}

type Outcome = { value: unknown } | { problem: Problem } | { empty: true };

function numberOf(text: string, property: SchemaProperty, integer: boolean): Outcome {
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) return { problem: { code: 'number' } };
  if (integer && !Number.isInteger(n)) return { problem: { code: 'integer' } };
  if (typeof property.minimum === 'number' && n < property.minimum) {
    return { problem: { code: 'minimum', limit: property.minimum } };
  }
  if (typeof property.maximum === 'number' && n > property.maximum) {
    return { problem: { code: 'maximum', limit: property.maximum } };
  }
  return { value: n };
}

/** One field's typed value, or that it is empty (left out), or what is wrong with it. */
function outcomeOf(field: SchemaField, raw: string | boolean | undefined): Outcome {
  if (field.kind === 'boolean') return { value: raw === true };
  const untrimmed = typeof raw === 'string' ? raw : '';
  const text = untrimmed.trim();
  if (text === '') return { empty: true };
  switch (field.kind) {
    case 'integer':
    case 'number':
      return numberOf(text, field.property, field.kind === 'integer');
    case 'select':
      // the option's own value, typed as the schema has it (an enum of numbers stays numbers)
      return { value: (field.property.enum ?? []).find((option) => String(option) === text) ?? text };
    case 'list': {
      const itemType = typeOf(field.property.items);
      const items = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
      if (itemType !== 'integer' && itemType !== 'number') return { value: items };
      const numbers: unknown[] = [];
      for (const item of items) {
        const n = numberOf(item, field.property.items ?? {}, itemType === 'integer');
        if (!('value' in n)) return n;
        numbers.push(n.value);
      }
      return { value: numbers };
    }
    case 'json':
      try {
        return { value: JSON.parse(text) };
      } catch {
        return { problem: { code: 'json' } };
      }
    default:
      // a credential is sent exactly as typed: spaces may belong to it
      return { value: field.secret ? untrimmed : text };
  }
}

/**
 * The configuration the server gets: every field filled in, typed by its schema (numbers as numbers, booleans as
 * booleans, lists as arrays); an empty field is left out so its default applies, and an empty credential that is
 * stored (`storedSecrets`) is left out so the server keeps it. Or, when a field is wrong, what is wrong with each.
 */
export function configOf(
  schema: ObjectSchema,
  draft: Draft,
  storedSecrets: readonly string[] = [],
): { config: Record<string, unknown> } | { problems: Record<string, Problem> } {
  const config: Record<string, unknown> = {};
  const problems: Record<string, Problem> = {};
  for (const field of fieldsOf(schema)) {
    const outcome = outcomeOf(field, draft[field.name]);
    if ('problem' in outcome) {
      problems[field.name] = outcome.problem;
    } else if ('value' in outcome) {
      config[field.name] = outcome.value;
    } else if (field.required && !(field.secret && storedSecrets.includes(field.name))) {
      problems[field.name] = { code: 'required' };
    }
  }
  return Object.keys(problems).length > 0 ? { problems } : { config };
}

/** JSON with every object's keys sorted: two equal configurations give the same text, whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A property name as a label when the schema gives no title: "path_style" → "Path style", "sse_kms_key_id" → "SSE KMS key id". */
export function labelOf(name: string): string {
  const acronyms = new Set(['id', 'sse', 'kms', 'tls', 'ssl', 'sasl', 'url', 'uri', 'pem', 'arn']);
  const words = name.split('_').filter(Boolean).map((w, i) =>
    acronyms.has(w) && w !== 'id' ? w.toUpperCase() : i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w);
  return words.join(' ');
}
