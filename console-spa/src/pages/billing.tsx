import { useEffect, useRef, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api, type BillingEntry, type Offer, type Offers, type Order, type OrderState } from '../api';
import { isCheckoutUrl, minorAmount, parseUnits, totalUsd } from '../billing';
import { Field, Loading, Notice, Page, useSubmit } from '../components';
import { dateTime, day, usd } from '../format';
import { t } from '../i18n';
import { balance, me, onBilling, toast } from '../store';

const POLL_MS = 2_000;
/** What the units input of an offer that allows them starts at (its maximum, if that is lower). */
const DEFAULT_UNITS = 10;

const orderHref = (id: string | number) => `/billing/orders/${encodeURIComponent(String(id))}`;

/**
 * Reads the balance and `frozen` again: a billing message may freeze the account, and after a payment the message may
 * have come before the page listened.
 */
export function refreshMe(): void {
  api.me({ silent: true }).then((m) => {
    me.value = m;
    balance.value = m.balance_usd;
  }).catch(() => {});
}

const BADGE: Record<OrderState, string> = {
  pending: 'warn',
  paid: 'ok',
  failed: 'error',
  expired: 'muted',
  refunded: 'error',
};

export function StateBadge({ state, testid }: { state: OrderState; testid?: string }) {
  return (
    <span class={`badge badge-${BADGE[state] ?? 'muted'}`} data-testid={testid} data-state={state}>
      {t(`order.states.${state}`)}
    </span>
  );
}

/** The order's amount from its minor units, with its currency code (the code tells apart $ of different lands). */
function paid(order: Order): string {
  return `${minorAmount(order.amount_minor, order.currency, order.amount_text)} ${order.currency}`;
}

function offerLabel(offer: Offer): string {
  return offer.units_allowed ? t('billing.customAmount') : usd(offer.price_usd);
}

/** Choose an offer (and, where it allows, how many units), then go to the processor's checkout to pay. */
function TopUp({ offers, onFailed }: { offers: Offers | null; onFailed: () => void }) {
  const [chosen, setChosen] = useState<string | null>(null);
  const [unitsText, setUnitsText] = useState(String(DEFAULT_UNITS));
  const form = useSubmit();
  const frozen = me.value?.frozen === true;
  const choose = (o: Offer) => {
    setChosen(o.key);
    if (o.units_allowed) setUnitsText(String(Math.min(DEFAULT_UNITS, o.max_units ?? DEFAULT_UNITS)));
  };
  useEffect(() => {
    if (offers && offers.offers.length > 0 && !offers.offers.some((o) => o.key === chosen)) choose(offers.offers[0]);
  }, [offers]);
  const offer = offers?.offers.find((o) => o.key === chosen) ?? null;
  const units = offer?.units_allowed ? parseUnits(unitsText, offer.max_units) : { units: 1 };
  const unitsError = 'error' in units
    ? t(`billing.units.${units.error}`, { max: offer?.max_units ?? '' })
    : form.fields.units;
  const total = offer && 'units' in units ? totalUsd(offer.price_usd, units.units) : null;
  const submit = (e: Event) => {
    e.preventDefault();
    if (!offer || !('units' in units) || frozen) return;
    form.run(async () => {
      try {
        const answer = await api.topUp(offer.key, offer.units_allowed ? units.units : undefined);
        if (!isCheckoutUrl(answer.checkout_url)) {
          toast(t('billing.badCheckout'), 'error');
          onFailed();
          return;
        }
        // off to the processor's page; it sends the browser back to /billing/return, then to the order's receipt
        window.location.assign(answer.checkout_url);
      } catch (failure) {
        onFailed(); // a refused checkout leaves a failed order behind: the list shows it
        throw failure;
      }
    });
  };
  return (
    <section class="card" id="top-up" data-testid="top-up" aria-labelledby="top-up-title">
      <h2 id="top-up-title">{t('billing.topUp')}</h2>
      {!offers ? <Loading /> : offers.processor === null || offers.offers.length === 0 ? (
        <Notice>
          <span data-testid="top-up-disabled">{t('billing.notEnabled')}</span>
        </Notice>
      ) : (
        <form onSubmit={submit} data-testid="top-up-form">
          {frozen && <Notice kind="warn"><span data-testid="frozen">{t('billing.frozen')}</span></Notice>}
          <fieldset class="offers" disabled={frozen || form.busy}>
            <legend>{t('billing.chooseAmount')}</legend>
            {offers.offers.map((o) => (
              <label key={o.key} class={o.key === chosen ? 'offer chosen' : 'offer'}>
                <input type="radio" name="offer" value={o.key} checked={o.key === chosen}
                  onChange={() => choose(o)} data-testid={`offer-${o.key}`} />
                <span class="offer-price">{offerLabel(o)}</span>
                {o.units_allowed && (
                  <span class="offer-hint">
                    {o.max_units !== null
                      ? t('billing.perUnitUpTo', { price: usd(o.price_usd), max: usd(totalUsd(o.price_usd, o.max_units)) })
                      : t('billing.perUnit', { price: usd(o.price_usd) })}
                  </span>
                )}
              </label>
            ))}
          </fieldset>
          {offer?.units_allowed && (
            <Field id="top-up-units" type="number" label={t('billing.unitsLabel', { price: usd(offer.price_usd) })}
              value={unitsText} onInput={setUnitsText} inputMode="numeric" min={1} max={offer.max_units ?? undefined}
              error={unitsError} testid="top-up-units" required />
          )}
          {form.fields.offer && <p class="field-error" role="alert">{form.fields.offer}</p>}
          <p class="top-up-total" data-testid="top-up-total">
            {total !== null ? t('billing.youPay', { amount: usd(total) }) : ' '}
          </p>
          <button type="submit" disabled={frozen || form.busy || !offer || !('units' in units)}
            data-testid="top-up-submit">
            {form.busy ? t('billing.redirecting') : t('billing.topUpSubmit')}
          </button>
          <p class="hint">{t('billing.checkoutHint', { processor: offers.processor })}</p>
        </form>
      )}
    </section>
  );
}

function Orders({ orders, cursor, more }: { orders: Order[] | null; cursor: string | null; more: () => void }) {
  return (
    <section aria-labelledby="orders-title">
      <h2 id="orders-title">{t('billing.orders')}</h2>
      {!orders ? <Loading /> : orders.length === 0 ? <p>{t('billing.noOrders')}</p> : (
        <div class="table-wrap">
          <table data-testid="orders-table">
            <thead>
              <tr>
                <th scope="col">{t('billing.date')}</th>
                <th scope="col">{t('order.receipt')}</th>
                <th scope="col" class="num">{t('order.amountPaid')}</th>
                <th scope="col" class="num">{t('order.credit')}</th>
                <th scope="col">{t('order.state')}</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.id} data-order-id={o.id} data-testid="orders-row">
                  <td class="nowrap">{dateTime(o.created_at)}</td>
                  <td><Link href={orderHref(o.id)}><code>{o.id}</code></Link></td>
                  <td class="num">{paid(o)}</td>
                  <td class="num">{usd(o.credit_usd)}</td>
                  <td><StateBadge state={o.state} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && <button type="button" class="secondary" onClick={more}>{t('common.more')}</button>}
    </section>
  );
}

function History({ rows, cursor, more }: { rows: BillingEntry[] | null; cursor: string | null; more: () => void }) {
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">{t('billing.history')}</h2>
      {!rows ? <Loading /> : rows.length === 0 ? <p>{t('common.none')}</p> : (
        <div class="table-wrap">
          <table data-testid="billing-table">
            <thead>
              <tr>
                <th scope="col">{t('billing.date')}</th>
                <th scope="col">{t('billing.kind')}</th>
                <th scope="col">{t('billing.reason')}</th>
                <th scope="col" class="num">{t('billing.amount')}</th>
                <th scope="col">{t('order.receipt')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.kind}-${r.id}`} data-kind={r.kind} data-testid="billing-row">
                  {/* a day's usage starts at 00:00 UTC: the day, not a local time that may name the day before */}
                  <td class="nowrap">{r.kind === 'usage' ? day(r.created_at) : dateTime(r.created_at)}</td>
                  <td class="nowrap">{t(`billing.kinds.${r.kind}`)}</td>
                  <td>{r.reason ?? (r.kind === 'usage' ? t('billing.usageDay') : '')}</td>
                  <td class={Number(r.amount_usd) < 0 ? 'num negative' : 'num'}>{usd(r.amount_usd, true)}</td>
                  <td>
                    {r.order_id !== undefined && r.order_id !== null && (
                      <Link href={orderHref(r.order_id)} data-testid="receipt-link" class="nowrap">{t('billing.viewReceipt')}</Link>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && <button type="button" class="secondary" onClick={more}>{t('common.more')}</button>}
    </section>
  );
}

export function Billing() {
  const [rows, setRows] = useState<BillingEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [ordersCursor, setOrdersCursor] = useState<string | null>(null);
  const [offers, setOffers] = useState<Offers | null>(null);
  const loadHistory = (from?: string) => api.billing(from).then((page) => {
    balance.value = page.balance_usd;
    setRows((current) => (from ? [...(current ?? []), ...page.data] : page.data));
    setCursor(page.next_cursor);
  }).catch(() => {});
  const loadOrders = (from?: string) => api.orders(from).then((page) => {
    setOrders((current) => (from ? [...(current ?? []), ...page.data] : page.data));
    setOrdersCursor(page.next_cursor);
  }).catch(() => {});
  useEffect(() => {
    loadHistory();
    loadOrders();
    api.offers().then(setOffers).catch(() => setOffers({ processor: null, offers: [] }));
    // a top-up credited or a payment clawed back elsewhere: the lists change (the shell reads `frozen` again)
    return onBilling(() => {
      loadHistory();
      loadOrders();
    });
  }, []);
  return (
    <Page title={t('billing.title')}>
      <div class="grid2 billing-top">
        <section class="card" aria-labelledby="balance-title">
          <h2 id="balance-title">{t('billing.balance')}</h2>
          <p class="big" data-testid="billing-balance" data-usd={balance.value ?? undefined}>{usd(balance.value)}</p>
        </section>
        <TopUp offers={offers} onFailed={() => loadOrders()} />
      </div>
      <Orders orders={orders} cursor={ordersCursor} more={() => ordersCursor && loadOrders(ordersCursor)} />
      <History rows={rows} cursor={cursor} more={() => cursor && loadHistory(cursor)} />
    </Page>
  );
}

const STATE_NOTICE: Record<OrderState, 'info' | 'warn' | 'error'> = {
  pending: 'info',
  paid: 'info',
  failed: 'error',
  expired: 'warn',
  refunded: 'warn',
};

/**
 * One order as a receipt, live while it is pending: a `billing` message for it fetches it again, and a poll every
 * two seconds does the same in case the bridge is down; both stop once it is settled or the page is left.
 */
export function OrderPage({ id }: { id: string }) {
  const [order, setOrder] = useState<Order | null>(null);
  const [missing, setMissing] = useState(false);
  const seen = useRef<OrderState | null>(null);
  const fetchOrder = (silent: boolean) => api.order(id, { silent }).then((o) => {
    setOrder(o);
    if (seen.current !== o.state) {
      seen.current = o.state;
      if (o.state !== 'pending') refreshMe();
    }
  }).catch((e) => {
    if (e?.status === 404) setMissing(true);
  });
  useEffect(() => {
    seen.current = null;
    setOrder(null);
    setMissing(false);
    fetchOrder(false);
    return onBilling((message) => {
      if (message.order_id === null || String(message.order_id) === id) fetchOrder(true);
    });
  }, [id]);
  const pending = order?.state === 'pending';
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => fetchOrder(true), POLL_MS);
    return () => clearInterval(timer);
  }, [pending, id]);
  const title = t('order.title', { id });
  return (
    <Page title={title} actions={order ? (
      <button type="button" class="secondary no-print" onClick={() => window.print()} data-testid="print-receipt">
        {t('order.print')}
      </button>
    ) : undefined}>
      <p class="no-print"><Link href="/billing">← {t('order.back')}</Link></p>
      {missing ? <Notice kind="error">{t('order.missing')}</Notice> : !order ? <Loading /> : (
        <>
          <Notice kind={STATE_NOTICE[order.state] ?? 'info'}>
            <span data-testid="order-notice">{t(`order.notices.${order.state}`, { credit: usd(order.credit_usd) })}</span>
          </Notice>
          {me.value?.frozen && <Notice kind="warn"><span data-testid="frozen">{t('billing.frozen')}</span></Notice>}
          <div class="receipt-grid">
            <dl class="details card receipt" data-testid="order-detail" data-order-id={order.id}>
              <dt>{t('order.receipt')}</dt><dd><code data-testid="order-id">{order.id}</code></dd>
              <dt>{t('order.state')}</dt><dd><StateBadge state={order.state} testid="order-state" /></dd>
              <dt>{t('order.date')}</dt><dd>{dateTime(order.created_at)}</dd>
              <dt>{t('order.paidAt')}</dt><dd>{order.paid_at ? dateTime(order.paid_at) : '–'}</dd>
              <dt>{t('order.product')}</dt><dd>{order.offer} <span class="hint-inline">({order.product_id})</span></dd>
              <dt>{t('order.units')}</dt><dd>{order.units}</dd>
              <dt>{t('order.amountPaid')}</dt>
              <dd data-testid="order-amount">{paid(order)} <span class="hint-inline">{t('order.beforeTax')}</span></dd>
              <dt>{t('order.credit')}</dt><dd data-testid="order-credit" data-usd={order.credit_usd}>{usd(order.credit_usd)}</dd>
              <dt>{t('order.clawedBack')}</dt><dd data-testid="order-clawed-back" data-usd={order.clawed_back_usd}>{usd(order.clawed_back_usd)}</dd>
              <dt>{t('order.processor')}</dt><dd>{order.processor}</dd>
              <dt>{t('order.checkoutId')}</dt><dd><code data-testid="order-checkout-id">{order.checkout_id ?? '–'}</code></dd>
              <dt>{t('order.processorOrderId')}</dt><dd><code>{order.processor_order_id ?? '–'}</code></dd>
            </dl>
            <section class="card receipt-balance" aria-labelledby="order-balance-title">
              <h2 id="order-balance-title">{t('billing.balance')}</h2>
              <p class="big" data-testid="order-balance" data-usd={balance.value ?? undefined}>{usd(balance.value)}</p>
              {pending && <p class="hint" role="status">{t('order.waiting')}</p>}
            </section>
          </div>
          <section aria-labelledby="order-events-title">
            <h2 id="order-events-title">{t('order.events')}</h2>
            {order.events.length === 0 ? <p>{t('order.noEvents')}</p> : (
              <div class="table-wrap">
                <table data-testid="order-events">
                  <thead>
                    <tr>
                      <th scope="col">{t('order.eventAt')}</th>
                      <th scope="col">{t('order.eventKind')}</th>
                      <th scope="col" class="num">{t('billing.amount')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {order.events.map((e, i) => (
                      <tr key={i}>
                        <td>{dateTime(e.at)}</td>
                        <td>{t(`order.eventKinds.${e.kind}`, { defaultValue: e.kind })}</td>
                        <td class={e.kind === 'paid' ? 'num' : 'num negative'}>{usd(e.amount_usd)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </Page>
  );
}
