// The audit page's rules, apart from its rendering so they can be tested.
import type { AuditRequest, AuditStatus, AuditView } from './api';
import { canonicalJson } from './schema';

/** The outcome of the last "Test connection", for the exact request it tested. */
export type TestResult =
  | { key: string; ok: true }
  | { key: string; ok: false; message: string; kind: string | null };

/** Identifies a request by its content: same sink and same values (in any key order) give the same key. */
export function requestKey(request: AuditRequest): string {
  return canonicalJson({ sink: request.sink, config: request.config });
}

/**
 * Save is offered only after a passing test of exactly the values the form holds now: `current` is the key of the
 * form's request, or null while the form has values that cannot be sent; any edit after the test changes it.
 */
export function saveAllowed(result: TestResult | null, current: string | null): boolean {
  return result !== null && result.ok && current !== null && result.key === current;
}

/** The credentials stored for `sink`: only a stored configuration of that same sink keeps them. */
export function storedSecrets(view: AuditView | null, sink: string): string[] {
  return view?.configured && view.sink === sink ? view.secrets_set : [];
}

/** Records not yet delivered: those still being batched and the batches in the spool; null when no node reports. */
export function waiting(status: AuditStatus): { records: number; batches: number } | null {
  if (status.queued_records === undefined && status.spooled_batches === undefined) return null;
  return { records: status.queued_records ?? 0, batches: status.spooled_batches ?? 0 };
}
