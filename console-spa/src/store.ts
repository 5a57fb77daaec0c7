// One store per concern: who is signed in, the live balance, the toasts.
import { signal } from '@preact/signals';
import type { BillingMessage, Generation, Me } from './api';

export const me = signal<Me | null>(null);
export const balance = signal<string | null>(null);
export const liveConnected = signal(false);

/** Generations that arrived over the bridge, newest first, for the pages that show a live list. */
type GenerationListener = (generation: Generation) => void;
const generationListeners = new Set<GenerationListener>();
export function onGeneration(listener: GenerationListener): () => void {
  generationListeners.add(listener);
  return () => generationListeners.delete(listener);
}
export function generationArrived(generation: Generation, balanceUsd: string | undefined): void {
  if (balanceUsd !== undefined) balance.value = balanceUsd;
  generationListeners.forEach((l) => l(generation));
}

/** Top-ups credited and payments clawed back, for the billing and order pages. */
type BillingListener = (message: BillingMessage) => void;
const billingListeners = new Set<BillingListener>();
export function onBilling(listener: BillingListener): () => void {
  billingListeners.add(listener);
  return () => billingListeners.delete(listener);
}
export function billingArrived(message: BillingMessage): void {
  if (message.balance_usd !== null && message.balance_usd !== undefined) balance.value = message.balance_usd;
  billingListeners.forEach((l) => l(message));
}

export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}
export const toasts = signal<Toast[]>([]);
let toastId = 0;
export function toast(text: string, kind: Toast['kind'] = 'info'): void {
  const id = ++toastId;
  toasts.value = [...toasts.value, { id, text, kind }];
  setTimeout(() => dismiss(id), 8000);
}
export function dismiss(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id);
}
