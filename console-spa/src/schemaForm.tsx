// A form rendered from a JSON Schema object (a plugin's config schema): one labelled input per property, its
// description as help, its default as placeholder. The values and their conversion live in schema.ts.
import type { ObjectSchema } from './api';
import { t } from './i18n';
import { type Draft, fieldsOf, labelOf, type Problem, type SchemaField } from './schema';

/** What is wrong with a field, in the visitor's language. */
export function problemText(problem: Problem): string {
  return t(`schemaForm.errors.${problem.code}`, { limit: problem.limit ?? '' });
}

function defaultText(field: SchemaField): string | undefined {
  const value = field.property.default;
  if (value === undefined || value === null || value === '') return undefined; // an empty default is no hint
  const text = Array.isArray(value) ? value.join(', ') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return t('schemaForm.defaultIs', { value: text });
}

interface Props {
  schema: ObjectSchema;
  draft: Draft;
  /** One field changed (by name, so two changes before a render both count, as when a browser autofills). */
  onField: (name: string, value: string | boolean) => void;
  /** Each input's id is the prefix and the property's name. */
  idPrefix: string;
  /** Credentials that are stored: an empty input keeps them. */
  storedSecrets: readonly string[];
  /** Messages by property name (the form's own checks and the server's field errors). */
  errors: Record<string, string>;
  disabled?: boolean;
}

export function SchemaForm(props: Props) {
  return (
    <div class="schema-form">
      {fieldsOf(props.schema).map((field) => (
        <SchemaInput key={field.name} field={field} {...props} />
      ))}
    </div>
  );
}

function SchemaInput(props: Props & { field: SchemaField }) {
  const { field, draft } = props;
  const id = `${props.idPrefix}${field.name}`;
  const error = props.errors[field.name];
  const stored = field.secret && props.storedSecrets.includes(field.name);
  const help = field.property.description;
  const extraHint = field.kind === 'list' ? t('schemaForm.listHint') : field.kind === 'json' ? t('schemaForm.jsonHint') : '';
  const describedBy = [help || extraHint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const set = (value: string | boolean) => props.onField(field.name, value);
  const common = {
    id,
    name: field.name,
    disabled: props.disabled,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': describedBy || undefined,
  };
  const text = typeof draft[field.name] === 'string' ? (draft[field.name] as string) : '';
  const label = field.property.title || labelOf(field.name);
  const messages = (
    <>
      {(help || extraHint) && <p class="hint" id={`${id}-hint`}>{[help, extraHint].filter(Boolean).join(' ')}</p>}
      {error && <p class="field-error" id={`${id}-error`} role="alert">{error}</p>}
    </>
  );

  if (field.kind === 'boolean') {
    return (
      <div class="field">
        <div class="check">
          <input type="checkbox" {...common} checked={draft[field.name] === true}
            onChange={(e) => set((e.target as HTMLInputElement).checked)} />
          <label for={id}>{label}</label>
        </div>
        {messages}
      </div>
    );
  }

  const labelEl = (
    <label for={id}>
      {label}
      {field.required && !stored && <span class="required" aria-hidden="true"> *</span>}
    </label>
  );
  // a stored credential need not be typed again: only then is a required one optional
  const required = field.required && !stored;
  let input;
  if (field.kind === 'select') {
    const def = field.property.default;
    const emptyLabel = def !== undefined && def !== null
      ? t('schemaForm.defaultOption', { value: String(def) })
      : field.required ? t('schemaForm.choose') : t('schemaForm.unset');
    input = (
      <select {...common} required={required} value={text}
        onChange={(e) => set((e.target as HTMLSelectElement).value)}>
        <option value="">{emptyLabel}</option>
        {(field.property.enum ?? []).map((option) => (
          <option key={String(option)} value={String(option)}>{String(option)}</option>
        ))}
      </select>
    );
  } else if (field.kind === 'list' || field.kind === 'json') {
    input = (
      <textarea {...common} required={required} value={text} rows={field.kind === 'json' ? 4 : 3}
        placeholder={defaultText(field)} spellcheck={false}
        onInput={(e) => set((e.target as HTMLTextAreaElement).value)} />
    );
  } else {
    const numeric = field.kind === 'integer' || field.kind === 'number';
    input = (
      <input {...common}
        type={field.secret ? 'password' : numeric ? 'number' : field.kind === 'url' ? 'url' : 'text'}
        required={required}
        value={text}
        min={numeric ? field.property.minimum : undefined}
        max={numeric ? field.property.maximum : undefined}
        step={field.kind === 'integer' ? 1 : numeric ? 'any' : undefined}
        inputMode={field.kind === 'integer' ? 'numeric' : field.kind === 'number' ? 'decimal' : undefined}
        // never offer the console password for a destination's credential
        autocomplete={field.secret ? 'new-password' : 'off'}
        spellcheck={false}
        placeholder={stored ? t('schemaForm.storedSecret') : defaultText(field)}
        onInput={(e) => set((e.target as HTMLInputElement).value)} />
    );
  }
  return (
    <div class="field">
      {labelEl}
      {input}
      {messages}
    </div>
  );
}
