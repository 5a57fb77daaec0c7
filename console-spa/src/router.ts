// Routes live in the hash (/console/#/logs?model=x) so the server serves one index.html for every page.
// wouter does the matching; these hooks tell it where the path and the query are in a hash URL.
import { useEffect, useState } from 'preact/hooks';

function current(): { path: string; search: string } {
  const hash = location.hash.replace(/^#/, '') || '/';
  const q = hash.indexOf('?');
  return q < 0 ? { path: hash, search: '' } : { path: hash.slice(0, q), search: hash.slice(q + 1) };
}

function useHashPart<K extends 'path' | 'search'>(part: K): string {
  const [value, setValue] = useState(current()[part]);
  useEffect(() => {
    const changed = () => setValue(current()[part]);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, [part]);
  return value;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) location.replace(`#${to}`);
  else location.hash = to;
}

export const useHashPath = (): [string, (to: string, options?: { replace?: boolean }) => void] => [
  useHashPart('path'),
  navigate,
];
export const useHashSearch = (): string => useHashPart('search');
export const hashHref = (href: string): string => `#${href}`;

/** The page's filters, read from and written to the hash query. */
export function useQuery(): [URLSearchParams, (next: Record<string, string | undefined>) => void] {
  const path = useHashPart('path');
  const params = new URLSearchParams(useHashPart('search'));
  const set = (next: Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v) q.set(k, v);
    const s = q.toString();
    navigate(s ? `${path}?${s}` : path);
  };
  return [params, set];
}

/** Where to go back to after signing in. */
export function currentHashPath(): string {
  return location.hash.replace(/^#/, '') || '/';
}
