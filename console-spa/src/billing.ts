// The arithmetic and checks of the top-up form and the receipt, kept out of the components so tests can reach them.
// Money stays exact: decimal strings are scaled to BigInt nano-USD, never multiplied as binary fractions.
import { language } from './i18n';

const NANOS = 9;
const DECIMAL = /^(-?)(\d+)(?:\.(\d{1,9}))?$/;

/** A decimal USD string ("10.00", "0.000000001") as nano-USD; null when it is not one. */
export function toNanos(usd: string): bigint | null {
  const m = DECIMAL.exec(usd.trim());
  if (!m) return null;
  const nanos = BigInt(m[2]) * 10n ** BigInt(NANOS) + BigInt((m[3] ?? '').padEnd(NANOS, '0'));
  return m[1] === '-' ? -nanos : nanos;
}

/** Nano-USD back to a decimal string with nine decimals, as the API writes money. */
export function fromNanos(nanos: bigint): string {
  const negative = nanos < 0n;
  const abs = negative ? -nanos : nanos;
  const scale = 10n ** BigInt(NANOS);
  return `${negative ? '-' : ''}${abs / scale}.${(abs % scale).toString().padStart(NANOS, '0')}`;
}

/** What `units` of an offer priced `priceUsd` cost, exactly; null when the price is not a decimal string. */
export function totalUsd(priceUsd: string, units: number): string | null {
  const price = toNanos(priceUsd);
  return price === null ? null : fromNanos(price * BigInt(units));
}

/** `a + b` of two decimal USD strings, exactly; null when either is not one. */
export function addUsd(a: string, b: string): string | null {
  const x = toNanos(a);
  const y = toNanos(b);
  return x === null || y === null ? null : fromNanos(x + y);
}

export type UnitsCheck = { units: number } | { error: 'whole' | 'range' };

/**
 * The units typed into the top-up form: a whole number from 1 to `max` (no upper bound when the offer names none).
 * "2.5", "1e3", "" and "-1" are not whole numbers of units.
 */
export function parseUnits(text: string, max: number | null): UnitsCheck {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { error: 'whole' };
  const units = Number(trimmed);
  if (!Number.isSafeInteger(units) || units < 1 || (max !== null && units > max)) return { error: 'range' };
  return { units };
}

/** The currency's minor-unit digits (USD 2, JPY 0, KWD 3); null for a code Intl does not know. */
export function minorDigits(currency: string): number | null {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? null;
  } catch {
    return null;
  }
}

/**
 * An order's amount from its minor units ("1000" USD is $10.00), in the reader's language; the server's own text
 * (`fallback`) when the currency is not one Intl knows.
 */
export function minorAmount(amountMinor: number, currency: string, fallback: string): string {
  const digits = minorDigits(currency);
  if (digits === null || !Number.isSafeInteger(amountMinor)) return fallback;
  return new Intl.NumberFormat(language.value, {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(amountMinor / 10 ** digits);
}

/** Only an http(s) address may be where the browser goes to pay: never a javascript: or data: URL. */
export function isCheckoutUrl(url: unknown): url is string {
  if (typeof url !== 'string') return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:';
  } catch {
    return false;
  }
}

/** A decimal USD string as a person writes it: "5.000000000" is "5.00", "0.000100000" is "0.0001". */
export function plainUsd(usd: string): string {
  const m = DECIMAL.exec(usd.trim());
  if (!m) return usd;
  const decimals = (m[3] ?? '').replace(/0+$/, '').padEnd(2, '0');
  return `${m[1]}${m[2]}.${decimals}`;
}

/** A key's spend limit as typed: a non-negative decimal with at most nine decimals (the API's rule), or empty. */
export function isLimitUsd(text: string): boolean {
  return /^\d+(\.\d{1,9})?$/.test(text.trim());
}

/** An ISO instant as the value of a `datetime-local` input, in the browser's time zone ("2030-01-01T09:30"). */
export function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value (the browser's time zone) as an ISO instant; null when empty or not a time. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
