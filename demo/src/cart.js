import { findProduct } from './catalogue.js';

export class Cart {
  constructor() {
    this.lines = [];
  }

  add(productId, quantity = 1) {
    this.lines.push({ productId, quantity });
  }

  // Bug: a line whose product left the catalogue has no price, and nobody checks.
  lineTotal(line) {
    return findProduct(line.productId).price.amount * line.quantity;
  }

  total() {
    return this.lines.reduce((sum, line) => sum + this.lineTotal(line), 0);
  }

  describe() {
    return this.lines.map((line) => `${line.quantity} × ${findProduct(line.productId)?.name ?? line.productId}`);
  }
}

export function formatPrice(cents) {
  return new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' }).format(cents / 100);
}
