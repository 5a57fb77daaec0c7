import i18next from 'i18next';
import { signal } from '@preact/signals';
import { en } from './en';
import { de } from './de';

type Strings<T> = { [K in keyof T]: T[K] extends string ? string : Strings<T[K]> };
/** Every language has exactly the English keys (the compiler checks the shape, test/i18n.test.ts the values). */
export type Messages = Strings<typeof en>;

export const LANGUAGES = { en, de } as const;
export type Language = keyof typeof LANGUAGES;

const COOKIE = 'corouter_locale';

/** The language in the cookie, else the browser's first supported one, else English. */
export function initialLanguage(): Language {
  const fromCookie = readLocaleCookie();
  if (fromCookie && fromCookie in LANGUAGES) return fromCookie as Language;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (base in LANGUAGES) return base as Language;
  }
  return 'en';
}

export function readLocaleCookie(): string | null {
  const match = document.cookie.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${COOKIE}=`));
  return match ? decodeURIComponent(match.slice(COOKIE.length + 1)) : null;
}

/** Bumped on every language change so components re-render with the new strings. */
export const language = signal<Language>('en');

export async function initI18n(): Promise<void> {
  const lng = initialLanguage();
  await i18next.init({
    lng,
    fallbackLng: 'en',
    resources: Object.fromEntries(Object.entries(LANGUAGES).map(([k, v]) => [k, { translation: v }])),
    interpolation: { escapeValue: false }, // Preact escapes text
    returnNull: false,
  });
  language.value = lng;
  document.documentElement.lang = lng;
}

/** The visitor picked a language: the only cookie the console itself sets. */
export async function chooseLanguage(lng: Language): Promise<void> {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${COOKIE}=${lng}; Max-Age=31536000; Path=/; SameSite=Lax${secure}`;
  await applyLanguage(lng);
}

export async function clearLanguageCookie(): Promise<void> {
  document.cookie = `${COOKIE}=; Max-Age=0; Path=/; SameSite=Lax`;
  await applyLanguage(initialLanguage());
}

async function applyLanguage(lng: Language): Promise<void> {
  await i18next.changeLanguage(lng);
  document.documentElement.lang = lng;
  language.value = lng;
}

/** Translate; reading `language.value` subscribes the calling component to language changes. */
export function t(key: string, options?: Record<string, unknown>): string {
  void language.value;
  return i18next.t(key, options) as string;
}
