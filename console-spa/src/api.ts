// The one module that talks to corouter's console API (docs/console-api.md). Nothing else calls fetch.
//
// One error path: 401 sends the visitor to the sign-in page, 403 shows the server's message, 400 with
// metadata.fields becomes field errors on the form that sent it; every failure is thrown as an ApiError.

export type Fields = Record<string, string>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Fields = {},
    /** `metadata.kind` of the answer, where the server classifies the failure (e.g. a failed audit test). */
    readonly kind: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What the error path does besides throwing; the app wires these to its router and toasts. */
export interface ErrorHooks {
  unauthorized(): void;
  notify(message: string): void;
}

let hooks: ErrorHooks = { unauthorized: () => {}, notify: () => {} };

export function setErrorHooks(next: ErrorHooks): void {
  hooks = next;
}

const CSRF_COOKIES = ['__Host-corouter_csrf', 'corouter_csrf'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The CSRF token the server set at sign-in, under its secure or its loopback name. */
export function csrfToken(cookies: string = document.cookie): string | null {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (CSRF_COOKIES.includes(name)) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

interface Options {
  body?: unknown;
  /** Answers with this status are the caller's to handle (e.g. 401 on sign-in means "wrong password"). */
  expect?: number[];
  /** Background calls (live updates) report nothing but a 401: they retry on their own. */
  silent?: boolean;
}

export async function request<T>(method: string, path: string, options: Options = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (!SAFE_METHODS.has(method)) {
    const token = csrfToken();
    if (token) headers['X-CSRF-Token'] = token;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    if (!options.silent) hooks.notify('network');
    throw new ApiError(0, 'network');
  }
  if (response.ok) {
    if (response.status === 204 || response.status === 202) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
  const failure = await errorOf(response);
  if (options.expect?.includes(response.status)) throw failure;
  if (response.status === 401) {
    hooks.unauthorized();
  } else if (response.status === 400 && Object.keys(failure.fields).length > 0) {
    // the form shows these next to its inputs
  } else if (!options.silent) {
    hooks.notify(failure.message);
  }
  throw failure;
}

async function errorOf(response: Response): Promise<ApiError> {
  let message = response.statusText || `HTTP ${response.status}`;
  let fields: Fields = {};
  let kind: string | null = null;
  try {
    const body = await response.json();
    if (body?.error?.message) message = String(body.error.message);
    const f = body?.error?.metadata?.fields;
    if (f && typeof f === 'object') fields = Object.fromEntries(Object.entries(f).map(([k, v]) => [k, String(v)]));
    if (typeof body?.error?.metadata?.kind === 'string') kind = body.error.metadata.kind;
  } catch {
    // not JSON: the status text is all there is
  }
  return new ApiError(response.status, message, fields, kind);
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- shapes (docs/console-api.md) ----

export interface Me {
  id: number;
  email: string;
  email_verified: boolean;
  display_name: string | null;
  locale: string | null;
  account_id: number;
  balance_usd: string;
  restricted: boolean;
  /** A reversed payment could not be clawed back in full: top-ups and the keys are refused until it is settled. */
  frozen?: boolean;
  created_at: string;
}
export interface Session {
  id: number | string;
  current: boolean;
  user_agent: string | null;
  ip: string | null;
  created_at: string;
  last_seen_at: string | null;
}
export type LimitReset = 'daily' | 'weekly' | 'monthly';
/** A key's spend limit and expiry, as the key routes read and answer them. */
export interface KeySettings {
  limit_usd: string | null;
  limit_reset: LimitReset | null;
  expires_at: string | null;
}
export interface Key extends KeySettings {
  id: number;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  disabled: boolean;
  usage_usd: string;
  requests: number;
}
export interface CreatedKey extends KeySettings {
  id: number;
  name: string;
  key: string;
  prefix: string;
  created_at: string;
  disabled: boolean;
}
export interface ActivityRow {
  date: string;
  model?: string;
  key_id?: number;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  usage_usd: string;
}
export interface Activity {
  data: ActivityRow[];
  totals: { requests: number; prompt_tokens: number; completion_tokens: number; usage_usd: string };
}
export interface Dashboard {
  balance_usd: string;
  spend_today_usd: string;
  spend_month_usd: string;
  requests_today: number;
  by_model_30d: { date: string; model: string; usage_usd: string }[];
}
export interface Generation {
  id: string;
  created_at: string;
  model: string;
  provider: string;
  key_id: number;
  streamed: boolean;
  status: string;
  finish_reason: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  usage_usd: string;
  latency_ms: number;
  api: string;
  provider_responses?: Record<string, unknown>[];
}
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
export interface BillingEntry {
  /** A number, or `usage-YYYY-MM-DD` for a day's usage. */
  id: number | string;
  kind: 'grant' | 'topup' | 'refund' | 'adjustment' | 'usage';
  amount_usd: string;
  reason: string | null;
  created_at: string;
  /** The order a `topup` or `refund` row belongs to (its receipt). */
  order_id?: string | number | null;
}
export interface Offer {
  key: string;
  price_usd: string;
  units_allowed: boolean;
  max_units: number | null;
}
export interface Offers {
  processor: string | null;
  offers: Offer[];
}
export type OrderState = 'pending' | 'paid' | 'failed' | 'expired' | 'refunded';
export interface OrderEvent {
  kind: 'paid' | 'refund' | 'dispute' | string;
  amount_usd: string;
  at: string;
}
export interface Order {
  id: string | number;
  state: OrderState;
  offer: string;
  product_id: string;
  units: number;
  amount_minor: number;
  currency: string;
  amount_text: string;
  credit_usd: string;
  clawed_back_usd: string;
  processor: string;
  checkout_id: string | null;
  processor_order_id: string | null;
  created_at: string;
  paid_at: string | null;
  events: OrderEvent[];
}
/** What the bridge sends after a top-up is credited or a payment is clawed back. */
export interface BillingMessage {
  order_id: string | number | null;
  state: OrderState | string;
  balance_usd: string | null;
}
/** One property of a sink's configuration schema: the part of JSON Schema the console renders. */
export interface SchemaProperty {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  items?: SchemaProperty;
  minimum?: number;
  maximum?: number;
  /** A credential: sent, never shown again (`secrets_set` says whether one is stored). */
  writeOnly?: boolean;
}
export interface ObjectSchema {
  title?: string;
  description?: string;
  properties?: Record<string, SchemaProperty>;
  required?: string[];
}
export interface AuditSinkType {
  type: string;
  schema: ObjectSchema;
}
export interface AuditStatus {
  delivered: number;
  dropped: number;
  last_error: string | null;
  last_error_at: string | null;
  last_delivered_at: string | null;
  /** From the node that delivers; absent when no node reports the queue. */
  queued_records?: number;
  spooled_batches?: number;
  spool_bytes?: number;
}
export type AuditConfig = Record<string, unknown>;
export type AuditView =
  | { configured: false; enabled: false }
  | {
    configured: true;
    enabled: boolean;
    sink: string;
    config: AuditConfig;
    secrets_set: string[];
    updated_at: string;
    status: AuditStatus;
  };
export interface AuditRequest {
  sink: string;
  config: AuditConfig;
}
export interface GenerationFilter {
  model?: string;
  key_id?: string;
  status?: string;
  cursor?: string;
  limit?: number;
}

// ---- calls ----

export const api = {
  signup: (body: { email: string; password: string; adult: boolean; policy_version: string; locale?: string }) =>
    request<{ user: Me; verification: string }>('POST', '/api/auth/signup', { body }),
  verify: (token: string) => request<{ verified: boolean }>('POST', '/api/auth/verify', { body: { token } }),
  login: (email: string, password: string) =>
    request<{ user: Me }>('POST', '/api/auth/login', { body: { email, password }, expect: [401, 429] }),
  logout: () => request<void>('POST', '/api/auth/logout'),
  requestReset: (email: string) => request<void>('POST', '/api/auth/password-reset', { body: { email } }),
  confirmReset: (token: string, password: string) =>
    request<void>('POST', '/api/auth/password-reset/confirm', { body: { token, password } }),

  me: (options: { silent?: boolean } = {}) => request<Me>('GET', '/api/me', options),
  updateMe: (body: { display_name?: string; locale?: string }) => request<Me>('PATCH', '/api/me', { body }),
  changeEmail: (email: string, password: string) =>
    request<void>('POST', '/api/me/email', { body: { email, password } }),
  changePassword: (current_password: string, new_password: string) =>
    request<void>('POST', '/api/me/password', { body: { current_password, new_password } }),

  sessions: () => request<{ data: Session[] }>('GET', '/api/sessions'),
  revokeSession: (id: Session['id']) => request<void>('DELETE', `/api/sessions/${encodeURIComponent(id)}`),

  keys: () => request<{ data: Key[] }>('GET', '/api/keys'),
  createKey: (name: string, settings: Partial<KeySettings> = {}) =>
    request<CreatedKey>('POST', '/api/keys', { body: { name, ...settings } }),
  setKeyDisabled: (id: number, disabled: boolean) =>
    request<Key>('PATCH', `/api/keys/${id}`, { body: { disabled } }),
  /** Changes the fields given (null clears one); the others stay. */
  updateKey: (id: number, settings: Partial<KeySettings>) =>
    request<Key>('PATCH', `/api/keys/${id}`, { body: settings }),
  deleteKey: (id: number) => request<void>('DELETE', `/api/keys/${id}`),

  activity: (from: string, to: string, group: string) =>
    request<Activity>('GET', `/api/activity${query({ from, to, group })}`),
  dashboard: () => request<Dashboard>('GET', '/api/dashboard'),
  generations: (filter: GenerationFilter) => request<Page<Generation>>('GET', `/api/generations${query({ ...filter })}`),
  generation: (id: string) => request<Generation>('GET', `/api/generations/${encodeURIComponent(id)}`),
  billing: (cursor?: string) =>
    request<Page<BillingEntry> & { balance_usd: string }>('GET', `/api/billing${query({ limit: 50, cursor })}`),
  offers: () => request<Offers>('GET', '/api/billing/offers'),
  topUp: (offer: string, units?: number) =>
    request<{ order: Order; checkout_url: string }>('POST', '/api/billing/top-ups', {
      body: units === undefined ? { offer } : { offer, units },
    }),
  orders: (cursor?: string) => request<Page<Order>>('GET', `/api/billing/orders${query({ limit: 20, cursor })}`),
  /** One order; a 404 (not this account's, or no such order) is the page's to show. `silent` for the poll. */
  order: (id: string, options: { silent?: boolean } = {}) =>
    request<Order>('GET', `/api/billing/orders/${encodeURIComponent(id)}`, { expect: [404], ...options }),

  auditSinks: () => request<{ data: AuditSinkType[] }>('GET', '/api/audit/sinks'),
  /** `silent` for the page's auto-refresh. */
  audit: (options: { silent?: boolean } = {}) => request<AuditView>('GET', '/api/audit', options),
  /** A failed test (422, with `kind`) is the page's to show, not a toast. */
  testAudit: (body: AuditRequest) => request<{ ok: true }>('POST', '/api/audit/test', { body, expect: [422] }),
  /** Tested again by the server and saved only if that passes; a stored credential left out is kept. */
  saveAudit: (body: AuditRequest) => request<AuditView>('PUT', '/api/audit', { body, expect: [422] }),
  disableAudit: () => request<AuditView>('DELETE', '/api/audit'),

  restrict: (restricted: boolean) => request<Me>('POST', '/api/privacy/restrict', { body: { restricted } }),
  deleteAccount: (password: string) => request<void>('POST', '/api/privacy/delete', { body: { password } }),
  /** The export as a file: fetched here (so it carries the session like every call) and handed to the browser. */
  exportData: async (): Promise<{ blob: Blob; filename: string }> => {
    let response: Response;
    try {
      response = await fetch('/api/privacy/export', { credentials: 'same-origin' });
    } catch {
      hooks.notify('network');
      throw new ApiError(0, 'network');
    }
    if (!response.ok) {
      const failure = await errorOf(response);
      if (response.status === 401) hooks.unauthorized();
      else hooks.notify(failure.message);
      throw failure;
    }
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const match = /filename="?([^";]+)"?/.exec(disposition);
    return { blob: await response.blob(), filename: match ? match[1] : 'corouter-export.json' };
  },
  bridgeToken: () => request<{ token: string; address: string }>('GET', '/api/bridge-token', { silent: true }),
};
