import { Item } from "./item";

export interface CartLine {
  sku: string;
  qty: number;
}

export type Currency = "EUR" | "USD";

export enum Status {
  Open = "open",
  Paid = "paid",
}

/** A cart kept in memory; "{" in strings must not confuse the outline. */
export class CartStore {
  private lines: CartLine[] = [];
  static readonly brace = "}{";

  constructor(private readonly currency: Currency = "EUR") {}

  add(sku: string, qty = 1): void {
    const line = this.lines.find((l) => l.sku === sku);
    if (line) {
      line.qty += qty;
    } else {
      this.lines.push({ sku, qty });
    }
  }

  async checkout(pay: (total: number) => Promise<boolean>): Promise<Status> {
    const ok = await pay(this.count());
    return ok ? Status.Paid : Status.Open;
  }

  count(): number {
    return this.lines.reduce((n, l) => n + l.qty, 0);
  }
}

export const formatTotal = (amount: number, currency: Currency): string => {
  return `${amount.toFixed(2)} ${currency}`;
};

export function emptyStore(): CartStore {
  return new CartStore();
}
