import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError, type Fields } from './api';
import { language, t } from './i18n';
import { dismiss, toasts } from './store';

/** A form's state: busy while the request runs, the server's field errors, a message when it succeeded. */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [fields, setFields] = useState<Fields>({});
  const [done, setDone] = useState<string | null>(null);
  const run = async (work: () => Promise<string | null | void>) => {
    setBusy(true);
    setFields({});
    setDone(null);
    try {
      const message = await work();
      if (message) setDone(message);
    } catch (e) {
      if (e instanceof ApiError) setFields(e.fields);
      else throw e;
    } finally {
      setBusy(false);
    }
  };
  return { busy, fields, done, setFields, run };
}

interface FieldProps {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  type?: string;
  value: string;
  onInput: (value: string) => void;
  autocomplete?: string;
  required?: boolean;
  minLength?: number;
  placeholder?: string;
  inputMode?: 'decimal' | 'numeric' | 'text';
  min?: number;
  max?: number;
  testid?: string;
}

export function Field(props: FieldProps) {
  const describedBy = [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : '']
    .filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.id}
        type={props.type ?? 'text'}
        value={props.value}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        autocomplete={props.autocomplete}
        required={props.required}
        minLength={props.minLength}
        placeholder={props.placeholder}
        inputMode={props.inputMode}
        min={props.min}
        max={props.max}
        data-testid={props.testid}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={describedBy || undefined}
      />
      {props.hint && <p class="hint" id={`${props.id}-hint`}>{props.hint}</p>}
      {props.error && <p class="field-error" id={`${props.id}-error`} role="alert">{props.error}</p>}
    </div>
  );
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'error' | 'warn'; children: ComponentChildren }) {
  return <p class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>{children}</p>;
}

export function CopyButton({ text, testid }: { text: string; testid?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = document.createElement('textarea');
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  return (
    <button type="button" class="secondary" onClick={copy} data-testid={testid} aria-live="polite">
      {copied ? t('common.copied') : t('common.copy')}
    </button>
  );
}

/** A modal confirmation on the native <dialog> (focus trap and Escape come with it). */
export function Confirm(props: {
  open: boolean;
  text: string;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} onClose={props.onCancel} aria-labelledby="confirm-text">
      <p id="confirm-text">{props.text}</p>
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onCancel}>{t('common.cancel')}</button>
        <button type="button" class="danger" onClick={props.onConfirm} data-testid="confirm">
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function Toasts() {
  return (
    <div class="toasts" aria-live="polite">
      {toasts.value.map((toast) => (
        <div key={toast.id} class={`toast toast-${toast.kind}`} role={toast.kind === 'error' ? 'alert' : 'status'}>
          <span>{toast.text}</span>
          <button type="button" class="link" onClick={() => dismiss(toast.id)} aria-label={t('app.close')}>×</button>
        </div>
      ))}
    </div>
  );
}

export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: JSX.Element }) {
  useEffect(() => {
    document.title = `${title} · corouter`;
  }, [title]);
  return (
    <>
      <header class="page-head">
        <h1>{title}</h1>
        {actions}
      </header>
      {children}
    </>
  );
}

export function Loading() {
  return <p class="loading" role="status">{t('app.loading')}</p>;
}

const PALETTE = ['#2563eb', '#db2777', '#16a34a', '#ea580c', '#7c3aed', '#0891b2', '#ca8a04', '#475569'];

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

/** [min, max] of the x scale (Unix seconds): the days' span plus half a day each side, at least a week. */
function window7(xs: number[]): uPlot.Range.MinMax {
  const day = 86_400;
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  const half = Math.max(max - min, 6 * day) / 2 + day / 2;
  const mid = (min + max) / 2;
  return [mid - half, mid + half];
}

/** A line chart of daily values (uPlot); `days` are YYYY-MM-DD in UTC. */
export function DailyChart(props: { days: string[]; series: ChartSeries[]; label: string; money?: boolean; testid?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || props.days.length === 0) return;
    const xs = props.days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const format = (v: number | null) => (v === null ? '–' : props.money ? `$${v.toFixed(4)}` : String(v));
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 260,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        series: [
          { label: t('activity.date') },
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            points: { show: props.days.length < 40 },
            value: (_: uPlot, v: number | null) => format(v),
          })),
        ],
        // a fixed window of at least a week around the days: uPlot would pad a single day out to years
        scales: { x: { time: true, auto: false, range: window7(xs) } },
        // wide enough for small amounts ("$0.00015")
        axes: [{}, { size: 80, values: (_: uPlot, vals: number[]) => vals.map((v) => (props.money ? `$${v}` : String(v))) }],
      },
      [xs, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.days, props.series, props.money, language.value]);
  return <div class="chart" ref={box} role="img" aria-label={props.label} data-testid={props.testid} />;
}

/** Pivots rows of {date, <group>, value} into one series per group over every day in the rows. */
export function pivot<T extends { date: string }>(
  rows: T[],
  groupOf: (row: T) => string,
  valueOf: (row: T) => number,
): { days: string[]; series: ChartSeries[] } {
  const days = [...new Set(rows.map((r) => r.date))].sort();
  const index = new Map(days.map((d, i) => [d, i]));
  const groups = new Map<string, (number | null)[]>();
  for (const row of rows) {
    const g = groupOf(row);
    let values = groups.get(g);
    if (!values) {
      values = days.map(() => 0);
      groups.set(g, values);
    }
    values[index.get(row.date)!] = (values[index.get(row.date)!] ?? 0) + valueOf(row);
  }
  return { days, series: [...groups.entries()].map(([label, values]) => ({ label, values })) };
}
