import { language } from './i18n';

/**
 * USD from the API's decimal string (display only; the exact value stays in the string): cents for sums, more digits
 * for the small amounts of single requests — and for any sum under a cent that is not zero, so a day of sub-cent
 * requests never reads "$0.00".
 */
export function usd(value: string | null | undefined, precise = false): string {
  if (value === null || value === undefined || value === '') return '–';
  const n = Number(value);
  const small = n !== 0 && Math.abs(n) < 0.01;
  return new Intl.NumberFormat(language.value, {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: 2,
    maximumFractionDigits: precise || small ? 6 : 2,
  }).format(n);
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : new Intl.NumberFormat(language.value).format(value);
}

export function dateTime(value: string | null | undefined): string {
  if (!value) return '–';
  return new Intl.DateTimeFormat(language.value, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(value));
}

export function day(value: string): string {
  return new Intl.DateTimeFormat(language.value, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(value));
}

/** YYYY-MM-DD in UTC, `offsetDays` from today. */
export function isoDay(offsetDays = 0): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + offsetDays);
  return d.toISOString().slice(0, 10);
}
