// Live updates over the SockJS event-bus bridge at /api/eventbus: a short-lived token from /api/bridge-token is
// the header of the registration. The token expires, so a reconnect always starts with a fresh one.
import EventBus from '@vertx/eventbus-bridge-client.js';
import { api, type BillingMessage, type Generation } from './api';
import { billingArrived, generationArrived, liveConnected } from './store';

const MIN_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

let bus: EventBus | null = null;
let stopped = true;
let attempts = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

export function startLive(): void {
  if (!stopped) return;
  stopped = false;
  attempts = 0;
  connect();
}

export function stopLive(): void {
  stopped = true;
  clearTimeout(retryTimer);
  const old = bus;
  bus = null;
  old?.close();
  liveConnected.value = false;
}

async function connect(): Promise<void> {
  let grant: { token: string; address: string };
  try {
    grant = await api.bridgeToken();
  } catch {
    retry();
    return;
  }
  if (stopped) return;
  const next = new EventBus('/api/eventbus');
  bus = next;
  next.onopen = () => {
    next.registerHandler(grant.address, { token: grant.token }, (error, message) => {
      if (error) {
        next.close();
        return;
      }
      attempts = 0;
      liveConnected.value = true;
      dispatch(message.body);
    });
    liveConnected.value = true;
  };
  next.onclose = () => {
    if (bus !== next) return;
    bus = null;
    liveConnected.value = false;
    retry();
  };
}

/** One bridge message to the store: a metered request, or a top-up credited / a payment clawed back. */
export function dispatch(body: unknown): void {
  if (!body || typeof body !== 'object') return;
  const message = body as { type?: string; generation?: Generation; balance_usd?: string | null } & Partial<BillingMessage>;
  if (message.type === 'generation' && message.generation) {
    generationArrived(message.generation, message.balance_usd ?? undefined);
  } else if (message.type === 'billing') {
    billingArrived({ order_id: message.order_id ?? null, state: message.state ?? '', balance_usd: message.balance_usd ?? null });
  }
}

function retry(): void {
  if (stopped) return;
  const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempts) * (0.5 + Math.random() / 2);
  attempts++;
  retryTimer = setTimeout(connect, delay);
}
