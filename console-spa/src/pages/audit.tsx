import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type AuditRequest, type AuditSinkType, type AuditView } from '../api';
import { requestKey, saveAllowed, storedSecrets, type TestResult, waiting } from '../audit';
import { Confirm, Loading, Notice, Page, useSubmit } from '../components';
import { count, dateTime } from '../format';
import { t } from '../i18n';
import { configOf, type Draft, draftOf } from '../schema';
import { problemText, SchemaForm } from '../schemaForm';
import { toast } from '../store';

const REFRESH_MS = 5_000;
const KINDS = ['AUTH', 'CONFIG', 'REFUSED', 'UNAVAILABLE', 'TIMEOUT'];

type Configured = Extract<AuditView, { configured: true }>;

const sinkLabel = (sinks: AuditSinkType[], type: string) => sinks.find((s) => s.type === type)?.schema.title || type;

/** A form value per sink, each starting from what is stored for that sink (credentials never). */
function draftsOf(sinks: AuditSinkType[], view: AuditView): Record<string, Draft> {
  return Object.fromEntries(sinks.map((s) => [
    s.type,
    draftOf(s.schema, view.configured && view.sink === s.type ? view.config : {}),
  ]));
}

function TestOutcome({ result, current }: { result: TestResult | null; current: string | null }) {
  // always in the page, so a screen reader announces what appears in it
  const state = !result ? 'none' : !result.ok ? 'failed' : result.key === current ? 'ok' : 'stale';
  return (
    <div id="audit-test-result" data-testid="audit-test-result" data-result={state} aria-live="polite">
      {result && !result.ok && (
        <Notice kind="error">
          <strong data-kind={result.kind ?? undefined}>
            {t(`audit.kinds.${result.kind && KINDS.includes(result.kind) ? result.kind : 'other'}`)}
          </strong>{' '}
          {result.message}
        </Notice>
      )}
      {state === 'ok' && <Notice>{t('audit.testOk')}</Notice>}
      {state === 'stale' && <Notice kind="warn">{t('audit.testStale')}</Notice>}
    </div>
  );
}

function Status({ view, sinks, busy, refresh, off }: {
  view: Configured;
  sinks: AuditSinkType[];
  busy: boolean;
  refresh: () => void;
  off: () => void;
}) {
  const { status } = view;
  const queue = waiting(status);
  return (
    <section class="card" aria-labelledby="audit-status-title" data-testid="audit-status">
      <div class="snippet-head">
        <h2 id="audit-status-title">{t('audit.status')}</h2>
        <button type="button" class="secondary" id="audit-refresh" onClick={refresh}>{t('audit.refresh')}</button>
      </div>
      <p class="hint">{t('audit.autoRefresh')}</p>
      <dl class="stats">
        <div class="stat">
          <dt>{t('audit.delivered')}</dt>
          <dd id="audit-delivered" data-count={status.delivered}>{count(status.delivered)}</dd>
        </div>
        <div class={status.dropped > 0 ? 'stat stat-alert' : 'stat'}>
          <dt>{t('audit.dropped')}</dt>
          <dd id="audit-dropped" data-count={status.dropped}>{count(status.dropped)}</dd>
        </div>
        <div class="stat">
          <dt>{t('audit.waiting')}</dt>
          <dd id="audit-waiting" data-records={queue?.records} data-batches={queue?.batches}>
            {queue ? count(queue.records) : '–'}
          </dd>
          {queue && <p class="hint">{t('audit.spooled', { batches: count(queue.batches) })}</p>}
        </div>
      </dl>
      {status.dropped > 0 && <Notice kind="warn">{t('audit.droppedHint')}</Notice>}
      <dl class="details">
        <dt>{t('audit.state')}</dt>
        <dd>
          <span id="audit-state" data-state={view.enabled ? 'on' : 'off'}
            class={view.enabled ? 'badge badge-ok' : 'badge badge-muted'}>
            {view.enabled ? t('audit.on') : t('audit.off')}
          </span>
          {!view.enabled && <span class="hint-inline"> {t('audit.offDraining')}</span>}
        </dd>
        <dt>{t('audit.destination')}</dt>
        <dd data-testid="audit-saved-sink" data-sink={view.sink}>{sinkLabel(sinks, view.sink)}</dd>
        <dt>{t('audit.lastError')}</dt>
        <dd id="audit-last-error" class={status.last_error ? 'negative' : undefined}
          data-has-error={status.last_error ? 'true' : 'false'}>
          {status.last_error
            ? t('audit.lastErrorValue', { time: dateTime(status.last_error_at), error: status.last_error })
            : t('audit.noError')}
        </dd>
        <dt>{t('audit.lastDelivery')}</dt>
        <dd id="audit-last-delivered">{status.last_delivered_at ? dateTime(status.last_delivered_at) : t('common.never')}</dd>
        <dt>{t('audit.savedAt')}</dt>
        <dd>{dateTime(view.updated_at)}</dd>
      </dl>
      {view.enabled && (
        <div class="actions">
          <button type="button" class="danger" id="audit-off" disabled={busy} onClick={off}>{t('audit.turnOff')}</button>
        </div>
      )}
    </section>
  );
}

export function Audit() {
  const [sinks, setSinks] = useState<AuditSinkType[] | null>(null);
  const [view, setView] = useState<AuditView | null>(null);
  const [failed, setFailed] = useState(false);
  const [sink, setSink] = useState('');
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const [result, setResult] = useState<TestResult | null>(null);
  const [confirmOff, setConfirmOff] = useState(false);
  const form = useSubmit();

  /** The form starts again from what is stored (at load and after a save). */
  const reset = (all: AuditSinkType[], stored: AuditView) => {
    setDrafts(draftsOf(all, stored));
    const storedSink = stored.configured && all.some((s) => s.type === stored.sink) ? stored.sink : null;
    setSink(storedSink ?? all[0]?.type ?? '');
  };
  useEffect(() => {
    Promise.all([api.auditSinks(), api.audit()]).then(([s, v]) => {
      setSinks(s.data);
      setView(v);
      reset(s.data, v);
    }).catch(() => setFailed(true));
  }, []);

  const refresh = (silent: boolean) => api.audit({ silent }).then(setView).catch(() => {});
  const configured = view?.configured === true;
  useEffect(() => {
    if (!configured) return;
    const timer = setInterval(() => {
      if (!document.hidden) refresh(true);
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [configured]);

  const chosen = sinks?.find((s) => s.type === sink) ?? null;
  const draft = drafts[sink] ?? {};
  const secrets = storedSecrets(view, sink);
  const built = chosen ? configOf(chosen.schema, draft, secrets) : null;
  const request: AuditRequest | null = built && 'config' in built ? { sink, config: built.config } : null;
  const current = request ? requestKey(request) : null;
  const canSave = saveAllowed(result, current) && !form.busy;

  const failure = (key: string, e: unknown): boolean => {
    if (!(e instanceof ApiError) || e.status !== 422) return false;
    setResult({ key, ok: false, message: e.message, kind: e.kind });
    return true;
  };
  const test = (e: Event) => {
    e.preventDefault();
    if (!built) return;
    if ('problems' in built) {
      setResult(null);
      form.setFields(Object.fromEntries(Object.entries(built.problems).map(([name, p]) => [name, problemText(p)])));
      return;
    }
    const tested = { sink, config: built.config };
    const key = requestKey(tested);
    setResult(null);
    form.run(async () => {
      try {
        await api.testAudit(tested);
        setResult({ key, ok: true });
      } catch (err) {
        if (!failure(key, err)) throw err;
      }
    });
  };
  const save = () => {
    if (!request || !current || !canSave || !sinks) return;
    form.run(async () => {
      try {
        const saved = await api.saveAudit(request);
        setView(saved);
        reset(sinks, saved);
        setResult(null);
        toast(t('audit.saved'));
      } catch (err) {
        if (!failure(current, err)) throw err;
      }
    });
  };
  const turnOff = () => {
    setConfirmOff(false);
    form.run(async () => {
      setView(await api.disableAudit());
      toast(t('audit.turnedOff'));
    });
  };
  const edit = (name: string, value: string | boolean) => {
    setDrafts((all) => ({ ...all, [sink]: { ...all[sink], [name]: value } }));
    // the message was about the value that is gone
    if (form.fields[name]) form.setFields((fields) => Object.fromEntries(Object.entries(fields).filter(([k]) => k !== name)));
  };
  const choose = (type: string) => {
    setSink(type);
    form.setFields({});
  };

  const propertyNames = new Set(Object.keys(chosen?.schema.properties ?? {}));
  // the server names a property, the sink, or the config as a whole: what names no input shows above the form
  const formErrors = Object.entries(form.fields).filter(([name]) => name !== 'sink' && !propertyNames.has(name));

  return (
    <Page title={t('audit.title')}>
      <section class="card" aria-labelledby="audit-what-title">
        <h2 id="audit-what-title">{t('audit.whatTitle')}</h2>
        <p>{t('audit.what')}</p>
        <p>{t('audit.where')}</p>
      </section>
      {failed ? <Notice kind="error">{t('audit.loadFailed')}</Notice> : !sinks || !view ? <Loading /> : (
        <>
          {view.configured && (
            <Status view={view} sinks={sinks} busy={form.busy} refresh={() => refresh(false)}
              off={() => setConfirmOff(true)} />
          )}
          {sinks.length === 0 ? <Notice kind="warn">{t('audit.noSinks')}</Notice> : (
            <form class="card audit-form" onSubmit={test} aria-labelledby="audit-form-title" data-testid="audit-form">
              <h2 id="audit-form-title">{view.configured ? t('audit.changeTitle') : t('audit.setUpTitle')}</h2>
              {formErrors.map(([name, message]) => (
                <p key={name} class="field-error form-error" role="alert" data-field={name}>{message}</p>
              ))}
              <div class="field">
                <label for="audit-sink">{t('audit.sink')}</label>
                <select id="audit-sink" name="sink" value={sink} disabled={form.busy}
                  aria-invalid={form.fields.sink ? 'true' : undefined}
                  aria-describedby={chosen?.schema.description ? 'audit-sink-hint' : undefined}
                  onChange={(e) => choose((e.target as HTMLSelectElement).value)}>
                  {sinks.map((s) => <option key={s.type} value={s.type}>{s.schema.title || s.type}</option>)}
                </select>
                {chosen?.schema.description && <p class="hint" id="audit-sink-hint">{chosen.schema.description}</p>}
                {form.fields.sink && <p class="field-error" role="alert">{form.fields.sink}</p>}
              </div>
              {chosen && (
                <SchemaForm schema={chosen.schema} draft={draft} idPrefix="audit-field-" storedSecrets={secrets}
                  errors={form.fields} disabled={form.busy}
                  onField={edit} />
              )}
              <p class="hint">{t('audit.requiredHint')}</p>
              <TestOutcome result={result} current={current} />
              <div class="actions">
                <button type="submit" class="secondary" id="audit-test" disabled={form.busy}>
                  {form.busy ? t('audit.working') : t('audit.test')}
                </button>
                <button type="button" id="audit-save" disabled={!canSave} onClick={save}
                  aria-describedby="audit-save-hint">
                  {t('audit.save')}
                </button>
              </div>
              <p class="hint" id="audit-save-hint">{t('audit.saveHint')}</p>
            </form>
          )}
        </>
      )}
      <Confirm open={confirmOff} text={t('audit.confirmOff')} confirmLabel={t('audit.turnOff')}
        onConfirm={turnOff} onCancel={() => setConfirmOff(false)} />
    </Page>
  );
}
