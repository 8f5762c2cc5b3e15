// Stream's event subscriptions on an account (the emulator's), for tests of a gateway with and
// without Stream's events: they are account-wide, so a test that made one leaves it to the next.
// Plain fetch, so that both the workerd tests (through their outbound route) and the Node tests use it.

export interface StreamAccount {
  /** Up to …/client/v4. */
  apiBase: string;
  accountId: string;
  apiToken: string;
}

export interface Subscription {
  id: string;
  events: string[];
  destination: { queue_id: string };
}

const base = (account: StreamAccount) => `${account.apiBase}/accounts/${account.accountId}/event_subscriptions/subscriptions`;
const auth = (account: StreamAccount) => ({ authorization: `Bearer ${account.apiToken}` });

export async function eventSubscriptions(account: StreamAccount): Promise<Subscription[]> {
  const res = await fetch(base(account), { headers: auth(account) });
  if (!res.ok) throw new Error(`listing event subscriptions: ${res.status}`);
  return ((await res.json()) as { result: Subscription[] }).result;
}

export async function unsubscribe(account: StreamAccount, id: string): Promise<void> {
  const res = await fetch(`${base(account)}/${id}`, { method: "DELETE", headers: auth(account) });
  if (!res.ok) throw new Error(`deleting event subscription ${id}: ${res.status}`);
  await res.body?.cancel();
}

export async function unsubscribeAll(account: StreamAccount): Promise<void> {
  for (const { id } of await eventSubscriptions(account)) await unsubscribe(account, id);
}
