import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type CreatedKey, type Fields, type Key, type KeySettings, type LimitReset } from '../api';
import { fromLocalInput, isLimitUsd, plainUsd, toLocalInput } from '../billing';
import { Confirm, CopyButton, Field, Loading, Page, useSubmit } from '../components';
import { count, dateTime, usd } from '../format';
import { t } from '../i18n';
import { toast } from '../store';

/** The limit and expiry fields as the form holds them: text, '' for none. */
interface Draft {
  limit: string;
  reset: '' | LimitReset;
  expires: string;
}

const EMPTY: Draft = { limit: '', reset: '', expires: '' };

function draftOf(key: KeySettings): Draft {
  return { limit: key.limit_usd === null ? '' : plainUsd(key.limit_usd), reset: key.limit_reset ?? '', expires: toLocalInput(key.expires_at) };
}

/** The draft as the API's fields, or the field errors the form shows before asking the server. */
function settingsOf(draft: Draft): { settings: KeySettings } | { fields: Fields } {
  const limit = draft.limit.trim();
  if (limit && !isLimitUsd(limit)) return { fields: { limit_usd: t('keys.limitInvalid') } };
  const expires = fromLocalInput(draft.expires);
  if (draft.expires && !expires) return { fields: { expires_at: t('keys.expiresInvalid') } };
  return {
    settings: {
      limit_usd: limit || null,
      // a reset without a limit would mean nothing: the server stores none
      limit_reset: limit && draft.reset ? draft.reset : null,
      expires_at: expires,
    },
  };
}

/** The three inputs of a key's limit and expiry; ids are prefixed so the create form and the dialog can coexist. */
function LimitFields({ prefix, draft, onChange, fields }: {
  prefix: string;
  draft: Draft;
  onChange: (next: Draft) => void;
  fields: Fields;
}) {
  return (
    <div class="limit-fields">
      <Field id={`${prefix}-limit`} label={t('keys.limit')} value={draft.limit} placeholder={t('keys.limitPlaceholder')}
        hint={t('keys.limitHint')} error={fields.limit_usd} inputMode="decimal"
        onInput={(limit) => onChange({ ...draft, limit })} />
      <div class="field">
        <label for={`${prefix}-reset`}>{t('keys.reset')}</label>
        <select id={`${prefix}-reset`} value={draft.reset} disabled={!draft.limit.trim()}
          aria-invalid={fields.limit_reset ? 'true' : undefined}
          onChange={(e) => onChange({ ...draft, reset: (e.target as HTMLSelectElement).value as Draft['reset'] })}>
          <option value="">{t('keys.resetNever')}</option>
          <option value="daily">{t('keys.resets.daily')}</option>
          <option value="weekly">{t('keys.resets.weekly')}</option>
          <option value="monthly">{t('keys.resets.monthly')}</option>
        </select>
        {fields.limit_reset && <p class="field-error" role="alert">{fields.limit_reset}</p>}
      </div>
      <Field id={`${prefix}-expires`} type="datetime-local" label={t('keys.expires')} value={draft.expires}
        hint={t('keys.expiresHint')} error={fields.expires_at} onInput={(expires) => onChange({ ...draft, expires })} />
    </div>
  );
}

/** "$5.00 per month", "$5.00 in total", or "no limit". */
export function limitText(key: KeySettings): string {
  if (key.limit_usd === null) return t('keys.noLimit');
  return t(key.limit_reset ? `keys.per.${key.limit_reset}` : 'keys.per.life', { amount: usd(key.limit_usd) });
}

function expired(key: KeySettings): boolean {
  return key.expires_at !== null && Date.parse(key.expires_at) <= Date.now();
}

/** The dialog that edits one key's limit and expiry (PATCH with all three fields; null clears one). */
function EditLimits({ editing, onSaved, onClose }: {
  editing: Key | null;
  onSaved: (key: Key) => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const form = useSubmit();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (editing) {
      setDraft(draftOf(editing));
      form.setFields({});
      if (!dialog.open) dialog.showModal();
    } else if (dialog.open) {
      dialog.close();
    }
  }, [editing]);
  const save = (e: Event) => {
    e.preventDefault();
    if (!editing) return;
    const checked = settingsOf(draft);
    if ('fields' in checked) {
      form.setFields(checked.fields);
      return;
    }
    form.run(async () => {
      onSaved(await api.updateKey(editing.id, checked.settings));
      toast(t('keys.limitsSaved'));
    });
  };
  return (
    <dialog ref={ref} onClose={onClose} aria-labelledby="edit-limits-title" data-testid="edit-limits">
      <form onSubmit={save}>
        <h2 id="edit-limits-title">{t('keys.editTitle', { name: editing?.name ?? '' })}</h2>
        <LimitFields prefix="edit" draft={draft} onChange={setDraft} fields={form.fields} />
        <div class="actions">
          <button type="button" class="secondary" onClick={onClose}>{t('common.cancel')}</button>
          <button type="submit" disabled={form.busy} data-testid="save-limits">{t('common.save')}</button>
        </div>
      </form>
    </dialog>
  );
}

export function Keys() {
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [name, setName] = useState('');
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [deleting, setDeleting] = useState<Key | null>(null);
  const [editing, setEditing] = useState<Key | null>(null);
  const form = useSubmit();
  const load = () => api.keys().then((r) => setKeys(r.data)).catch(() => {});
  useEffect(() => {
    load();
  }, []);
  const create = (e: Event) => {
    e.preventDefault();
    const checked = settingsOf(draft);
    if ('fields' in checked) {
      form.setFields(checked.fields);
      return;
    }
    // only the fields set: a key without a limit or expiry is created exactly as before
    const settings = Object.fromEntries(Object.entries(checked.settings).filter(([, v]) => v !== null));
    form.run(async () => {
      setCreated(await api.createKey(name, settings));
      setName('');
      setDraft(EMPTY);
      load();
    });
  };
  const replace = (updated: Key) => {
    setKeys((ks) => ks?.map((k) => (k.id === updated.id ? { ...k, ...updated } : k)) ?? null);
  };
  const toggle = async (key: Key) => replace(await api.setKeyDisabled(key.id, !key.disabled));
  const remove = async () => {
    const key = deleting;
    setDeleting(null);
    if (!key) return;
    await api.deleteKey(key.id);
    toast(t('keys.deleted'));
    load();
  };
  const limitsGiven = Object.keys(form.fields).some((f) => f !== 'name');
  return (
    <Page title={t('keys.title')}>
      <form class="card" onSubmit={create} data-testid="create-key-form">
        <div class="inline-form">
          <Field id="key-name" label={t('keys.name')} value={name} onInput={setName} required
            placeholder={t('keys.namePlaceholder')} error={form.fields.name} />
          <button type="submit" disabled={form.busy}>{t('keys.create')}</button>
        </div>
        <details class="more-options" open={limitsGiven || undefined}>
          <summary>{t('keys.limitsTitle')}</summary>
          <p class="hint">{t('keys.limitsHint')}</p>
          <LimitFields prefix="key" draft={draft} onChange={setDraft} fields={form.fields} />
        </details>
      </form>
      {created && (
        <section class="card highlight" aria-labelledby="new-key-title" data-testid="new-key">
          <h2 id="new-key-title">{t('keys.createdTitle')}</h2>
          <p>{t('keys.createdHint')}</p>
          <div class="secret">
            <code data-testid="new-key-value">{created.key}</code>
            <CopyButton text={created.key} testid="copy-key" />
          </div>
          <button type="button" class="secondary" onClick={() => setCreated(null)}>{t('keys.done')}</button>
        </section>
      )}
      {!keys ? <Loading /> : keys.length === 0 ? <p>{t('common.none')}</p> : (
        <div class="table-wrap">
          <table data-testid="keys-table">
            <thead>
              <tr>
                <th scope="col">{t('keys.name')}</th>
                <th scope="col">{t('keys.prefix')}</th>
                <th scope="col">{t('keys.created')}</th>
                <th scope="col">{t('keys.lastUsed')}</th>
                <th scope="col" class="num">{t('keys.requests')}</th>
                <th scope="col" class="num">{t('keys.usage')}</th>
                <th scope="col">{t('keys.limitAndExpiry')}</th>
                <th scope="col">{t('keys.state')}</th>
                <th scope="col">{t('keys.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id} data-key-id={k.id}>
                  <td>{k.name}</td>
                  <td><code>{k.prefix}</code></td>
                  <td>{dateTime(k.created_at)}</td>
                  <td>{k.last_used_at ? dateTime(k.last_used_at) : t('common.never')}</td>
                  <td class="num">{count(k.requests)}</td>
                  <td class="num">{usd(k.usage_usd, true)}</td>
                  <td class="key-limits">
                    <span data-testid="key-limit" data-limit-usd={k.limit_usd ?? undefined}
                      data-limit-reset={k.limit_reset ?? undefined}>{limitText(k)}</span>
                    <span class="hint-inline" data-testid="key-expires" data-expires-at={k.expires_at ?? undefined}>
                      {k.expires_at ? t('keys.expiresOn', { time: dateTime(k.expires_at) }) : t('keys.noExpiry')}
                    </span>
                    <button type="button" class="link-button" onClick={() => setEditing(k)} data-testid="edit-key-limits"
                      aria-label={t('keys.editTitle', { name: k.name })}>
                      {t('keys.editLimits')}
                    </button>
                  </td>
                  <td>
                    {k.disabled
                      ? <span class="badge badge-error">{t('keys.disabled')}</span>
                      : expired(k)
                        ? <span class="badge badge-error">{t('keys.expired')}</span>
                        : <span class="badge badge-ok">{t('keys.enabled')}</span>}
                  </td>
                  <td>
                    {/* a flex box inside the cell: a cell that is itself a flex box leaves the table's grid */}
                    <div class="row-actions">
                      <button type="button" class="secondary" onClick={() => toggle(k).catch(() => {})}>
                        {k.disabled ? t('keys.enable') : t('keys.disable')}
                      </button>
                      <button type="button" class="danger" onClick={() => setDeleting(k)}>{t('common.delete')}</button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <EditLimits editing={editing} onClose={() => setEditing(null)} onSaved={(k) => {
        replace(k);
        setEditing(null);
      }} />
      <Confirm open={deleting !== null} text={t('keys.confirmDelete', { name: deleting?.name ?? '' })}
        confirmLabel={t('common.delete')} onConfirm={() => remove().catch(() => {})} onCancel={() => setDeleting(null)} />
    </Page>
  );
}
